/* .mxm model files: save (atomic) and load (mmap).
 *
 * The header is fixed-size and carries a table of sections; every section
 * starts on a 64-byte boundary, so arrays mapped from the file have the same
 * alignment as owned ones and the scoring code need not care where a model
 * came from. Two checksums (mx_hash64): one over the header, one over the
 * payload; a file whose size, magic, version, section table or checksums do
 * not agree is refused before any array is touched. */
#include "merx/model.h"
#include "util/util.h"
#include "core/data/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 512
#define ALIGN 64
static const char MAGIC[8] = {'M', 'E', 'R', 'X', 'M', 'D', 'L', '\0'};

enum {
  SEC_USER_IDS,
  SEC_ITEM_IDS,
  SEC_USER_FACTORS,
  SEC_ITEM_FACTORS,
  SEC_USER_BIAS,
  SEC_ITEM_BIAS,
  SEC_EASE,
  SEC_SEEN_INDPTR,
  SEC_SEEN_INDICES,
  SEC_SEEN_VALUES,
  N_SECTIONS
};

/* On-disk header; all fields little-endian (merx targets x86-64/aarch64). */
typedef struct file_header {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint32_t n_users;
  uint32_t n_items;
  uint32_t factors;
  uint32_t implicit;
  float global_mean;
  uint32_t n_hyper;
  uint64_t data_fingerprint;
  uint64_t seen_nnz;
  uint64_t file_size;
  double hyper[16];
  uint64_t offset[N_SECTIONS];
  uint64_t size[N_SECTIONS];
  float rating_min, rating_max;
  uint64_t payload_hash;
  uint64_t header_hash; /* over the header with this field zero */
  /* version 2 (pseudonymous user ids) only; version 1's hash ends above */
  uint64_t pseudonym_key;
} file_header;

#define HEADER_V1_BYTES offsetof(file_header, pseudonym_key)

/* The bytes the header hash covers. */
static size_t header_bytes(uint32_t version) {
  return version == 1 ? HEADER_V1_BYTES : sizeof(file_header);
}

_Static_assert(sizeof(file_header) <= HEADER_SIZE, "header fits in its block");

#define HASH_SEED 0x6d786d3130303031ULL

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

static uint64_t ids_bytes(const mx_idmap *m) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < mx_idmap_size(m); i++) n += strlen(mx_idmap_name(m, i)) + 1;
  return n;
}

/* Section sizes for m, in bytes. */
static void section_sizes(const mx_model *m, uint64_t size[N_SECTIONS]) {
  uint64_t k = m->factors;
  size[SEC_USER_IDS] = ids_bytes(m->users);
  size[SEC_ITEM_IDS] = ids_bytes(m->items);
  size[SEC_USER_FACTORS] = m->user_factors ? (uint64_t)m->n_users * k * 4 : 0;
  size[SEC_ITEM_FACTORS] = m->item_factors ? (uint64_t)m->n_items * k * 4 : 0;
  size[SEC_USER_BIAS] = m->user_bias ? (uint64_t)m->n_users * 4 : 0;
  size[SEC_ITEM_BIAS] = m->item_bias ? (uint64_t)m->n_items * 4 : 0;
  size[SEC_EASE] = m->ease_b ? (uint64_t)m->n_items * m->n_items * 4 : 0;
  size[SEC_SEEN_INDPTR] = ((uint64_t)m->n_users + 1) * 8;
  size[SEC_SEEN_INDICES] = m->seen.nnz * 4;
  size[SEC_SEEN_VALUES] = m->seen.values ? m->seen.nnz * 4 : 0;
}

/* Payload hash of a mapped file, the same block-chained way the writer does. */
static uint64_t payload_hash(const unsigned char *p, uint64_t n) {
  return mx__block_hash(mx_hash64, p, n, HASH_SEED);
}

/* The sections after the header, padded to the file size (w->pos starts at
 * HEADER_SIZE); w->f NULL only hashes. */
