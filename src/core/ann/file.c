/* .hnsw index files: save (atomic) and load (mmap, no parse step).
 *
 * The layout mirrors .mxm model files (src/core/data/model_io.c): a fixed header
 * with a section table and two checksums, 64-byte aligned flat arrays after
 * it. The graph is used in place from the mapping; what the loader checks
 * beyond the checksums (link counts and ids in range, the level structure)
 * guards the walks against a crafted file, since a walk follows ids without
 * bounds checks. */
#include "core/ann/internal.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 512
#define ALIGN 64
#define HASH_SEED 0x6d78686e73773031ULL
static const char MAGIC[8] = {'M', 'E', 'R', 'X', 'H', 'N', 'S', 'W'};

enum { SEC_SCALE, SEC_LEVEL, SEC_UPPER_START, SEC_LINKS0, SEC_LINKS_UP, N_SECTIONS };

/* On-disk header, little-endian. */
typedef struct file_header {
  char magic[8];
  uint32_t version;
  uint32_t metric;
  uint32_t n, dim, M, M0, ef_construction;
  int32_t max_level;
  uint32_t entry;
  uint32_t reserved;
  uint64_t seed;
  uint64_t fingerprint;
  uint64_t n_up_blocks;
  uint64_t file_size;
  uint64_t offset[N_SECTIONS];
  uint64_t size[N_SECTIONS];
  char source[200];
  uint64_t payload_hash;
  uint64_t header_hash; /* over the header with this field zero */
} file_header;

_Static_assert(sizeof(file_header) <= HEADER_SIZE, "header fits in its block");

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

uint64_t mx_ann_fingerprint(const float *vectors, uint32_t n, uint32_t dim) {
  uint64_t shape[2] = {n, dim};
  uint64_t h = mx_hash64(shape, sizeof shape, 0x6d78766563733031ULL);
  return mx_hash64(vectors, (size_t)n * dim * sizeof *vectors, h);
}

void mx__ann_unmap(void *p, size_t n) { munmap(p, n); }

static void section_sizes(uint32_t n, uint32_t M, uint32_t M0, uint64_t n_up_blocks,
                          uint64_t size[N_SECTIONS]) {
  size[SEC_SCALE] = (uint64_t)n * 4;
  size[SEC_LEVEL] = n;
  size[SEC_UPPER_START] = (uint64_t)n * 4;
  size[SEC_LINKS0] = (uint64_t)n * (M0 + 1) * 4;
  size[SEC_LINKS_UP] = n_up_blocks * (M + 1) * 4;
}

static const void *section_data(const mx_ann *ix, int s) {
  switch (s) {
  case SEC_SCALE: return ix->scale;
  case SEC_LEVEL: return ix->level;
  case SEC_UPPER_START: return ix->upper_start;
  case SEC_LINKS0: return ix->links0;
  default: return ix->links_up;
  }
}

static void fill_header(const mx_ann *ix, file_header *h) {
  memset(h, 0, sizeof *h);
  memcpy(h->magic, MAGIC, 8);
  h->version = MX_ANN_FORMAT_VERSION;
  h->metric = (uint32_t)ix->metric;
  h->n = ix->n;
  h->dim = ix->dim;
  h->M = ix->M;
  h->M0 = ix->M0;
  h->ef_construction = ix->ef_construction;
  h->max_level = ix->max_level;
  h->entry = ix->entry;
  h->seed = ix->seed;
  h->fingerprint = ix->fingerprint;
  h->n_up_blocks = ix->n_up_blocks;
  snprintf(h->source, sizeof h->source, "%s", ix->source);
  section_sizes(ix->n, ix->M, ix->M0, ix->n_up_blocks, h->size);
  uint64_t pos = HEADER_SIZE;
  for (int s = 0; s < N_SECTIONS; s++) {
    pos = align_up(pos);
    h->offset[s] = pos;
    pos += h->size[s];
  }
  h->file_size = align_up(pos);
}

mx_ann_metric mx_ann_get_metric(const mx_ann *ix) { return ix->metric; }

