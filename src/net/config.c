/* Configuration of the HTTP services: a JSON file, then the environment, then
 * command-line flags (the CLI applies those last). The API key itself is never
 * in the file: only the NAME of the environment variable holding it. */
#include "merx/csv.h"
#include "merx/http.h"
#include "util/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int copy_str(char *dst, size_t size, const char *src, const char *what, mx_error *err) {
  size_t n = strlen(src);
  if (n >= size) return mx_error_set(err, MX_EINVAL, "%s is too long (%zu bytes, max %zu)", what, n, size - 1);
  memcpy(dst, src, n + 1);
  return MX_OK;
}

typedef enum { K_STR, K_U32, K_INT, K_DBL, K_SIZE } kind;

typedef struct field {
  const char *name;
  kind k;
  size_t off;
  size_t size;
} field;

#define F(name, k, member) {name, k, offsetof(mx_http_config, member), sizeof(((mx_http_config *)0)->member)}
static const field fields[] = {
    F("base_url", K_STR, base_url),
    F("model", K_STR, model),
    F("chat_model", K_STR, chat_model),
    F("key_env", K_STR, key_env),
    F("batch_size", K_U32, batch_size),
    F("dimensions", K_U32, dimensions),
    F("connect_timeout", K_DBL, connect_timeout),
    F("timeout", K_DBL, timeout),
    F("max_retries", K_INT, max_retries),
    F("backoff_base", K_DBL, backoff_base),
    F("backoff_max", K_DBL, backoff_max),
    F("concurrency", K_INT, concurrency),
    F("max_response", K_SIZE, max_response),
    F("cache_dir", K_STR, cache_dir),
};
#undef F

/* Set a field from text (environment) or a JSON value (file). */
static int set_number(mx_http_config *cfg, const field *f, double v, const char *src,
                      mx_error *err) {
  char *p = (char *)cfg + f->off;
  int integral = f->k != K_DBL;
  /* an int field past INT_MAX would make the conversion below undefined */
  if (!isfinite(v) || v < 0 || (integral && v != floor(v)) || v > 4e9 * (f->k == K_SIZE ? 1e3 : 1) ||
      (f->k == K_INT && v > INT_MAX))
    return mx_error_set(err, MX_EINVAL, "%s: '%s' must be a non-negative %s", src, f->name,
                        integral ? "integer" : "number");
  switch (f->k) {
  case K_U32: *(uint32_t *)(void *)p = (uint32_t)v; break;
  case K_INT: *(int *)(void *)p = (int)v; break;
  case K_DBL: *(double *)(void *)p = v; break;
  case K_SIZE: *(size_t *)(void *)p = (size_t)v; break;
  default: break;
  }
  return MX_OK;
}

/* "webhook_credentials": {"HOST": {"key_env": "VAR", "header": "NAME", "scheme": "S"}}
 * (replaces any earlier list). The secret itself never goes in the file. */
static int load_credentials(mx_http_config *cfg, const char *path, json_t *v, mx_error *err) {
  const char *K = "webhook_credentials";
  if (!json_is_object(v))
    return mx_error_at(err, MX_EPARSE, path, 0, 0, K, "expected an object {\"host\": {\"key_env\": ...}}");
  if (json_object_size(v) > MX_HTTP_MAX_HOSTS)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, K, "at most %d hosts", MX_HTTP_MAX_HOSTS);
  cfg->n_credentials = 0;
  const char *host;
  json_t *o;
  json_object_foreach(v, host, o) {
    mx_http_credential *cr = &cfg->credentials[cfg->n_credentials++];
    memset(cr, 0, sizeof *cr);
    if (!*host || strlen(host) >= sizeof cr->host)
      return mx_error_at(err, MX_EPARSE, path, 0, 0, K, "'%s' is not a host name", host);
    memcpy(cr->host, host, strlen(host) + 1);
    if (!json_is_object(o))
      return mx_error_at(err, MX_EPARSE, path, 0, 0, K, "host '%s': expected an object", host);
    snprintf(cr->header, sizeof cr->header, "Authorization");
    int scheme_set = 0;
    const struct {
      const char *name;
      char *dst;
      size_t size;
    } parts[] = {{"key_env", cr->key_env, sizeof cr->key_env},
                 {"header", cr->header, sizeof cr->header},
                 {"scheme", cr->scheme, sizeof cr->scheme}};
    const char *k;
    json_t *s;
    json_object_foreach(o, k, s) {
      char *dst = NULL;
      size_t size = 0;
      for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strcmp(k, parts[i].name) == 0) dst = parts[i].dst, size = parts[i].size;
      if (!dst)
        return mx_error_at(err, MX_EPARSE, path, 0, 0, k,
                           "%s: host '%s': unknown key (known: key_env, header, scheme)", K, host);
      if (!json_is_string(s) || json_string_length(s) >= size)
        return mx_error_at(err, MX_EPARSE, path, 0, 0, k, "%s: host '%s': expected a string of at most %zu bytes",
                           K, host, size - 1);
      memcpy(dst, json_string_value(s), json_string_length(s) + 1);
      scheme_set |= dst == cr->scheme;
    }
    if (!cr->key_env[0])
      return mx_error_at(err, MX_EPARSE, path, 0, 0, "key_env",
                         "%s: host '%s': 'key_env' (the variable holding the secret) is required", K, host);
    int token = cr->header[0] != 0;
    for (const char *p = cr->header; *p; p++)
      token &= (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
    for (const char *p = cr->scheme; *p; p++)
      token &= *p > ' ' && *p < 127;
    if (!token)
      return mx_error_at(err, MX_EPARSE, path, 0, 0, "header",
                         "%s: host '%s': header name or scheme is not a single token", K, host);
    if (!scheme_set && strcasecmp(cr->header, "Authorization") == 0)
      snprintf(cr->scheme, sizeof cr->scheme, "Bearer");
  }
  return MX_OK;
}

