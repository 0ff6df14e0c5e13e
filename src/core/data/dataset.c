/* The interaction dataset: id maps plus CSR by user and by item.
 *
 * The builder collects (user, item, value, time) triplets; finish() orders
 * them with two stable counting sorts (by item, then by user), which leaves
 * every user row sorted by item in O(nnz + users + items), merges repeated
 * pairs, and transposes into the by-item CSR. */
#include "merx/data.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int mx_dataset_builder_add(mx_dataset_builder *b, const char *user, size_t user_len,
                           const char *item, size_t item_len, float value, int64_t time) {
  if (b->n == b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
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
  }
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

/* Stable counting sort of perm (indices into keys) by keys[perm[k]]. */
static int counting_sort(const uint32_t *keys, uint32_t nkeys, const uint32_t *perm_in,
                         uint32_t *perm_out, size_t n, uint64_t *count /* nkeys+1, scratch */) {
  memset(count, 0, ((size_t)nkeys + 1) * sizeof *count);
  for (size_t k = 0; k < n; k++) count[keys[perm_in ? perm_in[k] : k] + 1]++;
  for (uint32_t c = 0; c < nkeys; c++) count[c + 1] += count[c];
  for (size_t k = 0; k < n; k++) {
    uint32_t src = perm_in ? perm_in[k] : (uint32_t)k;
    perm_out[count[keys[src]]++] = src;
  }
  return 0;
}

static double agg(int how, double acc, float v) {
  switch (how) {
  case MX_AGG_LAST: return v;
  case MX_AGG_MAX: return v > acc ? v : acc;
  default: return acc + v;
  }
}

int mx_dataset_builder_finish(mx_dataset_builder *b, int has_value, int has_time,
                              mx_dataset **out, mx_error *err) {
  *out = NULL;
  if (b->n > UINT32_MAX - 1) {
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ELIMIT, "more than 4 billion interactions");
  }
  uint32_t nu = mx_idmap_size(b->users), ni = mx_idmap_size(b->items);
  size_t n = b->n;
  mx_dataset *d = calloc(1, sizeof *d);
  uint32_t *p1 = malloc((n ? n : 1) * sizeof *p1);
  uint32_t *p2 = malloc((n ? n : 1) * sizeof *p2);
  uint64_t *count = malloc(((size_t)(nu > ni ? nu : ni) + 1) * sizeof *count);
  if (!d || !p1 || !p2 || !count) {
    free(d); free(p1); free(p2); free(count);
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ENOMEM, "out of memory building the dataset");
  }
  /* Sort by item, then stably by user: rows by user, each sorted by item. */
  counting_sort(b->i, ni, NULL, p1, n, count);
  counting_sort(b->u, nu, p1, p2, n, count);
  free(p1);
  free(count);

  /* Count distinct pairs per user. */
  mx_csr *c = &d->by_user;
  c->rows = nu;
  c->indptr = calloc((size_t)nu + 1, sizeof *c->indptr);
  size_t distinct = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t s = p2[k];
    if (k == 0 || b->u[s] != b->u[p2[k - 1]] || b->i[s] != b->i[p2[k - 1]]) distinct++;
  }
  c->nnz = distinct;
  c->indices = malloc((distinct ? distinct : 1) * sizeof *c->indices);
  c->values = malloc((distinct ? distinct : 1) * sizeof *c->values);
  if (has_time) c->times = malloc((distinct ? distinct : 1) * sizeof *c->times);
  if (!c->indptr || !c->indices || !c->values || (has_time && !c->times)) {
    free(p2);
    mx_dataset_free(d);
    mx_dataset_builder_free(b);
    return mx_error_set(err, MX_ENOMEM, "out of memory building the dataset");
  }
  size_t w = 0;
  double acc = 0;
  int64_t tlast = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t s = p2[k];
    int first = k == 0 || b->u[s] != b->u[p2[k - 1]] || b->i[s] != b->i[p2[k - 1]];
    if (first) {
      if (k > 0) {
        c->values[w - 1] = (float)acc;
        if (has_time) c->times[w - 1] = tlast;
      }
      c->indices[w] = b->i[s];
      c->indptr[b->u[s] + 1]++;
      w++;
      acc = b->v[s];
      tlast = b->t ? b->t[s] : 0;
    } else {
      /* Rows keep file order within a pair (stable sorts), so LAST is the
       * later row; time keeps the latest. */
      acc = agg(b->aggregate, acc, b->v[s]);
      if (b->t && b->t[s] > tlast) tlast = b->t[s];
    }
  }
  if (w > 0) {
    c->values[w - 1] = (float)acc;
    if (has_time) c->times[w - 1] = tlast;
  }
  for (uint32_t r = 0; r < nu; r++) c->indptr[r + 1] += c->indptr[r];
  free(p2);

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
  mx_csr_free(&d->by_user);
  mx_csr_free(&d->by_item);
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
