/* .mxd packed datasets: a built mx_dataset written once (merx data pack) and
 * loaded by mmap, so a 20M-row CSV is parsed once (issue 21).
 *
 * The layout follows .mxm models (model_io.c): a 512-byte header with a
 * table of sections, each starting on a 64-byte boundary, so the CSR arrays
 * are used straight from the mapping, aligned as owned ones would be. All
 * numbers are little-endian, the byte order of every machine merx targets
 * (x86-64, aarch64); the header carries a byte-order mark and a big-endian
 * reader refuses the file instead of misreading it. Two checksums (XXH64,
 * four independent lanes: ~10x mx_hash64's speed, which the load of a 300 MB
 * file felt): one over the header, one over the payload in 1 MiB blocks. A file whose size,
 * magic, version, section table or checksums disagree is refused before any
 * array is touched, and the CSR is then checked the way a crafted file needs
 * (monotone row pointers, indices in range and strictly increasing per row,
 * finite values), so the code that indexes with it can trust it.
 *
 * Ids are stored as the dataset holds them: with a keyed store those are
 * pseudonyms and the header records the key's check value (PRIVACY.md), so a
 * packed file leaks no raw id the CSV path would not have kept; a file of
 * plain ids loaded for a keyed store is pseudonymised on load, id by id, the
 * way ingest does. */
#include "merx/dataset.h"
#include "util/util.h"
#include "util/xxhash.h"
#include "core/data/internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HEADER_SIZE 512
#define ALIGN 64
#define HASH_SEED 0x6d78643130303031ULL
#define BYTE_ORDER_MARK 0x01020304u
static const char MAGIC[8] = {'M', 'E', 'R', 'X', 'D', 'A', 'T', '\0'};

enum {
  SEC_USER_IDS,
  SEC_ITEM_IDS,
  SEC_U_INDPTR,
  SEC_U_INDICES,
  SEC_U_VALUES,
  SEC_U_TIMES,
  SEC_I_INDPTR,
  SEC_I_INDICES,
  SEC_I_VALUES,
  SEC_I_TIMES,
  N_SECTIONS
};

/* On-disk header (little-endian). */
typedef struct file_header {
  char magic[8];
  uint32_t version;
  uint32_t byte_order; /* BYTE_ORDER_MARK as written by a little-endian machine */
  uint32_t n_users;
  uint32_t n_items;
  uint32_t has_value;
  uint32_t has_time;
  uint64_t nnz;
  uint64_t rows_read;
  uint64_t rows_skipped;
  double value_min, value_max, value_sum;
  int64_t time_min, time_max;
  uint64_t pseudonym_key; /* check value of the key of the user ids' pseudonyms; 0: plain ids */
  uint64_t file_size;
  uint64_t offset[N_SECTIONS];
  uint64_t size[N_SECTIONS];
  uint64_t payload_hash;
  uint64_t header_hash; /* over the header with this field zero */
} file_header;

_Static_assert(sizeof(file_header) <= HEADER_SIZE, "header fits in its block");

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

static uint64_t ids_bytes(const mx_idmap *m) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < mx_idmap_size(m); i++) n += strlen(mx_idmap_name(m, i)) + 1;
  return n;
}

/* The sections after the header, padded to the file size. Written twice:
 * first hashing only (w->f NULL), since the header written first holds the
 * payload's hash — one forward pass each, which a pipe as output needs. */
static void w_payload(mx__block_writer *w, const mx_dataset *d, const file_header *h) {
  const mx_csr *u = &d->by_user, *it = &d->by_item;
  for (int s = 0; s < N_SECTIONS; s++) {
    mx__bw_pad(w, h->offset[s]);
    switch (s) {
    case SEC_USER_IDS: mx__bw_ids(w, d->users); break;
    case SEC_ITEM_IDS: mx__bw_ids(w, d->items); break;
    case SEC_U_INDPTR: mx__bw_bytes(w, u->indptr, h->size[s]); break;
    case SEC_U_INDICES: mx__bw_bytes(w, u->indices, h->size[s]); break;
    case SEC_U_VALUES: mx__bw_bytes(w, u->values, h->size[s]); break;
    case SEC_U_TIMES: mx__bw_bytes(w, u->times, h->size[s]); break;
    case SEC_I_INDPTR: mx__bw_bytes(w, it->indptr, h->size[s]); break;
    case SEC_I_INDICES: mx__bw_bytes(w, it->indices, h->size[s]); break;
    case SEC_I_VALUES: mx__bw_bytes(w, it->values, h->size[s]); break;
    case SEC_I_TIMES: mx__bw_bytes(w, it->times, h->size[s]); break;
    }
  }
  mx__bw_pad(w, h->file_size);
  mx__bw_flush(w);
}