void mx_ann_get_info(const mx_ann *ix, mx_ann_info *out) {
  memset(out, 0, sizeof *out);
  file_header h;
  fill_header(ix, &h);
  out->metric = ix->metric;
  out->n = ix->n;
  out->dim = ix->dim;
  out->M = ix->M;
  out->ef_construction = ix->ef_construction;
  out->max_level = ix->max_level;
  out->fingerprint = ix->fingerprint;
  out->bytes = h.file_size;
  for (uint32_t i = 0; i < ix->n; i++) {
    out->links += ix->links0[(size_t)i * (ix->M0 + 1)];
    for (int l = 1; l <= ix->level[i]; l++) out->links += mx__ann_links(ix, i, l)[0];
  }
  snprintf(out->source, sizeof out->source, "%s", ix->source);
}

int mx_ann_save(const mx_ann *ix, const char *path, mx_error *err) {
  file_header h;
  fill_header(ix, &h);
  uint64_t ph = HASH_SEED;
  for (int s = 0; s < N_SECTIONS; s++) ph = mx_hash64(section_data(ix, s), (size_t)h.size[s], ph);
  h.payload_hash = ph;
  h.header_hash = 0;
  h.header_hash = mx_hash64(&h, sizeof h, HASH_SEED);
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) return rc;
  static const unsigned char zeros[ALIGN > HEADER_SIZE ? ALIGN : HEADER_SIZE];
  int failed = fwrite(&h, 1, sizeof h, af.f) != sizeof h ||
               fwrite(zeros, 1, HEADER_SIZE - sizeof h, af.f) != HEADER_SIZE - sizeof h;
  uint64_t pos = HEADER_SIZE;
  for (int s = 0; s < N_SECTIONS && !failed; s++) {
    uint64_t pad = h.offset[s] - pos;
    if (pad && fwrite(zeros, 1, (size_t)pad, af.f) != pad) failed = 1;
    if (h.size[s] && fwrite(section_data(ix, s), 1, (size_t)h.size[s], af.f) != h.size[s])
      failed = 1;
    pos = h.offset[s] + h.size[s];
  }
  if (!failed && h.file_size > pos &&
      fwrite(zeros, 1, (size_t)(h.file_size - pos), af.f) != h.file_size - pos)
    failed = 1;
  if (failed) {
    int e = errno;
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot write index: %s", strerror(e));
  }
  return mx__atomic_commit(&af, err);
}

static int bad(mx_error *err, const char *path, const char *what) {
  return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "not a valid merx ANN index: %s", what);
}

/* The graph's structure: levels, upper-level blocks and links in range. */
static int check_graph(const mx_ann *ix) {
  if (ix->entry >= ix->n || ix->level[ix->entry] != ix->max_level) return 0;
  uint64_t blocks = 0;
  for (uint32_t i = 0; i < ix->n; i++) {
    uint8_t lv = ix->level[i];
    if (lv > ix->max_level) return 0;
    if (lv == 0 ? ix->upper_start[i] != MX_ANN_NO_BLOCK : ix->upper_start[i] != blocks) return 0;
    blocks += lv;
    for (int l = 0; l <= lv; l++) {
      if (l > 0 && blocks > ix->n_up_blocks) return 0;
      const uint32_t *nb = mx__ann_links(ix, i, l);
      uint32_t cap = l == 0 ? ix->M0 : ix->M;
      if (nb[0] > cap) return 0;
      for (uint32_t t = 1; t <= nb[0]; t++)
        if (nb[t] >= ix->n) return 0;
    }
  }
  return blocks == ix->n_up_blocks;
}

