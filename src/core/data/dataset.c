/* The interaction dataset: id maps plus CSR by user and by item.
 *
 * The builder collects (user, item, value, time) triplets; finish() orders
 * them with two stable counting sorts (by item, then by user), which leaves
 * every user row sorted by item in O(nnz + users + items), merges repeated
 * pairs, and transposes into the by-item CSR. The sorts move the records
 * themselves (an LSD radix sort with the user and the item as digits): every
 * pass reads its input in order and writes to one stream per bucket, where
 * sorting a permutation read the triplets at random, a cache miss per row per
 * pass once the data outgrows the caches. */
#include "merx/data.h"
#include "core/data/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct mx_dataset_builder {
  mx_idmap *users, *items;
  uint32_t *u, *i;
  float *v;
  int64_t *t;
  size_t n, cap;
  int aggregate;
};

mx_dataset_builder *mx_dataset_builder_create(void) {
  mx_dataset_builder *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->users = mx_idmap_create();
  b->items = mx_idmap_create();
  if (!b->users || !b->items) {
    mx_dataset_builder_free(b);
    return NULL;
  }
  return b;
}

void mx_dataset_builder_free(mx_dataset_builder *b) {
  if (!b) return;
  mx_idmap_free(b->users);
  mx_idmap_free(b->items);
  free(b->u);
  free(b->i);
  free(b->v);
  free(b->t);
  free(b);
}

void mx_dataset_builder_set_aggregate(mx_dataset_builder *b, int how) { b->aggregate = how; }

static int builder_reserve(mx_dataset_builder *b, size_t need) {
  if (need <= b->cap) return MX_OK;
  size_t nc = b->cap ? b->cap : 4096;
  while (nc < need) nc *= 2;
  uint32_t *nu = realloc(b->u, nc * sizeof *nu);
  if (!nu) return MX_ENOMEM;
  b->u = nu;
  uint32_t *ni = realloc(b->i, nc * sizeof *ni);
  if (!ni) return MX_ENOMEM;
  b->i = ni;
  float *nv = realloc(b->v, nc * sizeof *nv);
  if (!nv) return MX_ENOMEM;
  b->v = nv;
  if (b->t) {
    int64_t *nt = realloc(b->t, nc * sizeof *nt);
    if (!nt) return MX_ENOMEM;
    b->t = nt;
  }
  b->cap = nc;
  return MX_OK;
}

mx_idmap *mx__dataset_builder_idmap(mx_dataset_builder *b, int items) {
  return items ? b->items : b->users;
}

int mx__dataset_builder_extend(mx_dataset_builder *b, size_t n, int need_time, uint32_t **u,
                              uint32_t **i, float **v, int64_t **t) {
  if (builder_reserve(b, b->n + n) != MX_OK) return MX_ENOMEM;
  if (need_time && !b->t) {
    b->t = calloc(b->cap, sizeof *b->t);
    if (!b->t) return MX_ENOMEM;
  }
  *u = b->u + b->n;
  *i = b->i + b->n;
  *v = b->v + b->n;
  *t = b->t ? b->t + b->n : NULL;
  b->n += n;
  return MX_OK;
}

int mx_dataset_builder_add(mx_dataset_builder *b, const char *user, size_t user_len,
                           const char *item, size_t item_len, float value, int64_t time) {
  if (b->n == b->cap && builder_reserve(b, b->n + 1) != MX_OK) return MX_ENOMEM;
  /* Times are stored only once one is seen: without a time column they would
   * be 8 bytes of zeros per row (160 MB for 20M rows). */
  if (time != 0 && !b->t) {
    b->t = calloc(b->cap, sizeof *b->t);
    if (!b->t) return MX_ENOMEM;
  }
  int64_t u = mx_idmap_intern(b->users, user, user_len);
  int64_t i = mx_idmap_intern(b->items, item, item_len);
  if (u < 0 || i < 0) return MX_ENOMEM;
  b->u[b->n] = (uint32_t)u;
  b->i[b->n] = (uint32_t)i;
  b->v[b->n] = value;
  if (b->t) b->t[b->n] = time;
  b->n++;
  return MX_OK;
}

