/* OpenAI-compatible embeddings and chat completions over the HTTP client.
 *
 * Embeddings: texts are looked up in the cache, identical texts are sent once,
 * the rest go out in batches of cfg.batch_size, all batches concurrently. A
 * batch's answer is accepted only when it is valid JSON with exactly one
 * finite vector per input (by "index"), all of one dimension (cfg.dimensions
 * when set); only then are its vectors cached. */
#include "merx/idmap.h"
#include "merx/http.h"
#include "net/internal.h"
#include "util/util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int url_join(const char *base, const char *path, char **out, mx_error *err) {
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/') n--;
  if (n == 0) return mx_error_set(err, MX_EINVAL, "no server configured (base_url is empty)");
  size_t m = n + strlen(path) + 2;
  char *u = malloc(m);
  if (!u) return mx_error_set(err, MX_ENOMEM, "out of memory");
  snprintf(u, m, "%.*s/%s", (int)n, base, path);
  *out = u;
  return MX_OK;
}

typedef struct batch {
  size_t first, count; /* range in the unique-miss list */
  char *body;
  float *vecs; /* count x dim after parsing */
} batch;

/* Parses a server's answer body as JSON, or says where it is not. */
static int load_answer(const char *url, const char *body, size_t len, json_t **root, mx_error *err) {
  json_error_t je;
  *root = json_loadb(body, len, 0, &je);
  if (!*root)
    return mx_error_set(err, MX_ENET, "%s: the server's answer is not valid JSON (%s, at byte %d)",
                        url, je.text, je.position);
  return MX_OK;
}

int mx__openai_parse_embeddings(const char *url, const char *body, size_t len, size_t count,
                               uint32_t want_dim, uint32_t *dim, float **vecs, mx_error *err) {
  *vecs = NULL;
  json_t *root;
  int jrc = load_answer(url, body, len, &root, err);
  if (jrc != MX_OK) return jrc;
  int rc = MX_OK;
  float *v = NULL;
  unsigned char *seen = calloc(count ? count : 1, 1);
  json_t *data = json_object_get(root, "data");
  if (!seen) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (!json_is_array(data)) {
    json_t *e = json_object_get(root, "error");
    json_t *msg = json_is_object(e) ? json_object_get(e, "message") : NULL;
    char ex[256] = "";
    if (json_is_string(msg)) mx__http_error_excerpt(json_string_value(msg), json_string_length(msg), ex, sizeof ex);
    rc = mx_error_set(err, MX_EFORMAT, "%s: the answer has no \"data\" array%s%s", url,
                      ex[0] ? ": " : "", ex);
    goto done;
  }
  if (json_array_size(data) != count) {
    rc = mx_error_set(err, MX_EFORMAT,
                      "%s: batch partially failed: %zu embeddings returned for %zu inputs",
                      url, json_array_size(data), count);
    goto done;
  }
  size_t pos;
  json_t *item;
  json_array_foreach(data, pos, item) {
    json_t *emb = json_object_get(item, "embedding");
    json_t *ix = json_object_get(item, "index");
    if (!json_is_array(emb) || json_array_size(emb) == 0) {
      rc = mx_error_set(err, MX_EFORMAT, "%s: entry %zu has no \"embedding\" array", url, pos);
      goto done;
    }
    size_t i = pos;
    if (ix) {
      if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
          (size_t)json_integer_value(ix) >= count || seen[json_integer_value(ix)]) {
        rc = mx_error_set(err, MX_EFORMAT, "%s: entry %zu has a missing, repeated or out-of-range \"index\"",
                          url, pos);
        goto done;
      }
      i = (size_t)json_integer_value(ix);
    } else if (seen[i]) {
      /* an entry without "index" stands at its position, which an earlier
       * entry may already have claimed (leaving another row unset) */
      rc = mx_error_set(err, MX_EFORMAT, "%s: entry %zu has a missing, repeated or out-of-range \"index\"",
                        url, pos);
      goto done;
    }
    seen[i] = 1;
    size_t d = json_array_size(emb);
    if (*dim == 0) {
      if (want_dim && d != want_dim) {
        rc = mx_error_set(err, MX_EFORMAT,
                          "%s: wrong embedding dimension: got %zu, configured dimensions %u",
                          url, d, want_dim);
        goto done;
      }
      *dim = (uint32_t)d;
    }
    if (d != *dim) {
      rc = mx_error_set(err, MX_EFORMAT, "%s: wrong embedding dimension: entry %zu has %zu, expected %u",
                        url, pos, d, *dim);
      goto done;
    }
    if (!v) {
      v = malloc(count * (size_t)*dim * sizeof *v);
      if (!v) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto done;
      }
    }
    size_t k;
    json_t *x;
    json_array_foreach(emb, k, x) {
      double f = json_number_value(x);
      if (!json_is_number(x) || !isfinite(f) || fabs(f) > 3.0e38) {
        rc = mx_error_set(err, MX_EFORMAT, "%s: entry %zu, component %zu is not a finite number",
                          url, pos, k);
        goto done;
      }
      v[i * *dim + k] = (float)f;
    }
  }
