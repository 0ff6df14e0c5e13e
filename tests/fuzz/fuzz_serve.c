/* libFuzzer target: the request bodies of merx serve's handlers, on
 * arbitrary bytes, through the same path a handler thread takes (JSON
 * parsing, the generation, the handler, the reply's encoding) without HTTP
 * (mx__serve_handle). The first byte picks the endpoint (/v1/recommend,
 * /v1/similar), the rest is the body. The model is a small iALS model made
 * here once (30 users, 40 items, 4 factors, a few training items each).
 * Invariants: the status is one a client can act on (200, 400, 404, 503 or
 * 504; never 500); the reply is a JSON object; an error reply is exactly
 * {"error": non-empty text}; a 200 list holds at most k distinct items of
 * the model, scores non-increasing. Leaks are caught by ASan. Replayed over
 * tests/fuzz/corpus/serve by ctest (fuzz_serve). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merx/model.h"
#include "serve/internal.h"
#include "util/util.h"

#define USERS 30
#define ITEMS 40

static mx_serve *server(void) {
  static mx_serve *srv;
  if (srv) return srv;
  mx_error err;
  mx_error_clear(&err);
  mx_model *m;
  if (mx_model_create(MX_MODEL_IALS, USERS, ITEMS, 4, 0, &m, &err)) __builtin_trap();
  mx_rng r;
  mx__rng_seed(&r, 7);
  for (size_t x = 0; x < (size_t)USERS * 4; x++) m->user_factors[x] = (float)mx__rng_normal(&r);
  for (size_t x = 0; x < (size_t)ITEMS * 4; x++) m->item_factors[x] = (float)mx__rng_normal(&r);
  char id[16];
  for (uint32_t u = 0; u < USERS; u++) {
    int n = snprintf(id, sizeof id, "u%u", u);
    mx_idmap_intern(m->users, id, (size_t)n);
  }
  for (uint32_t i = 0; i < ITEMS; i++) {
    int n = snprintf(id, sizeof id, "i%u", i);
    mx_idmap_intern(m->items, id, (size_t)n);
  }
  /* user u saw items u % 40, (u + 7) % 40, (u + 19) % 40 (sorted) */
  m->seen.indices = malloc(USERS * 3 * sizeof *m->seen.indices);
  m->seen.values = malloc(USERS * 3 * sizeof *m->seen.values);
  for (uint32_t u = 0; u < USERS; u++) {
    uint32_t a[3] = {u % ITEMS, (u + 7) % ITEMS, (u + 19) % ITEMS};
    for (int x = 0; x < 3; x++)
      for (int y = x + 1; y < 3; y++)
        if (a[y] < a[x]) {
          uint32_t t = a[x];
          a[x] = a[y];
          a[y] = t;
        }
    m->seen.indptr[u] = (uint64_t)u * 3;
    for (int x = 0; x < 3; x++) {
      m->seen.indices[u * 3 + x] = a[x];
      m->seen.values[u * 3 + x] = 1.0f + (float)x;
    }
  }
  m->seen.indptr[USERS] = USERS * 3;
  m->seen.nnz = USERS * 3;
  char dir[] = "/tmp/merx-fuzz-serve-XXXXXX", path[64];
  if (!mkdtemp(dir)) __builtin_trap();
  snprintf(path, sizeof path, "%s/m.mxm", dir);
  if (mx_model_save(m, path, &err)) __builtin_trap();
  mx_model_free(m);
  mx_serve_options o;
  memset(&o, 0, sizeof o);
  o.model_path = path;
  if (mx__serve_open(&o, &srv, &err)) __builtin_trap();
  unlink(path); /* mapped: gone from the disk, alive in the server */
  rmdir(dir);
  return srv;
}

static long requested_k(const uint8_t *data, size_t size) {
  json_t *b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  long k = 10;
  json_t *v = json_object_get(b, "k");
  if (json_is_integer(v)) k = (long)json_integer_value(v);
  json_decref(b);
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  mx_serve *srv = server();
  int route = (data[0] & 1) ? MX_SERVE_ROUTE_INDEX_mx__serve_similar
                            : MX_SERVE_ROUTE_INDEX_mx__serve_recommend;
  char *out = NULL;
  size_t len = 0;
  int status = mx__serve_handle(srv, route, (const char *)data + 1, size - 1, &out, &len);
  if (status != 200 && status != 400 && status != 404 && status != 503 && status != 504)
    __builtin_trap();
  json_error_t je;
  json_t *reply = json_loadb(out, len, 0, &je);
  if (!json_is_object(reply)) __builtin_trap();
  if (status != 200) {
    json_t *e = json_object_get(reply, "error");
    if (json_object_size(reply) != 1 || !json_is_string(e) || !json_string_length(e))
      __builtin_trap();
  } else {
    json_t *items = json_object_get(reply, "items");
    long k = requested_k(data + 1, size - 1);
    if (!json_is_array(items) || (long)json_array_size(items) > k ||
        json_array_size(items) > ITEMS)
      __builtin_trap();
    double last = INFINITY;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
      const char *name = json_string_value(json_object_get(it, "item"));
      json_t *sc = json_object_get(it, "score");
      if (!name || name[0] != 'i' || !json_is_number(sc) || json_number_value(sc) > last)
        __builtin_trap();
      last = json_number_value(sc);
      for (size_t j = 0; j < i; j++)
        if (strcmp(name, json_string_value(json_object_get(json_array_get(items, j), "item"))) == 0)
          __builtin_trap();
    }
  }
  json_decref(reply);
  free(out);
  return 0;
}