static int little_endian(void) {
  const uint32_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

int mx_dataset_save(const mx_dataset *d, uint64_t pseudonym_key, const char *path, mx_error *err) {
  if (!little_endian())
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "packed datasets are little-endian; this machine is not");
  uint32_t nu = mx_dataset_users(d), ni = mx_dataset_items(d);
  uint64_t nnz = d->by_user.nnz;
  int with_t = d->by_user.times != NULL;
  if (d->by_user.rows != nu || d->by_item.rows != ni || d->by_item.nnz != nnz ||
      (d->by_item.times != NULL) != with_t)
    return mx_error_set(err, MX_ESTATE, "dataset CSR (%u x %u) does not match its id tables "
                        "(%u users, %u items)", d->by_user.rows, d->by_item.rows, nu, ni);
  file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MAGIC, 8);
  h.version = MX_DATASET_FORMAT_VERSION;
  h.byte_order = BYTE_ORDER_MARK;
  h.n_users = nu;
  h.n_items = ni;
  h.has_value = (uint32_t)(d->has_value != 0);
  h.has_time = (uint32_t)(d->has_time != 0);
  h.nnz = nnz;
  h.rows_read = d->rows_read;
  h.rows_skipped = d->rows_skipped;
  h.value_min = d->value_min;
  h.value_max = d->value_max;
  h.value_sum = d->value_sum;
  h.time_min = d->time_min;
  h.time_max = d->time_max;
  h.pseudonym_key = pseudonym_key;
  h.size[SEC_USER_IDS] = ids_bytes(d->users);
  h.size[SEC_ITEM_IDS] = ids_bytes(d->items);
  h.size[SEC_U_INDPTR] = ((uint64_t)nu + 1) * 8;
  h.size[SEC_U_INDICES] = nnz * 4;
  h.size[SEC_U_VALUES] = nnz * 4;
  h.size[SEC_U_TIMES] = with_t ? nnz * 8 : 0;
  h.size[SEC_I_INDPTR] = ((uint64_t)ni + 1) * 8;
  h.size[SEC_I_INDICES] = nnz * 4;
  h.size[SEC_I_VALUES] = nnz * 4;
  h.size[SEC_I_TIMES] = with_t ? nnz * 8 : 0;
  uint64_t pos = HEADER_SIZE;
  for (int s = 0; s < N_SECTIONS; s++) {
    pos = align_up(pos);
    h.offset[s] = pos;
    pos += h.size[s];
  }
  h.file_size = align_up(pos);

  mx__block_writer w = {.pos = HEADER_SIZE, .buf = malloc(MX__BLOCK), .hash = HASH_SEED, .fn = mx__xxh64};
  if (!w.buf) return mx_error_set(err, MX_ENOMEM, "out of memory");
  w_payload(&w, d, &h);
  h.payload_hash = w.hash;
  h.header_hash = 0;
  h.header_hash = mx__xxh64(&h, sizeof h, HASH_SEED);
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) {
    free(w.buf);
    return rc;
  }
  w = (mx__block_writer){.f = af.f, .buf = w.buf, .hash = HASH_SEED, .fn = mx__xxh64};
  static const unsigned char zeros[HEADER_SIZE];
  if (fwrite(&h, 1, sizeof h, af.f) != sizeof h) w.failed = 1;
  if (fwrite(zeros, 1, HEADER_SIZE - sizeof h, af.f) != HEADER_SIZE - sizeof h) w.failed = 1;
  w.pos = HEADER_SIZE;
  w_payload(&w, d, &h);
  free(w.buf);
  if (w.failed) {
    int e = errno;
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot write packed dataset: %s",
                       strerror(e));
  }
  return mx__atomic_commit(&af, err);
}

