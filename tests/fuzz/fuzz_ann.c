/* libFuzzer target: the .hnsw index loader (mx_ann_load) on arbitrary bytes.
 * A file merx did not write (truncated, corrupt, hostile counts, offsets or
 * link ids) must end in a clean error with a message, never a crash, an
 * out-of-bounds read of the mapping, a leak or a sanitizer report. An index
 * that loads must be searchable: a few searches (with and without a filter)
 * run under the sanitizers, then it is freed. Replayed over
 * tests/fuzz/corpus/ann by ctest (fuzz_ann).
 *
 * The checksums and the vectors' fingerprint would stop nearly every mutation
 * before the graph is checked, so when the last byte of the 512-byte header
 * block (padding the loader ignores) has its low bit set the harness makes
 * vectors for the header's shape (when small), writes their fingerprint, the
 * file size and both checksums the way mx_ann_save does (src/core/ann/file.c;
 * the layout below mirrors its file_header). Inputs with the bit clear
 * exercise the checksum checks themselves and are loaded without vectors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "merx/ann.h"
#include "util/util.h"

#define HEADER_SIZE 512
#define N_SECTIONS 5
#define HASH_SEED 0x6d78686e73773031ULL

typedef struct file_header {
  char magic[8];
  uint32_t version, metric, n, dim, M, M0, ef_construction;
  int32_t max_level;
  uint32_t entry, reserved;
  uint64_t seed, fingerprint, n_up_blocks, file_size;
  uint64_t offset[N_SECTIONS], size[N_SECTIONS];
  char source[200];
  uint64_t payload_hash, header_hash;
} file_header;

static float *make_vectors(uint32_t n, uint32_t dim) {
  if (n == 0 || dim == 0 || (uint64_t)n * dim > (1u << 16)) return NULL;
  float *v = malloc((size_t)n * dim * sizeof *v);
  if (!v) return NULL;
  for (uint64_t i = 0; i < (uint64_t)n * dim; i++) v[i] = (float)((i * 31 + 7) % 17) - 8.0f;
  return v;
}

static void fix_checksums(uint8_t *d, size_t n, const float *vec) {
  file_header h;
  memcpy(&h, d, sizeof h);
  h.file_size = n;
  if (vec) h.fingerprint = mx_ann_fingerprint(vec, h.n, h.dim);
  uint64_t ph = HASH_SEED;
  int in_bounds = 1;
  for (int s = 0; s < N_SECTIONS && in_bounds; s++) {
    in_bounds = h.offset[s] <= n && h.size[s] <= n - h.offset[s];
    if (in_bounds) ph = mx_hash64(d + h.offset[s], (size_t)h.size[s], ph);
  }
  if (in_bounds) h.payload_hash = ph; /* else the section table is refused first */
  h.header_hash = 0;
  h.header_hash = mx_hash64(&h, sizeof h, HASH_SEED);
  memcpy(d, &h, sizeof h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = NULL;
  float *vec = NULL;
  uint32_t n = 0, dim = 0;
  if (size >= HEADER_SIZE && (data[HEADER_SIZE - 1] & 1)) {
    if (!(copy = malloc(size))) return 0;
    memcpy(copy, data, size);
    file_header h;
    memcpy(&h, copy, sizeof h);
    vec = make_vectors(h.n, h.dim);
    if (vec) {
      n = h.n;
      dim = h.dim;
    }
    fix_checksums(copy, size, vec);
    data = copy;
  }
  char path[64];
  int fd = fuzz_file("fuzz.hnsw", data, size, path, sizeof path);
  free(copy);
  if (fd < 0) {
    free(vec);
    return 0;
  }
  mx_error err;
  mx_error_clear(&err);
  mx_ann *ix = NULL;
  int rc = mx_ann_load(path, vec, n, dim, "fuzz vectors", &ix, &err);
  if (rc < 0) {
    if (err.message[0] == '\0' || ix) __builtin_trap(); /* errors say something, leave nothing */
  } else {
    if (!ix) __builtin_trap();
    mx_ann_info in;
    mx_ann_get_info(ix, &in);
    if (vec) {
      uint32_t ids[5], cnt;
      float sc[5];
      uint64_t mask[4] = {0x5555555555555555ULL, 0, ~0ULL, 1};
      for (uint32_t q = 0; q < 2 && q < n; q++) {
        if (mx_ann_search(ix, vec + (size_t)q * dim, 5, 8, NULL, q, ids, sc, &cnt, &err) != MX_OK)
          __builtin_trap();
        for (uint32_t i = 0; i < cnt; i++)
          if (ids[i] >= n || ids[i] == q) __builtin_trap();
        if (n <= 256 &&
            mx_ann_search(ix, vec + (size_t)q * dim, 5, 8, mask, UINT32_MAX, ids, sc, &cnt,
                          &err) != MX_OK)
          __builtin_trap();
      }
    }
    mx_ann_free(ix);
  }
  free(vec);
  close(fd);
  return 0;
}