void mx_csr_free(mx_csr *c) {
  if (!c) return;
  free(c->indptr);
  free(c->indices);
  free(c->values);
  free(c->times);
  memset(c, 0, sizeof *c);
}

int mx_csr_transpose(const mx_csr *src, uint32_t cols, mx_csr *dst, mx_error *err) {
  memset(dst, 0, sizeof *dst);
  dst->rows = cols;
  dst->nnz = src->nnz;
  dst->indptr = calloc((size_t)cols + 1, sizeof *dst->indptr);
  dst->indices = malloc((src->nnz ? src->nnz : 1) * sizeof *dst->indices);
  dst->values = malloc((src->nnz ? src->nnz : 1) * sizeof *dst->values);
  if (src->times) dst->times = malloc((src->nnz ? src->nnz : 1) * sizeof *dst->times);
  if (!dst->indptr || !dst->indices || !dst->values || (src->times && !dst->times)) {
    mx_csr_free(dst);
    return mx_error_set(err, MX_ENOMEM, "out of memory transposing %llu interactions",
                        (unsigned long long)src->nnz);
  }
  for (uint64_t k = 0; k < src->nnz; k++) dst->indptr[src->indices[k] + 1]++;
  for (uint32_t c = 0; c < cols; c++) dst->indptr[c + 1] += dst->indptr[c];
  uint64_t *next = malloc(((size_t)cols + 1) * sizeof *next);
  if (!next) {
    mx_csr_free(dst);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  memcpy(next, dst->indptr, ((size_t)cols + 1) * sizeof *next);
  for (uint32_t r = 0; r < src->rows; r++)
    for (uint64_t k = src->indptr[r]; k < src->indptr[r + 1]; k++) {
      uint64_t pos = next[src->indices[k]]++;
      dst->indices[pos] = r;
      dst->values[pos] = src->values[k];
      if (src->times) dst->times[pos] = src->times[k];
    }
  free(next);
  return MX_OK;
}

static double agg(int how, double acc, float v) {
  switch (how) {
  case MX_AGG_LAST: return v;
  case MX_AGG_MAX: return v > acc ? v : acc;
  default: return acc + v;
  }
}

/* Exclusive prefix sums of count[0..n) into start[0..n], start[n] = total. */
static void prefix(uint64_t *start, size_t n) {
  uint64_t sum = 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t c = start[k];
    start[k] = sum;
    sum += c;
  }
  start[n] = sum;
}

static void builder_release_triplets(mx_dataset_builder *b) {
  free(b->u);
  free(b->i);
  free(b->v);
  free(b->t);
  b->u = b->i = NULL;
  b->v = NULL;
  b->t = NULL;
}