int mx_dataset_is_packed(const char *path) {
  if (!path || strcmp(path, "-") == 0) return 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char head[8];
  int yes = fread(head, 1, 8, f) == 8 && memcmp(head, MAGIC, 8) == 0;
  fclose(f);
  return yes;
}

static int bad(mx_error *err, const char *path, const char *what) {
  return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "not a valid merx packed dataset: %s",
                     what);
}

/* Intern n NUL-terminated ids of a section into map, each through rewrite
 * when given (plain ids for a keyed store); refuses a table whose strings do
 * not add up to exactly n, hold an empty id or repeat one. */
static int load_ids(const char *p, uint64_t size, uint32_t n, mx_idmap *map,
                    const mx_ingest_options *rewrite, const char *path, const char *what,
                    mx_error *err) {
  uint64_t off = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *s = p + off;
    const char *end = memchr(s, '\0', (size_t)(size - off));
    if (!end)
      return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                         "not a valid merx packed dataset: %s id table is cut short", what);
    size_t len = (size_t)(end - s);
    if (len == 0)
      return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                         "not a valid merx packed dataset: empty %s id", what);
    const char *id = s;
    size_t id_len = len;
    if (rewrite) {
      id = rewrite->user_rewrite(rewrite->user_rewrite_ctx, s, len, &id_len);
      if (!id) return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    int64_t idx = mx_idmap_intern(map, id, id_len);
    if (idx < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
    if ((uint32_t)idx != i)
      return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                         "not a valid merx packed dataset: a %s id appears twice", what);
    off += len + 1;
  }
  if (off != size) return bad(err, path, "id table has trailing bytes");
  return MX_OK;
}

/* The checks a crafted file needs before code indexes with c (cols
 * columns): row pointers from 0 to nnz, never decreasing; indices below
 * cols and strictly increasing within a row (the builder's sorted, merged
 * rows); finite values. */
static int csr_valid(const mx_csr *c, uint32_t cols) {
  const uint64_t *ip = c->indptr;
  if (ip[0] != 0 || ip[c->rows] != c->nnz) return 0;
  for (uint32_t r = 0; r < c->rows; r++) {
    if (ip[r] > ip[r + 1]) return 0;
    uint32_t prev = 0;
    for (uint64_t k = ip[r]; k < ip[r + 1]; k++) {
      uint32_t j = c->indices[k];
      if (j >= cols || (k > ip[r] && j <= prev) || !isfinite(c->values[k])) return 0;
      prev = j;
    }
  }
  return 1;
}

/* One (row, column, value, time) entry mixed into 64 bits (splitmix64's
 * finaliser), summed per item below: order-independent, so both tables give
 * the same sums exactly when they hold the same entries (short of a crafted
 * 64-bit collision, which yields a wrong dataset, never an unsafe one). */
