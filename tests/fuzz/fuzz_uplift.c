/* libFuzzer target: the .mxu uplift model loader (mx_uplift_load) on
 * arbitrary bytes. A file merx did not write must end in a clean error with
 * a message, never a crash, an out-of-bounds read, a leak or a sanitizer
 * report; a model that loads must score: a one-row table with every feature
 * column (numbers; categorical features match them as text) is scored, then
 * the model is freed. Replayed over tests/fuzz/corpus/uplift by ctest
 * (fuzz_uplift).
 *
 * The payload checksum would stop nearly every mutation before the records
 * are parsed, so when the low bit of byte 12 (the reserved word, which the
 * loader ignores) is set, the harness rewrites the payload size and the
 * checksum the way mx_uplift_save does (src/core/uplift/model_file.c).
 * Inputs with the bit clear exercise the checks themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "merx/uplift.h"
#include "util/util.h"

#define CHECK_SEED 0x75706c6966740001ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = NULL;
  if (size >= 32 && (data[12] & 1)) {
    if (!(copy = malloc(size))) return 0;
    memcpy(copy, data, size);
    uint64_t payload = size - 32;
    memcpy(copy + 16, &payload, 8);
    uint64_t h = mx_hash64(copy + 24, payload, CHECK_SEED);
    memcpy(copy + size - 8, &h, 8);
    data = copy;
  }
  char path[64];
  int fd = fuzz_file("fuzz.mxu", data, size, path, sizeof path);
  free(copy);
  if (fd < 0) return 0;
  mx_error err;
  mx_error_clear(&err);
  mx_uplift_model *m = NULL;
  int rc = mx_uplift_load(path, &m, &err);
  if (rc < 0) {
    if (err.message[0] == '\0' || m) __builtin_trap(); /* errors say something, leave no model */
  } else {
    if (!m) __builtin_trap();
    mx_uplift_table *t = NULL;
    int ok = m->embed_dims == 0 && mx_uplift_table_create(1, &t, &err) == MX_OK;
    for (uint32_t q = 0; ok && q < m->n_features; q++) {
      double one = 1;
      /* a name given twice is refused: score only what the table accepts */
      if (mx_uplift_table_find(t, m->features[q].name) < 0)
        ok = mx_uplift_table_add_numbers(t, m->features[q].name, &one, &err) == MX_OK;
    }
    if (ok) {
      double up, p1, p0;
      (void)mx_uplift_score(m, t, NULL, &up, &p1, &p0, NULL, &err);
    }
    mx_uplift_table_free(t);
    mx_uplift_free(m);
  }
  close(fd);
  return 0;
}
