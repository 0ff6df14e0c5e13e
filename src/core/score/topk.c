/* Batched top-K: scores computed tile by tile and reduced at once into
 * per-query bounded heaps, so the queries x targets matrix never exists.
 *
 * For a block of TU queries and a tile of TI targets, one cblas_sgemm writes
 * the TU x TI tile (sized to stay in L2), the tile's excluded cells are set to
 * -inf, and each row is scanned against its heap's threshold. Targets are
 * visited in ascending id order, so a later target that ties the threshold
 * always loses (ties go to the smaller id): the scan test is a plain
 * "score > threshold", done 16 cells at a time with a vectorisable count and
 * only the rare chunks holding a winner looked at cell by cell. With K much
 * smaller than the targets, the list sees about K·(1 + ln(N/K)) insertions per
 * query, so the cost is the sgemm plus one streaming pass over each tile.
 * K up to 64 is kept as a sorted array (insertion from the end), larger K as
 * a binary heap. */
#include "core/score/internal.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

mx_topk_options mx_topk_defaults(void) {
  mx_topk_options o;
  memset(&o, 0, sizeof o);
  o.k = 10;
  return o;
}

void mx_topk_result_free(mx_topk_result *r) {
  if (!r) return;
  free(r->ids);
  free(r->scores);
  free(r->count);
  free(r);
}

/* ------------------------------------------------------------ targets */

void mx_targets_free(mx_targets *t) {
  if (!t) return;
  free(t->ids);
  free(t->pos);
  mx_free_aligned(t->owned_vec);
  mx_free_aligned(t->owned_bias);
  memset(t, 0, sizeof *t);
}

int mx_targets_build(mx_targets *t, uint32_t n_all, const float *vec, uint32_t dim,
                     const float *bias, const uint32_t *candidates, uint32_t n_candidates,
                     const uint64_t *mask, mx_error *err) {
  memset(t, 0, sizeof *t);
  t->n_all = n_all;
  if (!candidates && !mask) {
    t->n = n_all;
    t->vec = vec;
    t->bias = bias;
    return MX_OK;
  }
  if (candidates && n_candidates == 0)
    return mx_error_set(err, MX_EEMPTY, "the candidate set is empty");
  t->pos = malloc(((size_t)n_all + 1) * sizeof *t->pos);
  if (!t->pos) return mx_error_set(err, MX_ENOMEM, "out of memory");
  /* pos doubles as the membership marker while building: 0 = out, 1 = in. */
  if (candidates) {
    memset(t->pos, 0, (size_t)n_all * sizeof *t->pos);
    for (uint32_t c = 0; c < n_candidates; c++) {
      if (candidates[c] >= n_all) {
        mx_targets_free(t);
        return mx_error_set(err, MX_EINVAL, "candidate index %u out of range (%u items)",
                            candidates[c], n_all);
      }
      t->pos[candidates[c]] = 1;
    }
  } else {
    for (uint32_t i = 0; i < n_all; i++) t->pos[i] = 1;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < n_all; i++) {
    if (t->pos[i] && mask && !mx_bitset_test(mask, i)) t->pos[i] = 0;
    n += t->pos[i] != 0;
  }
  if (n == 0) {
    mx_targets_free(t);
    return mx_error_set(err, MX_EEMPTY, "no item is eligible after the candidate set and filters");
  }
  t->ids = malloc((size_t)n * sizeof *t->ids);
  if (!t->ids) {
    mx_targets_free(t);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  uint32_t c = 0;
  for (uint32_t i = 0; i < n_all; i++) {
    if (t->pos[i]) {
      t->ids[c] = i;
      t->pos[i] = c++;
    } else {
      t->pos[i] = MX_TOPK_NONE;
    }
  }
  t->n = n;
  if (vec && dim) {
    t->owned_vec = mx_alloc_aligned((size_t)n * dim * sizeof(float), 0);
    if (!t->owned_vec) {
      mx_targets_free(t);
      return mx_error_set(err, MX_ENOMEM, "out of memory gathering %u candidate vectors", n);
    }
    for (uint32_t r = 0; r < n; r++)
      memcpy(t->owned_vec + (size_t)r * dim, vec + (size_t)t->ids[r] * dim, dim * sizeof(float));
    t->vec = t->owned_vec;
  }
  if (bias) {
    t->owned_bias = mx_alloc_aligned((size_t)n * sizeof(float), 0);
    if (!t->owned_bias) {
      mx_targets_free(t);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    for (uint32_t r = 0; r < n; r++) t->owned_bias[r] = bias[t->ids[r]];
    t->bias = t->owned_bias;
  }
  return MX_OK;
}

/* ------------------------------------------------------------- heaps
 * A min-heap of (score, id) whose root is the worst entry kept: lower score,
 * or the same score and a larger id. */
typedef struct {
  float s;
  uint32_t id;
} entry;

static inline int worse(entry a, entry b) { return a.s < b.s || (a.s == b.s && a.id > b.id); }

static void heap_sift_down(entry *h, uint32_t n, uint32_t i) {
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < n && worse(h[l], h[w])) w = l;
    if (r < n && worse(h[r], h[w])) w = r;
    if (w == i) return;
    entry t = h[i];
    h[i] = h[w];
    h[w] = t;
    i = w;
  }
}