static inline uint64_t entry_mix(uint32_t user, float value, int64_t time) {
  uint32_t vb;
  memcpy(&vb, &value, sizeof vb);
  uint64_t x = ((uint64_t)user << 32 | vb) ^ (uint64_t)time * 0x9e3779b97f4a7c15ULL;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* by_item must be by_user transposed (what mx_csr_transpose makes). Walking
 * the by-user rows and probing the by-item table at each pair's place was a
 * random read per pair over three arrays: seconds to a minute for 20M pairs
 * on a loaded machine. Instead each item's entries are summed (entry_mix)
 * from both sides: the by-user pass updates one 8-byte sum per item (a table
 * that stays in cache), the by-item pass reads in order. Rows are already
 * known strictly increasing (csr_valid), so equal sums mean equal rows.
 * sum: items scratch. */
static int csr_is_transpose(const mx_csr *u, const mx_csr *it, uint64_t *sum) {
  memset(sum, 0, (size_t)it->rows * sizeof *sum);
  for (uint32_t r = 0; r < u->rows; r++)
    for (uint64_t k = u->indptr[r]; k < u->indptr[r + 1]; k++)
      sum[u->indices[k]] += entry_mix(r, u->values[k], u->times ? u->times[k] : 0);
  for (uint32_t i = 0; i < it->rows; i++) {
    uint64_t s = 0;
    for (uint64_t k = it->indptr[i]; k < it->indptr[i + 1]; k++)
      s += entry_mix(it->indices[k], it->values[k], it->times ? it->times[k] : 0);
    if (s != sum[i]) return 0;
  }
  return 1;
}

int mx_dataset_load_packed(const char *path, const mx_ingest_options *opts, mx_dataset **out,
                           mx_error *err) {
  *out = NULL;
  void *map;
  uint64_t fsize;
  int is_packed;
  /* writable: callers may treat the arrays as ordinary memory (copy-on-write) */
  int rc = mx__map_file(path, "packed dataset", 1, HEADER_SIZE, MAGIC, &map, &fsize, &is_packed,
                       err);
  if (rc == MX_EFORMAT && !map)
    return is_packed ? bad(err, path, "file is shorter than its header (truncated)")
                     : bad(err, path, "wrong magic (not a .mxd file)");
  if (rc) return rc;
  const unsigned char *base = map;
  file_header h;
  memcpy(&h, base, sizeof h);
  mx_dataset *d = NULL;
  uint64_t *count = NULL;
  if (memcmp(h.magic, MAGIC, 8) != 0) {
    rc = bad(err, path, "wrong magic (not a .mxd file)");
    goto fail;
  }
  if (h.byte_order != BYTE_ORDER_MARK) {
    rc = bad(err, path, "byte order mark mismatch (written little-endian; this machine reads "
                        "it otherwise, or the header is corrupt)");
    goto fail;
  }
  if (h.version != MX_DATASET_FORMAT_VERSION) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "packed dataset format version %u is not supported (this merx reads %d; "
                     "pack it again with merx data pack)", h.version, MX_DATASET_FORMAT_VERSION);
    goto fail;
  }
  uint64_t want = h.header_hash;
  h.header_hash = 0;
  if (mx__xxh64(&h, sizeof h, HASH_SEED) != want) {
    rc = bad(err, path, "header checksum mismatch (corrupt header)");
    goto fail;
  }
  if (h.file_size != fsize) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                     "not a valid merx packed dataset: size is %llu bytes, header says %llu "
                     "(truncated or appended to)",
                     (unsigned long long)fsize, (unsigned long long)h.file_size);
    goto fail;
  }
  if (h.has_value > 1 || h.has_time > 1 || h.nnz > UINT32_MAX - 1) {
    rc = bad(err, path, "inconsistent header");
    goto fail;
  }
  {
    int with_t = h.has_time != 0; /* the builder keeps times exactly then */
    uint64_t expect[N_SECTIONS];
    expect[SEC_USER_IDS] = h.size[SEC_USER_IDS];
    expect[SEC_ITEM_IDS] = h.size[SEC_ITEM_IDS];
    expect[SEC_U_INDPTR] = ((uint64_t)h.n_users + 1) * 8;
    expect[SEC_U_INDICES] = h.nnz * 4;
    expect[SEC_U_VALUES] = h.nnz * 4;
    expect[SEC_U_TIMES] = with_t ? h.nnz * 8 : 0;
    expect[SEC_I_INDPTR] = ((uint64_t)h.n_items + 1) * 8;
    expect[SEC_I_INDICES] = h.nnz * 4;
    expect[SEC_I_VALUES] = h.nnz * 4;
    expect[SEC_I_TIMES] = with_t ? h.nnz * 8 : 0;
    for (int s = 0; s < N_SECTIONS; s++) {
      if (h.size[s] != expect[s] || h.offset[s] % ALIGN != 0 || h.offset[s] < HEADER_SIZE ||
          h.offset[s] > fsize || h.size[s] > fsize - h.offset[s]) {
        rc = bad(err, path, "inconsistent section table");
        goto fail;
      }
    }
  }
  {
    uint64_t ph = mx__block_hash(mx__xxh64, base + HEADER_SIZE, fsize - HEADER_SIZE, HASH_SEED);
    if (ph != h.payload_hash) {
      rc = bad(err, path, "payload checksum mismatch (corrupt file)");
      goto fail;
    }
  }
  /* Whose pseudonyms: a keyed caller (opts->user_rewrite) meets a file of
   * its own pseudonyms (as is), of plain ids (pseudonymised here, as ingest
   * would) or of another key's (refused: they would join nobody). */
  const mx_ingest_options *rewrite = NULL;
  if (opts && opts->user_rewrite) {
    if (h.pseudonym_key == 0) {
      rewrite = opts;
    } else if (h.pseudonym_key != opts->user_rewrite_check) {
      rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "packed dataset holds pseudonyms of another store key (pack it again "
                       "from the CSV with this store)");
      goto fail;
    }
  }
  d = calloc(1, sizeof *d);
  count = calloc((size_t)h.n_items + 1, sizeof *count);
  if (!d || !count) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  d->mapping = map;
  d->mapping_size = (size_t)fsize;
  map = NULL; /* d owns it now */
  unsigned char *b = d->mapping;
