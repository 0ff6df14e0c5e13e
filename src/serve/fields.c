/* Reading request bodies: strict field names and typed getters whose
 * errors name the field, so a client gets "field 'k': expected an integer in
 * [1, 1000]" with a 400 instead of a silent default. */
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"
#include "util/util.h"

int mx__serve_check_fields(const json_t *obj, const char *known, mx_error *err) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    size_t kl = strlen(key);
    int found = 0;
    for (const char *p = known; *p && !found;) {
      while (*p == ' ') p++;
      size_t wl = strcspn(p, " ");
      found = wl == kl && wl && strncmp(p, key, kl) == 0;
      p += wl;
    }
    if (found) continue;
    size_t nl;
    const char *near = mx__closest_word(key, kl, known, &nl);
    char list[512];
    if (near)
      return mx_error_set(err, MX_EINVAL, "unknown field '%.100s' (did you mean '%.*s'?)", key,
                          (int)nl, near);
    return mx_error_set(err, MX_EINVAL, "unknown field '%.100s' (fields: %s)", key,
                        mx__words_join(known, list, sizeof list));
  }
  return MX_OK;
}

int mx__serve_get_int(const json_t *obj, const char *name, long def, long lo, long hi, long *out,
                     mx_error *err) {
  const json_t *v = json_object_get(obj, name);
  if (!v || json_is_null(v)) {
    *out = def;
    return MX_OK;
  }
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return mx_error_set(err, MX_EINVAL, "field '%s': expected an integer in [%ld, %ld]", name, lo,
                        hi);
  *out = (long)json_integer_value(v);
  return MX_OK;
}

int mx__serve_get_bool(const json_t *obj, const char *name, int def, int *out, mx_error *err) {
  const json_t *v = json_object_get(obj, name);
  if (!v || json_is_null(v)) {
    *out = def;
    return MX_OK;
  }
  if (!json_is_boolean(v))
    return mx_error_set(err, MX_EINVAL, "field '%s': expected true or false", name);
  *out = json_is_true(v);
  return MX_OK;
}

/* An id: a string, or an integer written as its decimal text. */
static const char *id_text(const json_t *v, char *buf, size_t size) {
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) {
    snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    return buf;
  }
  return NULL;
}

int mx__serve_get_id(const json_t *obj, const char *name, int required, char *buf, size_t size,
                    const char **out, mx_error *err) {
  *out = NULL;
  const json_t *v = json_object_get(obj, name);
  if (!v || json_is_null(v)) {
    if (required) return mx_error_set(err, MX_EINVAL, "field '%s' is required", name);
    return MX_OK;
  }
  if (!(*out = id_text(v, buf, size)))
    return mx_error_set(err, MX_EINVAL, "field '%s': expected an id (a string or an integer)",
                        name);
  return MX_OK;
}

int mx__serve_get_id_list(const json_t *obj, const char *name, const mx_idmap *map, uint32_t **ids,
                         uint32_t *n, uint32_t *unknown, int *present, mx_error *err) {
  *ids = NULL;
  *n = 0;
  *unknown = 0;
  *present = 0;
  const json_t *v = json_object_get(obj, name);
  if (!v || json_is_null(v)) return MX_OK;
  if (!json_is_array(v))
    return mx_error_set(err, MX_EINVAL, "field '%s': expected a list of ids", name);
  *present = 1;
  size_t len = json_array_size(v);
  if (len > 1000000)
    return mx_error_set(err, MX_EINVAL, "field '%s': at most 1000000 ids", name);
  uint32_t *out = malloc((len ? len : 1) * sizeof *out);
  if (!out) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < len; i++) {
    char buf[32];
    const char *id = id_text(json_array_get(v, i), buf, sizeof buf);
    if (!id) {
      free(out);
      return mx_error_set(err, MX_EINVAL, "field '%s'[%zu]: expected an id (a string or an integer)",
                          name, i);
    }
    int64_t x = mx_idmap_find(map, id, strlen(id));
    if (x < 0) (*unknown)++;
    else out[(*n)++] = (uint32_t)x;
  }
  *ids = out;
  return MX_OK;
}