int mx_dataset_builder_finish(mx_dataset_builder *b, int has_value, int has_time,
                              mx_dataset **out, mx_error *err) {
  *out = NULL;
  if (b->n > UINT32_MAX - 1) {
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ELIMIT, "more than 4 billion interactions");
  }
  uint32_t nu = mx_idmap_size(b->users), ni = mx_idmap_size(b->items);
  size_t n = b->n, n1 = n ? n : 1;
  int with_t = b->t != NULL;
  mx_dataset *d = calloc(1, sizeof *d);
  uint64_t *istart = calloc((size_t)ni + 1, sizeof *istart);
  uint32_t *u1 = malloc(n1 * sizeof *u1);
  float *v1 = malloc(n1 * sizeof *v1);
  int64_t *t1 = with_t ? malloc(n1 * sizeof *t1) : NULL;
  if (!d || !istart || !u1 || !v1 || (with_t && !t1)) {
    free(d); free(istart); free(u1); free(v1); free(t1);
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ENOMEM, "out of memory building the dataset");
  }
  /* Pass 1: stably by item. istart[i] .. istart[i+1] hold item i's rows. */
  for (size_t k = 0; k < n; k++) istart[b->i[k] + 1]++;
  for (uint32_t c = 0; c < ni; c++) istart[c + 1] += istart[c];
  for (size_t k = 0; k < n; k++) {
    uint64_t pos = istart[b->i[k]]++;
    u1[pos] = b->u[k];
    v1[pos] = b->v[k];
    if (with_t) t1[pos] = b->t[k];
  }
  /* istart[i] is now the end of item i: shift back to starts */
  memmove(istart + 1, istart, (size_t)ni * sizeof *istart);
  istart[0] = 0;
  builder_release_triplets(b);

  /* Pass 2: stably by user, reading item by item: each user row comes out
   * sorted by item, repeated pairs adjacent and in file order. */
  mx_csr *c = &d->by_user;
  c->rows = nu;
  c->indptr = calloc((size_t)nu + 1, sizeof *c->indptr);
  uint64_t *next = malloc(((size_t)nu + 1) * sizeof *next);
  uint32_t *i2 = malloc(n1 * sizeof *i2);
  float *v2 = malloc(n1 * sizeof *v2);
  int64_t *t2 = with_t ? malloc(n1 * sizeof *t2) : NULL;
  if (!c->indptr || !next || !i2 || !v2 || (with_t && !t2)) {
    free(istart); free(u1); free(v1); free(t1); free(next); free(i2); free(v2); free(t2);
    mx_dataset_free(d);
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ENOMEM, "out of memory building the dataset");
  }
  memset(next, 0, ((size_t)nu + 1) * sizeof *next);
  for (size_t k = 0; k < n; k++) next[u1[k]]++;
  prefix(next, nu);
  uint64_t *rowstart = c->indptr; /* borrowed for the row starts, rewritten below */
  memcpy(rowstart, next, ((size_t)nu + 1) * sizeof *rowstart);
  for (uint32_t it = 0; it < ni; it++)
    for (uint64_t k = istart[it]; k < istart[it + 1]; k++) {
      uint64_t pos = next[u1[k]]++;
      i2[pos] = it;
      v2[pos] = v1[k];
      if (with_t) t2[pos] = t1[k];
    }
  free(istart); free(u1); free(v1); free(t1); free(next);

  /* Merge repeated pairs in place (the write position never passes the read
   * one). Rows keep file order within a pair (stable sorts), so LAST is the
   * later row; time keeps the latest. */
  size_t w = 0;
  uint64_t row_begin = 0;
  for (uint32_t r = 0; r < nu; r++) {
    uint64_t end = rowstart[r + 1];
    size_t row_w = w;
    for (uint64_t k = row_begin; k < end;) {
      uint32_t item = i2[k];
      double acc = v2[k];
      int64_t tl = with_t ? t2[k] : 0;
      for (k++; k < end && i2[k] == item; k++) {
        acc = agg(b->aggregate, acc, v2[k]);
        if (with_t && t2[k] > tl) tl = t2[k];
      }
      i2[w] = item;
      v2[w] = (float)acc;
      if (with_t) t2[w] = tl;
      w++;
    }
    row_begin = end;
    c->indptr[r] = row_w; /* the start of row r; end of row r is fixed up next */
  }
  c->indptr[nu] = w;
  size_t distinct = w;
  c->nnz = distinct;
  /* shrink to the distinct pairs (a failed shrink keeps the larger block) */
  uint32_t *si = realloc(i2, (distinct ? distinct : 1) * sizeof *si);
  c->indices = si ? si : i2;
  float *sv = realloc(v2, (distinct ? distinct : 1) * sizeof *sv);
  c->values = sv ? sv : v2;
  if (has_time) {
    if (with_t) {
      int64_t *st = realloc(t2, (distinct ? distinct : 1) * sizeof *st);
      c->times = st ? st : t2;
    } else {
      c->times = calloc(distinct ? distinct : 1, sizeof *c->times);
      if (!c->times) {
        mx_dataset_free(d);
        mx_dataset_builder_free(b);
        return mx_error_set(err, MX_ENOMEM, "out of memory building the dataset");
      }
    }
  } else {
    free(t2);
  }

  d->has_value = has_value;
  d->has_time = has_time;
  d->value_min = INFINITY;
  d->value_max = -INFINITY;
  d->time_min = INT64_MAX;
  d->time_max = INT64_MIN;
  for (size_t k = 0; k < c->nnz; k++) {
    double v = c->values[k];
    if (v < d->value_min) d->value_min = v;
    if (v > d->value_max) d->value_max = v;
    d->value_sum += v;
    if (has_time) {
      if (c->times[k] < d->time_min) d->time_min = c->times[k];
      if (c->times[k] > d->time_max) d->time_max = c->times[k];
    }
  }
  if (c->nnz == 0) d->value_min = d->value_max = 0;
  if (!has_time || c->nnz == 0) d->time_min = d->time_max = 0;

  d->users = b->users;
  d->items = b->items;
  b->users = b->items = NULL;
  mx_dataset_builder_free(b);
  int rc = mx_csr_transpose(&d->by_user, ni, &d->by_item, err);
  if (rc) {
    mx_dataset_free(d);
    return rc;
  }
  *out = d;
  return MX_OK;
}