done:
  json_decref(root);
  free(seen);
  if (rc) {
    free(v);
    return rc;
  }
  *vecs = v;
  return MX_OK;
}

int mx_openai_embed(mx_http_client *c, const char *const *texts, size_t n, float **out,
                    uint32_t *dim_out, size_t *sent, mx_error *err) {
  const mx_http_config *cfg = mx_http_client_config(c);
  *out = NULL;
  *dim_out = 0;
  if (sent) *sent = 0;
  if (!cfg->model[0]) return mx_error_set(err, MX_EINVAL, "no embedding model configured");
  int rc = MX_OK;
  char *url = NULL;
  uint32_t dim = cfg->dimensions;
  /* Per text: its unique key index; per unique key: its vector (or NULL). */
  mx_idmap *keys = mx_idmap_create();
  uint32_t *uidx = malloc((n ? n : 1) * sizeof *uidx);
  float **uvec = NULL;
  size_t *miss = NULL, nmiss = 0;
  batch *b = NULL;
  mx_http_request *reqs = NULL;
  size_t nb = 0;
  if (!keys || !uidx) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    char *k;
    size_t kl;
    if (mx__embed_cache_key(cfg->model, cfg->dimensions, texts[i], &k, &kl)) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    int64_t ix = mx_idmap_intern(keys, k, kl);
    free(k);
    if (ix < 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    uidx[i] = (uint32_t)ix;
  }
  size_t nu = mx_idmap_size(keys);
  uvec = calloc(nu ? nu : 1, sizeof *uvec);
  miss = malloc((nu ? nu : 1) * sizeof *miss);
  if (!uvec || !miss) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t u = 0; u < nu; u++) {
    const char *k = mx_idmap_name(keys, (uint32_t)u);
    uint32_t d = 0;
    if (cfg->cache_dir[0] && mx__embed_cache_get(cfg->cache_dir, k, strlen(k), &uvec[u], &d)) {
      if (dim == 0) dim = d;
      if (d == dim) continue;
      free(uvec[u]); /* cached under another dimension: ask again */
      uvec[u] = NULL;
    }
    miss[nmiss++] = u;
  }
  if (nmiss > 0) {
    if ((rc = url_join(cfg->base_url, "embeddings", &url, err))) goto done;
    nb = (nmiss + cfg->batch_size - 1) / cfg->batch_size;
    b = calloc(nb, sizeof *b);
    reqs = calloc(nb, sizeof *reqs);
    if (!b || !reqs) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < nb; j++) {
      b[j].first = j * cfg->batch_size;
      b[j].count = nmiss - b[j].first < cfg->batch_size ? nmiss - b[j].first : cfg->batch_size;
      json_t *body = json_object(), *input = json_array();
      for (size_t m = 0; m < b[j].count; m++) {
        /* The text is the part of the key after the second separator. */
        const char *k = mx_idmap_name(keys, (uint32_t)miss[b[j].first + m]);
        const char *t = strchr(strchr(k, '\x1f') + 1, '\x1f') + 1;
        json_array_append_new(input, json_string(t));
      }
      json_object_set_new(body, "model", json_string(cfg->model));
      json_object_set_new(body, "input", input);
      json_object_set_new(body, "encoding_format", json_string("float"));
      if (cfg->dimensions) json_object_set_new(body, "dimensions", json_integer(cfg->dimensions));
      b[j].body = json_dumps(body, JSON_COMPACT);
      json_decref(body);
      if (!b[j].body) {
        rc = mx_error_set(err, MX_EINVAL, "a text is not valid UTF-8 or memory ran out");
        goto done;
      }
      reqs[j].url = url;
      reqs[j].body = b[j].body;
      reqs[j].body_len = strlen(b[j].body);
    }
    int prc = mx_http_perform(c, reqs, nb, err);
    if (sent) *sent = nmiss;
    /* Validate every answered batch; cache the valid ones even when another
     * batch failed, so a rerun only resends what is missing. */
    int first_rc = prc, cache_rc = MX_OK;
    mx_error perr, cache_err;
    mx_error_clear(&cache_err);
    mx_error_clear(&perr);
    for (size_t j = 0; j < nb; j++) {
      if (reqs[j].rc != MX_OK) continue;
      mx_error e2;
      mx_error_clear(&e2);
      uint32_t d = dim;
      int r2 = mx__openai_parse_embeddings(url, reqs[j].response, reqs[j].response_len, b[j].count,
                                          cfg->dimensions, &d, &b[j].vecs, &e2);
      if (r2 == MX_OK && dim && d != dim)
        r2 = mx_error_set(&e2, MX_EFORMAT, "%s: wrong embedding dimension: %u, expected %u",
                          url, d, dim);
      if (r2 != MX_OK) {
        free(b[j].vecs);
        b[j].vecs = NULL;
        if (first_rc == MX_OK) {
          first_rc = r2;
          perr = e2;
        }
        continue;
      }
      dim = d;
      for (size_t m = 0; m < b[j].count; m++) {
        size_t u = miss[b[j].first + m];
        const char *k = mx_idmap_name(keys, (uint32_t)u);
        if (cfg->cache_dir[0] && cache_rc == MX_OK) {
          cache_rc = mx__embed_cache_put(cfg->cache_dir, k, strlen(k), b[j].vecs + m * dim, dim,
                                        &cache_err);
        }
      }
    }
    if (prc != MX_OK) {
      rc = prc;
      goto done;
    }
    if (first_rc == MX_OK && cache_rc != MX_OK) {
      first_rc = cache_rc;
      perr = cache_err;
    }
    if (first_rc != MX_OK) {
      rc = first_rc;
      if (err) *err = perr;
      goto done;
    }
  }
  if (n > 0 && dim == 0) {
    rc = mx_error_set(err, MX_EFORMAT, "no embedding dimension known");
    goto done;
  }
  float *o = malloc((n ? n : 1) * (size_t)(dim ? dim : 1) * sizeof *o);
  if (!o) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* Where each unique miss landed: batch j, row m. */
  for (size_t j = 0; j < nb; j++)
    for (size_t m = 0; m < b[j].count; m++) uvec[miss[b[j].first + m]] = b[j].vecs + m * dim;
  for (size_t i = 0; i < n; i++) memcpy(o + i * dim, uvec[uidx[i]], (size_t)dim * sizeof *o);
  /* Cached vectors were malloc'd one by one; batch vectors belong to b. */
  for (size_t j = 0; j < nb; j++)
    for (size_t m = 0; m < b[j].count; m++) uvec[miss[b[j].first + m]] = NULL;
  *out = o;
  *dim_out = dim;
