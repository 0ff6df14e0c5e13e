/* libFuzzer target: what merx reads back from HTTP servers and the HTTP
 * configuration, on arbitrary bytes:
 *   - the OpenAI embeddings answer (mx__openai_parse_embeddings) for batches
 *     of 0..3 inputs, with and without a configured dimension;
 *   - the chat completion answer (mx__openai_parse_chat);
 *   - the excerpt of an error body quoted in messages (mx__http_error_excerpt);
 *   - the JSON configuration file (mx_http_config_load).
 * Invariants: an error has a negative code, a non-empty message and no
 * output; a parsed embeddings answer has exactly count rows of the declared
 * dimension, every value finite and equal to the one the answer gives for
 * that row (checked here against jansson directly); a chat reply equals
 * choices[0].message.content; an excerpt is short, single-line and
 * terminated. Leaks are caught by ASan. Replayed over tests/fuzz/corpus/json
 * by ctest (fuzz_json). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "merx/http.h"
#include "net/internal.h"

#define URL "http://127.0.0.1:9/v1/embeddings"

static void check_error(int rc, const mx_error *err) {
  if (rc >= 0 || err->message[0] == '\0') __builtin_trap();
}

/* The value the answer gives for row i, component k (the independent
 * reading the parser's output is compared with). */
static int expected(json_t *root, size_t i, size_t k, double *out) {
  json_t *data = json_object_get(root, "data");
  size_t pos;
  json_t *item;
  json_array_foreach(data, pos, item) {
    json_t *ix = json_object_get(item, "index");
    size_t row = ix ? (size_t)json_integer_value(ix) : pos;
    if (row != i) continue;
    json_t *x = json_array_get(json_object_get(item, "embedding"), k);
    if (!json_is_number(x)) return -1;
    *out = json_number_value(x);
    return 0;
  }
  return -1;
}

static void embeddings(const uint8_t *data, size_t size, size_t count, uint32_t want_dim) {
  mx_error err;
  mx_error_clear(&err);
  uint32_t dim = 0;
  float *v = (float *)1; /* must be overwritten either way */
  int rc = mx__openai_parse_embeddings(URL, (const char *)data, size, count, want_dim, &dim, &v, &err);
  if (rc != MX_OK) {
    check_error(rc, &err);
    if (v) __builtin_trap();
    return;
  }
  if (count == 0) {
    if (v) __builtin_trap();
    return;
  }
  if (!v || dim == 0 || (want_dim && dim != want_dim)) __builtin_trap();
  json_t *root = json_loadb((const char *)data, size, 0, NULL);
  if (!root) __builtin_trap();
  for (size_t i = 0; i < count; i++)
    for (size_t k = 0; k < dim; k++) {
      double want;
      float got = v[i * dim + k];
      if (!isfinite(got) || expected(root, i, k, &want) != 0 || got != (float)want)
        __builtin_trap();
    }
  json_decref(root);
  free(v);
}

static void chat(const uint8_t *data, size_t size) {
  mx_error err;
  mx_error_clear(&err);
  char *reply = (char *)1;
  int rc = mx__openai_parse_chat(URL, (const char *)data, size, &reply, &err);
  if (rc != MX_OK) {
    check_error(rc, &err);
    if (reply) __builtin_trap();
    return;
  }
  json_t *root = json_loadb((const char *)data, size, 0, NULL);
  json_t *content = json_object_get(
      json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message"), "content");
  if (!reply || !json_is_string(content) || strcmp(reply, json_string_value(content)) != 0)
    __builtin_trap();
  json_decref(root);
  free(reply);
}

static void excerpt(const uint8_t *data, size_t size) {
  static const size_t sizes[] = {1, 4, 5, 16, 256};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    char out[256];
    memset(out, 'x', sizeof out);
    mx__http_error_excerpt((const char *)data, size, out, sizes[s]);
    size_t n = strnlen(out, sizes[s]);
    if (n >= sizes[s] || n > 203) __builtin_trap();
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)out[i] < 32 || out[i] == 127) __builtin_trap();
  }
}

static void config(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_file("config.json", data, size, path, sizeof path);
  if (fd < 0) return;
  mx_http_config cfg = mx_http_config_defaults();
  mx_error err;
  mx_error_clear(&err);
  int rc = mx_http_config_load(&cfg, path, &err);
  close(fd);
  if (rc != MX_OK) {
    check_error(rc, &err);
    return;
  }
  /* every string field stays terminated within its buffer */
  if (!memchr(cfg.base_url, 0, sizeof cfg.base_url) || !memchr(cfg.model, 0, sizeof cfg.model) ||
      !memchr(cfg.chat_model, 0, sizeof cfg.chat_model) ||
      !memchr(cfg.key_env, 0, sizeof cfg.key_env) ||
      !memchr(cfg.cache_dir, 0, sizeof cfg.cache_dir) || cfg.n_allow_hosts < 0 ||
      cfg.n_allow_hosts > MX_HTTP_MAX_HOSTS)
    __builtin_trap();
  for (int i = 0; i < cfg.n_allow_hosts; i++)
    if (!memchr(cfg.allow_hosts[i], 0, sizeof cfg.allow_hosts[i])) __builtin_trap();
  /* the range check must hold up on whatever was loaded */
  mx_error_clear(&err);
  rc = mx_http_config_check(&cfg, &err);
  if (rc != MX_OK) check_error(rc, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  for (size_t count = 0; count <= 3; count++) embeddings(data, size, count, 0);
  embeddings(data, size, 2, 3);
  chat(data, size);
  excerpt(data, size);
  config(data, size);
  return 0;
}