static void w_payload(mx__block_writer *w, const mx_model *m, const file_header *h) {
  for (int s = 0; s < N_SECTIONS; s++) {
    mx__bw_pad(w, h->offset[s]);
    switch (s) {
    case SEC_USER_IDS: mx__bw_ids(w, m->users); break;
    case SEC_ITEM_IDS: mx__bw_ids(w, m->items); break;
    case SEC_USER_FACTORS: mx__bw_bytes(w, m->user_factors, h->size[s]); break;
    case SEC_ITEM_FACTORS: mx__bw_bytes(w, m->item_factors, h->size[s]); break;
    case SEC_USER_BIAS: mx__bw_bytes(w, m->user_bias, h->size[s]); break;
    case SEC_ITEM_BIAS: mx__bw_bytes(w, m->item_bias, h->size[s]); break;
    case SEC_EASE: mx__bw_bytes(w, m->ease_b, h->size[s]); break;
    case SEC_SEEN_INDPTR: mx__bw_bytes(w, m->seen.indptr, h->size[s]); break;
    case SEC_SEEN_INDICES: mx__bw_bytes(w, m->seen.indices, h->size[s]); break;
    case SEC_SEEN_VALUES: mx__bw_bytes(w, m->seen.values, h->size[s]); break;
    }
  }
  mx__bw_pad(w, h->file_size);
  mx__bw_flush(w);
}

int mx_model_save(const mx_model *m, const char *path, mx_error *err) {
  if (m->n_users != mx_idmap_size(m->users) || m->n_items != mx_idmap_size(m->items))
    return mx_error_set(err, MX_ESTATE, "model id tables (%u users, %u items) do not match its "
                        "dimensions (%u x %u)", mx_idmap_size(m->users),
                        mx_idmap_size(m->items), m->n_users, m->n_items);
  if (m->seen.rows != m->n_users)
    return mx_error_set(err, MX_ESTATE, "model training items have %u rows for %u users",
                        m->seen.rows, m->n_users);
  file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MAGIC, 8);
  h.version = m->pseudonym_key ? 2 : 1;
  h.pseudonym_key = m->pseudonym_key;
  h.kind = (uint32_t)m->kind;
  h.n_users = m->n_users;
  h.n_items = m->n_items;
  h.factors = m->factors;
  h.implicit = (uint32_t)m->implicit;
  h.global_mean = m->global_mean;
  h.rating_min = m->rating_min;
  h.rating_max = m->rating_max;
  h.n_hyper = (uint32_t)(m->n_hyper < 0 ? 0 : m->n_hyper > 16 ? 16 : m->n_hyper);
  for (uint32_t i = 0; i < h.n_hyper; i++) h.hyper[i] = m->hyper[i];
  h.data_fingerprint = m->data_fingerprint;
  h.seen_nnz = m->seen.nnz;
  section_sizes(m, h.size);
  uint64_t pos = HEADER_SIZE;
  for (int s = 0; s < N_SECTIONS; s++) {
    pos = align_up(pos);
    h.offset[s] = pos;
    pos += h.size[s];
  }
  h.file_size = align_up(pos);

  /* The header holds the payload's hash, so the payload is hashed first
   * (f = NULL) and then written after the final header: one forward pass
   * over the file, which a pipe or standard output (--out -) needs; seeking
   * back to rewrite the header would fail there. */
  mx__block_writer w = {.buf = malloc(MX__BLOCK), .hash = HASH_SEED, .fn = mx_hash64};
  if (!w.buf) return mx_error_set(err, MX_ENOMEM, "out of memory");
  w.pos = HEADER_SIZE;
  w_payload(&w, m, &h);
  h.payload_hash = w.hash;
  h.header_hash = 0;
  h.header_hash = mx_hash64(&h, header_bytes(h.version), HASH_SEED);
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) {
    free(w.buf);
    return rc;
  }
  w = (mx__block_writer){.f = af.f, .buf = w.buf, .hash = HASH_SEED, .fn = mx_hash64};
  static const unsigned char zeros[HEADER_SIZE];
  if (fwrite(&h, 1, sizeof h, af.f) != sizeof h) w.failed = 1;
  if (fwrite(zeros, 1, HEADER_SIZE - sizeof h, af.f) != HEADER_SIZE - sizeof h) w.failed = 1;
  w.pos = HEADER_SIZE;
  w_payload(&w, m, &h);
  free(w.buf);
  if (w.failed) {
    int e = errno;
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot write model: %s", strerror(e));
  }
  return mx__atomic_commit(&af, err);
}