static void heap_push(entry *h, uint32_t *n, entry e) {
  uint32_t i = (*n)++;
  h[i] = e;
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!worse(h[i], h[p])) break;
    entry t = h[i];
    h[i] = h[p];
    h[p] = t;
    i = p;
  }
}

static int better_cmp(const void *a, const void *b) {
  entry x = *(const entry *)a, y = *(const entry *)b;
  if (worse(y, x)) return -1;
  if (worse(x, y)) return 1;
  return 0;
}

/* -------------------------------------------------------------- engine */

typedef struct {
  const mx_topk_problem *p;
  mx_topk_result *res;
  uint32_t k, tu, ti;
  _Atomic uint32_t next_block;
  _Atomic uint64_t done;
  _Atomic int failed;
} run_ctx;

static inline uint32_t q_row(const mx_topk_problem *p, uint32_t q) {
  return p->q_rows ? p->q_rows[q] : q;
}

/* First index in sorted a[lo, hi) with a[i] >= v. */
static uint64_t lower_bound32(const uint32_t *a, uint64_t lo, uint64_t hi, uint32_t v) {
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Set excluded cells of the tile row (targets c0..c1) to -inf. */
static void exclude_row(const mx_topk_problem *p, uint32_t row, uint32_t c0, uint32_t c1,
                        float *c) {
  const mx_targets *t = p->targets;
  uint32_t id_lo = t->ids ? t->ids[c0] : c0;
  uint32_t id_hi = t->ids ? t->ids[c1 - 1] : c1 - 1;
  if (p->exclude_self && row >= id_lo && row <= id_hi) {
    uint32_t cc = t->pos ? t->pos[row] : row;
    if (cc != MX_TOPK_NONE) c[cc - c0] = -INFINITY;
  }
  const mx_csr *ex = p->exclude;
  if (!ex || !ex->indptr || row >= ex->rows) return;
  uint64_t a = ex->indptr[row], b = ex->indptr[row + 1];
  if (a == b) return;
  for (uint64_t j = lower_bound32(ex->indices, a, b, id_lo); j < b; j++) {
    uint32_t id = ex->indices[j];
    if (id > id_hi) break;
    uint32_t cc = t->pos ? t->pos[id] : id;
    if (cc != MX_TOPK_NONE) c[cc - c0] = -INFINITY;
  }
}

/* EASE tile row: Σ_{j in history} B[j, id(c)] for c in [c0, c1). */
static void ease_row(const mx_topk_problem *p, uint32_t row, uint32_t c0, uint32_t c1, float *c) {
  const mx_targets *t = p->targets;
  uint32_t w = c1 - c0;
  memset(c, 0, (size_t)w * sizeof *c);
  const mx_csr *h = p->hist;
  if (!h || !h->indptr || row >= h->rows) return;
  size_t n_all = t->n_all;
  for (uint64_t j = h->indptr[row]; j < h->indptr[row + 1]; j++) {
    const float *b = p->ease_b + (size_t)h->indices[j] * n_all;
    if (t->ids) {
      for (uint32_t x = 0; x < w; x++) c[x] += b[t->ids[c0 + x]];
    } else {
      b += c0;
      for (uint32_t x = 0; x < w; x++) c[x] += b[x];
    }
  }
}

/* Cells tested per vectorised count (portable scan), and the largest K kept
 * as a sorted array rather than a heap. */
#define SCAN_CHUNK 16
#define SORTED_MAX_K 64

/* Keep e (which beats the current threshold) in the top-K list; returns the
 * new threshold (-inf until the list is full). */
static inline float keep(entry *heap, uint32_t *hn, uint32_t k, entry e, float thr) {
  if (k <= SORTED_MAX_K) {
    /* Small K: a sorted array (best first) with insertion from the end — a
     * few predictable moves instead of a heap's unpredictable branch per
     * level. e always beats the last entry here. */
    uint32_t pos = *hn < k ? (*hn)++ : k - 1;
    while (pos > 0 && worse(heap[pos - 1], e)) {
      heap[pos] = heap[pos - 1];
      pos--;
    }
    heap[pos] = e;
    return *hn == k ? heap[k - 1].s : thr;
  }
  if (*hn < k) {
    heap_push(heap, hn, e);
    return *hn == k ? heap[0].s : thr;
  }
  heap[0] = e;
  heap_sift_down(heap, k, 0);
  return heap[0].s;
}

/* Scan one tile row into the list (portable version). Returns the new
 * threshold. */
static float scan_row_generic(float *c, const float *bias, uint32_t w, uint32_t c0,
                              const uint32_t *ids, entry *heap, uint32_t *hn, uint32_t k,
                              float thr) {
  for (uint32_t x0 = 0; x0 < w; x0 += SCAN_CHUNK) {
    uint32_t x1 = x0 + SCAN_CHUNK < w ? x0 + SCAN_CHUNK : w;
    int hits = 0;
    if (bias) {
      for (uint32_t x = x0; x < x1; x++) {
        float v = c[x] + bias[x];
        c[x] = v;
        hits += v > thr;
      }
    } else {
      for (uint32_t x = x0; x < x1; x++) hits += c[x] > thr;
    }
    if (!hits) continue;
    for (uint32_t x = x0; x < x1; x++) {
      float v = c[x];
      if (!(v > thr)) continue;
      entry e = {v, ids ? ids[c0 + x] : c0 + x};
      thr = keep(heap, hn, k, e, thr);
    }
  }
  return thr;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SCAN_AVX2 1
/* AVX2 version: compare 8 scores at once and visit only the set bits of the
 * comparison mask. _CMP_GT_OQ is false for NaN, like the scalar "v > thr";
 * the bias is added with the same single-precision add, so both versions
 * keep exactly the same entries. */
__attribute__((target("avx2"))) static float scan_row_avx2(float *c, const float *bias, uint32_t w,
                                                         uint32_t c0, const uint32_t *ids,
                                                         entry *heap, uint32_t *hn, uint32_t k,
                                                         float thr) {
  uint32_t x0 = 0;
  __m256 t = _mm256_set1_ps(thr);
  for (; x0 + 8 <= w; x0 += 8) {
    __m256 v = _mm256_loadu_ps(c + x0);
    if (bias) {
      v = _mm256_add_ps(v, _mm256_loadu_ps(bias + x0));
      _mm256_storeu_ps(c + x0, v);
    }
    unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, t, _CMP_GT_OQ));
    while (mask) {
      uint32_t x = x0 + (uint32_t)__builtin_ctz(mask);
      mask &= mask - 1;
      float s = c[x];
      if (!(s > thr)) continue; /* the threshold rose within this group */
      entry e = {s, ids ? ids[c0 + x] : c0 + x};
      thr = keep(heap, hn, k, e, thr);
      t = _mm256_set1_ps(thr);
    }
  }
  if (x0 < w)
    thr = scan_row_generic(c + x0, bias ? bias + x0 : NULL, w - x0, c0 + x0, ids, heap, hn, k, thr);
  return thr;
}
#endif