int mx_http_config_load(mx_http_config *cfg, const char *path, mx_error *err) {
  json_error_t je;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return mx_error_at(err, errno == ENOENT && je.line <= 0 ? MX_EIO : MX_EPARSE, path, je.line > 0 ? je.line : 0,
                       je.column > 0 ? je.column : 0, NULL, "%s", je.text);
  if (!json_is_object(root)) {
    json_decref(root);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, NULL, "the config must be a JSON object");
  }
  int rc = MX_OK;
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    if (strcmp(key, "allow_hosts") == 0) {
      if (!json_is_array(v)) {
        rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key, "expected an array of host names");
        break;
      }
      if (json_array_size(v) > MX_HTTP_MAX_HOSTS) {
        rc = mx_error_at(err, MX_EINVAL, path, 0, 0, key, "at most %d hosts", MX_HTTP_MAX_HOSTS);
        break;
      }
      cfg->n_allow_hosts = 0;
      size_t i;
      json_t *h;
      json_array_foreach(v, i, h) {
        if (!json_is_string(h) || json_string_length(h) == 0 ||
            json_string_length(h) >= sizeof cfg->allow_hosts[0]) {
          rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key, "entry %zu is not a host name", i + 1);
          break;
        }
        memcpy(cfg->allow_hosts[cfg->n_allow_hosts++], json_string_value(h),
               json_string_length(h) + 1);
      }
      if (rc) break;
      continue;
    }
    if (strcmp(key, "webhook_credentials") == 0) {
      if ((rc = load_credentials(cfg, path, v, err))) break;
      continue;
    }
    if (strcmp(key, "allow_insecure") == 0) {
      if (!json_is_boolean(v)) {
        rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key, "expected true or false");
        break;
      }
      cfg->allow_insecure = json_is_true(v);
      continue;
    }
    const field *f = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      if (strcmp(fields[i].name, key) == 0) f = &fields[i];
    if (!f) {
      rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key,
                       "unknown key (known: base_url, model, chat_model, key_env, batch_size, "
                       "dimensions, connect_timeout, timeout, max_retries, backoff_base, "
                       "backoff_max, concurrency, max_response, cache_dir, allow_hosts, "
                       "allow_insecure, webhook_credentials)");
      break;
    }
    if (f->k == K_STR) {
      if (!json_is_string(v)) {
        rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key, "expected a string");
        break;
      }
      if ((rc = copy_str((char *)cfg + f->off, f->size, json_string_value(v), key, err))) break;
    } else {
      if (!json_is_number(v)) {
        rc = mx_error_at(err, MX_EPARSE, path, 0, 0, key, "expected a number");
        break;
      }
      if ((rc = set_number(cfg, f, json_number_value(v), path, err))) break;
    }
  }
  json_decref(root);
  return rc;
}

int mx_http_config_from_env(mx_http_config *cfg, mx_error *err) {
  static const struct {
    const char *var, *field;
  } map[] = {{"MERX_LLM_URL", "base_url"},         {"MERX_LLM_MODEL", "model"},
             {"MERX_LLM_CHAT_MODEL", "chat_model"}, {"MERX_LLM_KEY_ENV", "key_env"},
             {"MERX_LLM_DIMENSIONS", "dimensions"}, {"MERX_LLM_BATCH", "batch_size"},
             {"MERX_LLM_TIMEOUT", "timeout"},       {"MERX_LLM_CACHE", "cache_dir"}};
  for (size_t m = 0; m < sizeof map / sizeof map[0]; m++) {
    const char *val = getenv(map[m].var);
    if (!val || !*val) continue;
    const field *f = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      if (strcmp(fields[i].name, map[m].field) == 0) f = &fields[i];
    int rc;
    if (f->k == K_STR) {
      rc = copy_str((char *)cfg + f->off, f->size, val, map[m].var, err);
    } else {
      double d;
      if (mx_parse_double(val, &d) != 0)
        return mx_error_set(err, MX_EINVAL, "environment variable %s: not a number: '%s'",
                            map[m].var, val);
      rc = set_number(cfg, f, d, map[m].var, err);
    }
    if (rc) return rc;
  }
  return MX_OK;
}