void mx_dataset_free(mx_dataset *d) {
  if (!d) return;
  mx_idmap_free(d->users);
  mx_idmap_free(d->items);
  if (d->mapping) {
    munmap(d->mapping, d->mapping_size); /* the CSR arrays live there */
  } else {
    mx_csr_free(&d->by_user);
    mx_csr_free(&d->by_item);
  }
  free(d);
}

uint32_t mx_dataset_users(const mx_dataset *d) { return mx_idmap_size(d->users); }
uint32_t mx_dataset_items(const mx_dataset *d) { return mx_idmap_size(d->items); }
uint64_t mx_dataset_nnz(const mx_dataset *d) { return d->by_user.nnz; }

uint64_t mx_dataset_fingerprint(const mx_dataset *d) {
  uint64_t h = 0x6d65727800000001ULL;
  for (uint32_t u = 0; u < mx_dataset_users(d); u++) {
    const char *s = mx_idmap_name(d->users, u);
    h = mx_hash64(s, strlen(s), h);
  }
  for (uint32_t i = 0; i < mx_dataset_items(d); i++) {
    const char *s = mx_idmap_name(d->items, i);
    h = mx_hash64(s, strlen(s), h);
  }
  const mx_csr *c = &d->by_user;
  h = mx_hash64(c->indptr, ((size_t)c->rows + 1) * sizeof *c->indptr, h);
  h = mx_hash64(c->indices, c->nnz * sizeof *c->indices, h);
  h = mx_hash64(c->values, c->nnz * sizeof *c->values, h);
  return h;
}

int mx_dataset_from_triplets(const char *const *users, const char *const *items,
                             const float *values, const int64_t *times, size_t n,
                             mx_dataset **out, mx_error *err) {
  mx_dataset_builder *b = mx_dataset_builder_create();
  if (!b) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++) {
    if (!users[k] || !items[k] || !users[k][0] || !items[k][0]) {
      mx_dataset_builder_free(b);
      return mx_error_set(err, MX_EINVAL, "interaction %zu has an empty user or item id", k + 1);
    }
    float v = values ? values[k] : 1.0f;
    if (!isfinite(v)) {
      mx_dataset_builder_free(b);
      return mx_error_set(err, MX_EINVAL, "interaction %zu has a non-finite value", k + 1);
    }
    if (mx_dataset_builder_add(b, users[k], strlen(users[k]), items[k], strlen(items[k]), v,
                               times ? times[k] : 0) != MX_OK) {
      mx_dataset_builder_free(b);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
  }
  return mx_dataset_builder_finish(b, values != NULL, times != NULL, out, err);
}