/* Scan one tile row into the list. Returns the new threshold. */
static float scan_row(float *c, const float *bias, uint32_t w, uint32_t c0, const uint32_t *ids,
                      entry *heap, uint32_t *hn, uint32_t k, float thr) {
#ifdef HAVE_SCAN_AVX2
  /* MERX_NO_AVX2 (any value) forces the portable scan, so tests cover both. */
  static _Atomic int avx2 = -1;
  int use = atomic_load_explicit(&avx2, memory_order_relaxed);
  if (use < 0) {
    use = __builtin_cpu_supports("avx2") && !getenv("MERX_NO_AVX2");
    atomic_store_explicit(&avx2, use, memory_order_relaxed);
  }
  if (use) return scan_row_avx2(c, bias, w, c0, ids, heap, hn, k, thr);
#endif
  return scan_row_generic(c, bias, w, c0, ids, heap, hn, k, thr);
}

static int worker(void *vctx, int tid, int nthreads) {
  run_ctx *ctx = vctx;
  const mx_topk_problem *p = ctx->p;
  const mx_targets *t = p->targets;
  uint32_t k = ctx->k, tu = ctx->tu, ti = ctx->ti, dim = p->dim;
  float *tile = mx_alloc_aligned((size_t)tu * ti * sizeof(float), 0);
  float *qbuf = (p->q_vec && dim) ? mx_alloc_aligned((size_t)tu * dim * sizeof(float), 0) : NULL;
  entry *heaps = malloc((size_t)tu * k * sizeof *heaps);
  uint32_t *hn = malloc((size_t)tu * sizeof *hn);
  float *thr = malloc((size_t)tu * sizeof *thr);
  if (!tile || !heaps || !hn || !thr || (p->q_vec && dim && !qbuf)) {
    mx_free_aligned(tile);
    mx_free_aligned(qbuf);
    free(heaps);
    free(hn);
    free(thr);
    atomic_store(&ctx->failed, 1);
    return MX_ENOMEM;
  }
  uint32_t n_blocks = (p->n_q + tu - 1) / tu;
  int rc = MX_OK;
  for (;;) {
    if (atomic_load(&ctx->failed)) break;
    uint32_t blk = atomic_fetch_add(&ctx->next_block, 1);
    if (blk >= n_blocks) break;
    if ((rc = mx_cancel_check(p->opt->cancel, "top-K", NULL)) != MX_OK) {
      atomic_store(&ctx->failed, 1);
      break;
    }
    uint32_t q0 = blk * tu, q1 = q0 + tu < p->n_q ? q0 + tu : p->n_q, mu = q1 - q0;
    const float *a = NULL;
    if (p->q_vec && dim) {
      if (p->q_rows) {
        for (uint32_t q = q0; q < q1; q++)
          memcpy(qbuf + (size_t)(q - q0) * dim, p->q_vec + (size_t)p->q_rows[q] * dim,
                 dim * sizeof(float));
        a = qbuf;
      } else {
        a = p->q_vec + (size_t)q0 * dim;
      }
    }
    for (uint32_t q = 0; q < mu; q++) {
      hn[q] = 0;
      thr[q] = -INFINITY;
    }
    for (uint32_t c0 = 0; c0 < t->n; c0 += ti) {
      uint32_t c1 = c0 + ti < t->n ? c0 + ti : t->n, w = c1 - c0;
      if (p->q_vec) {
        if (dim == 0) {
          memset(tile, 0, (size_t)mu * w * sizeof(float));
        } else if (mu == 1) {
          /* one query: matrix-vector product (the latency path) */
          cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)w, (int)dim, 1.0f,
                      t->vec + (size_t)c0 * dim, (int)dim, a, 1, 0.0f, tile, 1);
        } else {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mu, (int)w, (int)dim, 1.0f, a,
                      (int)dim, t->vec + (size_t)c0 * dim, (int)dim, 0.0f, tile, (int)w);
        }
      }
      for (uint32_t q = 0; q < mu; q++) {
        float *c = tile + (size_t)q * w;
        uint32_t row = q_row(p, q0 + q);
        if (!p->q_vec) ease_row(p, row, c0, c1, c);
        exclude_row(p, row, c0, c1, c);
        thr[q] = scan_row(c, t->bias ? t->bias + c0 : NULL, w, c0, t->ids, heaps + (size_t)q * k,
                          &hn[q], k, thr[q]);
      }
    }
    for (uint32_t q = 0; q < mu; q++) {
      entry *h = heaps + (size_t)q * k;
      if (k > SORTED_MAX_K) qsort(h, hn[q], sizeof *h, better_cmp);
      uint32_t row = q_row(p, q0 + q);
      float add = p->q_const + (p->q_bias ? p->q_bias[row] : 0.0f);
      uint32_t *ids = ctx->res->ids + (size_t)(q0 + q) * k;
      float *sc = ctx->res->scores + (size_t)(q0 + q) * k;
      for (uint32_t j = 0; j < hn[q]; j++) {
        ids[j] = h[j].id;
        float v = h[j].s + add;
        if (p->clip_hi > p->clip_lo) v = v < p->clip_lo ? p->clip_lo : v > p->clip_hi ? p->clip_hi : v;
        sc[j] = v;
      }
      for (uint32_t j = hn[q]; j < k; j++) {
        ids[j] = MX_TOPK_NONE;
        sc[j] = NAN;
      }
      ctx->res->count[q0 + q] = hn[q];
    }
    uint64_t done = atomic_fetch_add(&ctx->done, mu) + mu;
    if (tid == 0 && p->opt->progress) p->opt->progress(p->opt->progress_ctx, done);
  }
  mx_free_aligned(tile);
  mx_free_aligned(qbuf);
  free(heaps);
  free(hn);
  free(thr);
  (void)nthreads;
  return rc;
}