static int bad(mx_error *err, const char *path, const char *what) {
  return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "not a valid merx model file: %s", what);
}

/* Intern n NUL-separated ids from a section into map; refuses a section
 * whose strings do not add up to exactly n or that repeats an id. */
static int load_ids(const char *p, uint64_t size, uint32_t n, mx_idmap *map, const char *path,
                    const char *what, mx_error *err) {
  uint64_t off = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *s = p + off;
    const char *end = memchr(s, '\0', (size_t)(size - off));
    if (!end) return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                                 "not a valid merx model file: %s table is cut short", what);
    size_t len = (size_t)(end - s);
    int64_t idx = mx_idmap_intern(map, s, len);
    if (idx < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
    if ((uint32_t)idx != i)
      return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                         "not a valid merx model file: %s id '%s' appears twice", what, s);
    off += len + 1;
  }
  if (off != size) return bad(err, path, "id table has trailing bytes");
  return MX_OK;
}

int mx_model_load(const char *path, mx_model **out, mx_error *err) {
  *out = NULL;
  void *map;
  uint64_t fsize;
  int is_model;
  /* writable: callers may treat arrays as ordinary memory (copy-on-write). */
  int rc = mx__map_file(path, "model", 1, HEADER_SIZE, MAGIC, &map, &fsize, &is_model, err);
  if (rc == MX_EFORMAT && !map)
    return is_model ? bad(err, path, "file is shorter than a model header (truncated)")
                    : bad(err, path, "wrong magic (not a .mxm file)");
  if (rc) return rc;
  const unsigned char *base = map;
  file_header h;
  memcpy(&h, base, sizeof h);
  if (memcmp(h.magic, MAGIC, 8) != 0) {
    rc = bad(err, path, "wrong magic (not a .mxm file)");
    goto fail;
  }
  if (h.version < 1 || h.version > MX_MODEL_FORMAT_VERSION) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "model file format version %u is not supported (this merx reads %d)",
                     h.version, MX_MODEL_FORMAT_VERSION);
    goto fail;
  }
  uint64_t want = h.header_hash;
  h.header_hash = 0;
  if (h.version == 1) h.pseudonym_key = 0; /* beyond version 1's header */
  if (mx_hash64(&h, header_bytes(h.version), HASH_SEED) != want) {
    rc = bad(err, path, "header checksum mismatch (corrupt header)");
    goto fail;
  }
  if (h.version == 2 && h.pseudonym_key == 0) {
    rc = bad(err, path, "version 2 header without a pseudonym key check");
    goto fail;
  }
  if (h.file_size != fsize) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "not a valid merx model file: size is %llu bytes, header says %llu "
                     "(truncated or appended to)",
                     (unsigned long long)fsize, (unsigned long long)h.file_size);
    goto fail;
  }
  if (h.kind < MX_MODEL_MF || h.kind > MX_MODEL_IMPORTED || h.n_hyper > 16) {
    rc = bad(err, path, "unknown model kind");
    goto fail;
  }
  /* Section table must match what the dims imply, in bounds and aligned. */
  {
    uint64_t k = h.factors;
    uint64_t expect[N_SECTIONS];
    expect[SEC_USER_IDS] = h.size[SEC_USER_IDS];
    expect[SEC_ITEM_IDS] = h.size[SEC_ITEM_IDS];
    expect[SEC_USER_FACTORS] = h.size[SEC_USER_FACTORS] ? (uint64_t)h.n_users * k * 4 : 0;
    expect[SEC_ITEM_FACTORS] = h.size[SEC_ITEM_FACTORS] ? (uint64_t)h.n_items * k * 4 : 0;
    expect[SEC_USER_BIAS] = h.size[SEC_USER_BIAS] ? (uint64_t)h.n_users * 4 : 0;
    expect[SEC_ITEM_BIAS] = h.size[SEC_ITEM_BIAS] ? (uint64_t)h.n_items * 4 : 0;
    expect[SEC_EASE] = h.size[SEC_EASE] ? (uint64_t)h.n_items * h.n_items * 4 : 0;
    expect[SEC_SEEN_INDPTR] = ((uint64_t)h.n_users + 1) * 8;
    expect[SEC_SEEN_INDICES] = h.seen_nnz * 4;
    expect[SEC_SEEN_VALUES] = h.size[SEC_SEEN_VALUES] ? h.seen_nnz * 4 : 0;
    for (int s = 0; s < N_SECTIONS; s++) {
      if (h.size[s] != expect[s] || h.offset[s] % ALIGN != 0 || h.offset[s] < HEADER_SIZE ||
          h.offset[s] > fsize || h.size[s] > fsize - h.offset[s]) {
        rc = bad(err, path, "inconsistent section table");
        goto fail;
      }
    }
    if (k > 0 && (!h.size[SEC_USER_FACTORS] || !h.size[SEC_ITEM_FACTORS])) {
      rc = bad(err, path, "factor matrices missing");
      goto fail;
    }
    if (h.kind == MX_MODEL_EASE && h.n_items > 0 && !h.size[SEC_EASE]) {
      rc = bad(err, path, "EASE item weights missing");
      goto fail;
    }
  }
  if (payload_hash(base + HEADER_SIZE, fsize - HEADER_SIZE) != h.payload_hash) {
    rc = bad(err, path, "payload checksum mismatch (corrupt file)");
    goto fail;
  }
  mx_model *m = calloc(1, sizeof *m);
  if (!m) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  m->kind = (mx_model_kind)h.kind;
  m->implicit = (int)h.implicit;
  m->n_users = h.n_users;
  m->n_items = h.n_items;
  m->factors = h.factors;
  m->global_mean = h.global_mean;
  m->rating_min = h.rating_min;
  m->rating_max = h.rating_max;
  m->n_hyper = (int)h.n_hyper;
  for (uint32_t i = 0; i < h.n_hyper; i++) m->hyper[i] = h.hyper[i];
  m->data_fingerprint = h.data_fingerprint;
  m->pseudonym_key = h.pseudonym_key;
  m->mapping = map;
  m->mapping_size = (size_t)fsize;
  m->owns_arrays = 0;
  unsigned char *b = map;