done:
  if (uvec)
    for (size_t u = 0; u < mx_idmap_size(keys); u++) free(uvec[u]);
  for (size_t j = 0; b && j < nb; j++) {
    free(b[j].body);
    free(b[j].vecs);
    if (reqs) mx_http_request_clear(&reqs[j]);
  }
  free(b);
  free(reqs);
  free(url);
  free(uvec);
  free(miss);
  free(uidx);
  mx_idmap_free(keys);
  return rc;
}

int mx__openai_parse_chat(const char *url, const char *body, size_t len, char **reply,
                         mx_error *err) {
  *reply = NULL;
  json_t *root;
  int jrc = load_answer(url, body, len, &root, err);
  if (jrc != MX_OK) return jrc;
  int rc = MX_OK;
  json_t *ch = json_object_get(root, "choices");
  json_t *c0 = json_is_array(ch) ? json_array_get(ch, 0) : NULL;
  json_t *msg = json_is_object(c0) ? json_object_get(c0, "message") : NULL;
  json_t *content = json_is_object(msg) ? json_object_get(msg, "content") : NULL;
  if (!json_is_string(content)) {
    rc = mx_error_set(err, MX_EFORMAT, "%s: the answer has no choices[0].message.content", url);
  } else {
    *reply = mx__strdup(json_string_value(content));
    if (!*reply) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  json_decref(root);
  return rc;
}

int mx_openai_chat(mx_http_client *c, const mx_chat_message *messages, size_t n,
                   double temperature, int max_tokens, char **reply, mx_error *err) {
  const mx_http_config *cfg = mx_http_client_config(c);
  *reply = NULL;
  const char *model = cfg->chat_model[0] ? cfg->chat_model : cfg->model;
  if (!model[0]) return mx_error_set(err, MX_EINVAL, "no chat model configured");
  if (n == 0) return mx_error_set(err, MX_EINVAL, "chat needs at least one message");
  char *url = NULL;
  int rc = url_join(cfg->base_url, "chat/completions", &url, err);
  if (rc) return rc;
  json_t *body = json_object(), *msgs = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string(messages[i].role));
    json_object_set_new(m, "content", json_string(messages[i].content));
    json_array_append_new(msgs, m);
  }
  json_object_set_new(body, "model", json_string(model));
  json_object_set_new(body, "messages", msgs);
  if (temperature >= 0) json_object_set_new(body, "temperature", json_real(temperature));
  if (max_tokens > 0) json_object_set_new(body, "max_tokens", json_integer(max_tokens));
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!text) {
    free(url);
    return mx_error_set(err, MX_EINVAL, "a message is not valid UTF-8 or memory ran out");
  }
  mx_http_request r;
  memset(&r, 0, sizeof r);
  r.url = url;
  r.body = text;
  r.body_len = strlen(text);
  rc = mx_http_perform(c, &r, 1, err);
  if (rc == MX_OK) rc = mx__openai_parse_chat(url, r.response, r.response_len, reply, err);
  mx_http_request_clear(&r);
  free(text);
  free(url);
  return rc;
}