int mx_topk_run(const mx_topk_problem *p, mx_topk_result **out, mx_error *err) {
  *out = NULL;
  const mx_topk_options *opt = p->opt;
  if (opt->k == 0) return mx_error_set(err, MX_EINVAL, "k must be at least 1");
  uint32_t k = opt->k < p->targets->n ? opt->k : p->targets->n;
  mx_topk_result *res = calloc(1, sizeof *res);
  if (!res) return mx_error_set(err, MX_ENOMEM, "out of memory");
  res->n = p->n_q;
  res->k = k;
  res->eligible = p->targets->n;
  size_t cells = (size_t)p->n_q * k;
  res->ids = malloc((cells ? cells : 1) * sizeof *res->ids);
  res->scores = malloc((cells ? cells : 1) * sizeof *res->scores);
  res->count = calloc(p->n_q ? p->n_q : 1, sizeof *res->count);
  if (!res->ids || !res->scores || !res->count) {
    mx_topk_result_free(res);
    return mx_error_set(err, MX_ENOMEM, "out of memory for %u top-%u lists", p->n_q, k);
  }
  if (p->n_q == 0 || k == 0) {
    *out = res;
    return MX_OK;
  }
  /* Tiles: about 512 KiB of scores (half the L2 of current x86 cores), wide
   * in targets so each sgemm call amortises its packing of the query block. */
  uint32_t tu = opt->tile_users, ti = opt->tile_items;
  if (tu == 0) tu = p->n_q == 1 ? 1 : 128;
  if (ti == 0) ti = tu == 1 ? 4096 : (uint32_t)((512u * 1024u / sizeof(float)) / tu);
  if (ti < 1) ti = 1;
  if (tu > p->n_q) tu = p->n_q;
  if (ti > p->targets->n) ti = p->targets->n;
  int threads = mx_threads_resolve(opt->threads);
  uint32_t n_blocks = (p->n_q + tu - 1) / tu;
  if ((uint32_t)threads > n_blocks) threads = (int)n_blocks;
  run_ctx ctx = {.p = p, .res = res, .k = k, .tu = tu, .ti = ti};
  atomic_init(&ctx.next_block, 0);
  atomic_init(&ctx.done, 0);
  atomic_init(&ctx.failed, 0);
  mx_blas_begin(1);
  int rc = mx_parallel_run(threads, worker, &ctx);
  mx_blas_end();
  if (rc != MX_OK) {
    mx_topk_result_free(res);
    if (rc != MX_ENOMEM) return mx_cancel_check(opt->cancel, "top-K", err);
    return mx_error_set(err, rc, "out of memory for top-K tiles (%u x %u)", tu, ti);
  }
  *out = res;
  return MX_OK;
}