#define SEC(s, type) (h.size[s] ? (type *)(void *)(b + h.offset[s]) : NULL)
  d->by_user = (mx_csr){h.n_users, h.nnz, SEC(SEC_U_INDPTR, uint64_t),
                        SEC(SEC_U_INDICES, uint32_t), SEC(SEC_U_VALUES, float),
                        SEC(SEC_U_TIMES, int64_t)};
  d->by_item = (mx_csr){h.n_items, h.nnz, SEC(SEC_I_INDPTR, uint64_t),
                        SEC(SEC_I_INDICES, uint32_t), SEC(SEC_I_VALUES, float),
                        SEC(SEC_I_TIMES, int64_t)};
#undef SEC
  /* nnz 0: the arrays are empty sections; point them at the header so no
   * caller meets NULL where an owned dataset has a (1-element) block */
  if (!d->by_user.indices) d->by_user.indices = d->by_item.indices = (uint32_t *)(void *)b;
  if (!d->by_user.values) d->by_user.values = d->by_item.values = (float *)(void *)b;
  if (h.has_time && !d->by_user.times) d->by_user.times = d->by_item.times = (int64_t *)(void *)b;
  if (!csr_valid(&d->by_user, h.n_items) || !csr_valid(&d->by_item, h.n_users)) {
    rc = bad(err, path, "interaction table out of range");
    goto fail;
  }
  if (!csr_is_transpose(&d->by_user, &d->by_item, count)) {
    rc = bad(err, path, "the two interaction tables disagree");
    goto fail;
  }
  free(count);
  count = NULL;
  d->has_value = (int)h.has_value;
  d->has_time = (int)h.has_time;
  d->rows_read = h.rows_read;
  d->rows_skipped = h.rows_skipped;
  d->value_min = h.value_min;
  d->value_max = h.value_max;
  d->value_sum = h.value_sum;
  d->time_min = h.time_min;
  d->time_max = h.time_max;
  d->pseudonym_key = rewrite ? opts->user_rewrite_check : h.pseudonym_key;
  d->users = mx_idmap_create();
  d->items = mx_idmap_create();
  if (!d->users || !d->items) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  rc = load_ids((const char *)b + h.offset[SEC_USER_IDS], h.size[SEC_USER_IDS], h.n_users,
                d->users, rewrite, path, "user", err);
  if (rc == MX_OK)
    rc = load_ids((const char *)b + h.offset[SEC_ITEM_IDS], h.size[SEC_ITEM_IDS], h.n_items,
                  d->items, NULL, path, "item", err);
  if (rc != MX_OK) goto fail;
  *out = d;
  return MX_OK;
fail:
  free(count);
  mx_dataset_free(d);
  if (map) munmap(map, (size_t)fsize);
  return rc;
}