#define SEC(s, type) (h.size[s] ? (type *)(void *)(b + h.offset[s]) : NULL)
  m->user_factors = SEC(SEC_USER_FACTORS, float);
  m->item_factors = SEC(SEC_ITEM_FACTORS, float);
  m->user_bias = SEC(SEC_USER_BIAS, float);
  m->item_bias = SEC(SEC_ITEM_BIAS, float);
  m->ease_b = SEC(SEC_EASE, float);
  m->seen.rows = h.n_users;
  m->seen.nnz = h.seen_nnz;
  m->seen.indptr = SEC(SEC_SEEN_INDPTR, uint64_t);
  m->seen.indices = SEC(SEC_SEEN_INDICES, uint32_t);
  m->seen.values = SEC(SEC_SEEN_VALUES, float);
#undef SEC
  m->users = mx_idmap_create();
  m->items = mx_idmap_create();
  if (!m->users || !m->items) {
    mx_model_free(m);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  /* The checksum guards against accidents; these checks guard the code that
   * indexes with the CSR against a crafted file. */
  const uint64_t *ip = m->seen.indptr;
  int ok = ip[0] == 0 && ip[h.n_users] == h.seen_nnz;
  for (uint32_t u = 0; ok && u < h.n_users; u++) ok = ip[u] <= ip[u + 1];
  for (uint64_t q = 0; ok && q < h.seen_nnz; q++) ok = m->seen.indices[q] < h.n_items;
  if (!ok) {
    mx_model_free(m);
    return bad(err, path, "training-item table out of range");
  }
  rc = load_ids((const char *)b + h.offset[SEC_USER_IDS], h.size[SEC_USER_IDS], h.n_users,
                m->users, path, "user", err);
  if (rc == MX_OK)
    rc = load_ids((const char *)b + h.offset[SEC_ITEM_IDS], h.size[SEC_ITEM_IDS], h.n_items,
                  m->items, path, "item", err);
  if (rc != MX_OK) {
    mx_model_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
fail:
  munmap(map, (size_t)fsize);
  return rc;
}