int mx_ann_load(const char *path, const float *vectors, uint32_t n, uint32_t dim,
                const char *vectors_name, mx_ann **out, mx_error *err) {
  *out = NULL;
  if (!vectors_name) vectors_name = "the given vectors";
  void *map;
  uint64_t fsize;
  int ours;
  int rc = mx__map_file(path, "index", 0, HEADER_SIZE, MAGIC, &map, &fsize, &ours, err);
  if (rc == MX_EFORMAT && !map)
    return bad(err, path, ours ? "file is shorter than an index header (truncated)"
                               : "wrong magic (not a .hnsw file)");
  if (rc) return rc;
  const unsigned char *base = map;
  file_header h;
  memcpy(&h, base, sizeof h);
  mx_ann *ix = NULL;
  if (memcmp(h.magic, MAGIC, 8) != 0) {
    rc = bad(err, path, "wrong magic (not a .hnsw file)");
    goto fail;
  }
  uint64_t want = h.header_hash;
  h.header_hash = 0;
  if (mx_hash64(&h, sizeof h, HASH_SEED) != want) {
    rc = bad(err, path, "header checksum mismatch (corrupt header)");
    goto fail;
  }
  if (h.version != MX_ANN_FORMAT_VERSION) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "index format version %u is not supported (this merx reads %d); rebuild "
                     "it with merx index build", h.version, MX_ANN_FORMAT_VERSION);
    goto fail;
  }
  if (h.file_size != fsize) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "not a valid merx ANN index: size is %llu bytes, header says %llu "
                     "(truncated or appended to)",
                     (unsigned long long)fsize, (unsigned long long)h.file_size);
    goto fail;
  }
  h.source[sizeof h.source - 1] = '\0';
  if (h.metric > MX_ANN_DOT || h.M < 2 || h.M > 128 || h.M0 != 2 * h.M || h.n == 0 ||
      h.dim == 0 || h.max_level < 0 || h.max_level > MX_ANN_MAX_LEVEL || h.entry >= h.n) {
    rc = bad(err, path, "inconsistent header");
    goto fail;
  }
  {
    uint64_t expect[N_SECTIONS];
    section_sizes(h.n, h.M, h.M0, h.n_up_blocks, expect);
    for (int s = 0; s < N_SECTIONS; s++)
      if (h.size[s] != expect[s] || h.offset[s] % ALIGN != 0 || h.offset[s] < HEADER_SIZE ||
          h.offset[s] > fsize || h.size[s] > fsize - h.offset[s] ||
          (h.n_up_blocks > (uint64_t)UINT32_MAX)) {
        rc = bad(err, path, "inconsistent section table");
        goto fail;
      }
  }
  uint64_t ph = HASH_SEED;
  for (int s = 0; s < N_SECTIONS; s++) ph = mx_hash64(base + h.offset[s], (size_t)h.size[s], ph);
  if (ph != h.payload_hash) {
    rc = bad(err, path, "payload checksum mismatch (corrupt file)");
    goto fail;
  }
  const char *src = h.source[0] ? h.source : "unnamed vectors";
  if (vectors && (h.n != n || h.dim != dim)) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "stale index: built for %u vectors of dimension %u (%s), but %s has %u of "
                     "dimension %u; rebuild it with merx index build",
                     h.n, h.dim, src, vectors_name, n, dim);
    goto fail;
  }
  ix = calloc(1, sizeof *ix);
  if (!ix) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  ix->n = h.n;
  ix->dim = h.dim;
  ix->M = h.M;
  ix->M0 = h.M0;
  ix->ef_construction = h.ef_construction;
  ix->metric = (mx_ann_metric)h.metric;
  ix->max_level = h.max_level;
  ix->entry = h.entry;
  ix->seed = h.seed;
  ix->fingerprint = h.fingerprint;
  ix->n_up_blocks = h.n_up_blocks;
  memcpy(ix->source, h.source, sizeof ix->source);
  unsigned char *b = map;
  ix->scale = (float *)(void *)(b + h.offset[SEC_SCALE]);
  ix->level = b + h.offset[SEC_LEVEL];
  ix->upper_start = (uint32_t *)(void *)(b + h.offset[SEC_UPPER_START]);
  ix->links0 = (uint32_t *)(void *)(b + h.offset[SEC_LINKS0]);
  ix->links_up = (uint32_t *)(void *)(b + h.offset[SEC_LINKS_UP]);
  ix->vec = vectors;
  if (!check_graph(ix)) {
    rc = bad(err, path, "links out of range");
    goto fail;
  }
  uint64_t fp = vectors ? mx_ann_fingerprint(vectors, n, dim) : h.fingerprint;
  if (fp != h.fingerprint) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "stale index: built for other vectors (%s) than %s (fingerprint %016llx, "
                     "now %016llx); rebuild it with merx index build",
                     src, vectors_name, (unsigned long long)h.fingerprint,
                     (unsigned long long)fp);
    goto fail;
  }
  ix->mapping = map;
  ix->mapping_size = (size_t)fsize;
  *out = ix;
  return MX_OK;
fail:
  free(ix);
  munmap(map, (size_t)fsize);
  return rc;
}
