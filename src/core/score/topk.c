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

void mx__targets_free(mx_targets *t) {
  if (!t) return;
  free(t->ids);
  free(t->pos);
  mx_free_aligned(t->owned_vec);
  mx_free_aligned(t->owned_bias);
  memset(t, 0, sizeof *t);
}

int mx__targets_build(mx_targets *t, uint32_t n_all, const float *vec, uint32_t dim,
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
        mx__targets_free(t);
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
    mx__targets_free(t);
    return mx_error_set(err, MX_EEMPTY, "no item is eligible after the candidate set and filters");
  }
  t->ids = malloc((size_t)n * sizeof *t->ids);
  if (!t->ids) {
    mx__targets_free(t);
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
      mx__targets_free(t);
      return mx_error_set(err, MX_ENOMEM, "out of memory gathering %u candidate vectors", n);
    }
    for (uint32_t r = 0; r < n; r++)
      memcpy(t->owned_vec + (size_t)r * dim, vec + (size_t)t->ids[r] * dim, dim * sizeof(float));
    t->vec = t->owned_vec;
  }
  if (bias) {
    t->owned_bias = mx_alloc_aligned((size_t)n * sizeof(float), 0);
    if (!t->owned_bias) {
      mx__targets_free(t);
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


/* ---------------------------------------------------- bf16 first pass
 * The item factors as bf16 (the top half of a float, rounded to nearest
 * even: relative error at most 2^-8), in panels of 16 items: 32-bit lane j
 * of pair p of panel b holds dims 2p and 2p+1 of item 16b+j (zero past the
 * last item or dim). One AVX-512 BF16 dot product (vdpbf16ps) of a panel
 * vector with a query's pair broadcast to every lane adds 2 dims to 16
 * items' scores, so a panel's scores come out as one vector with no
 * horizontal sums, and the scan reads half the bytes of the float matrix. */
struct mx_item_bf16 {
  uint32_t n, dim, hp; /* items, factors, pairs (dim rounded up to even, halved) */
  double vmax;         /* largest item norm (of the float vectors) */
  const float *src;    /* the matrix it was built from: compared, never read */
  uint32_t *panels;    /* ceil(n/16) x hp x 16 */
};

static inline uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static inline float from_bf16(uint32_t h) {
  uint32_t u = h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Pack a float vector as bf16 pairs (low half = the even dim). */
static void pack_pairs(const float *v, uint32_t dim, uint32_t hp, uint32_t *out) {
  for (uint32_t p = 0; p < hp; p++) {
    uint32_t lo = to_bf16(v[2 * p]);
    uint32_t hi = 2 * p + 1 < dim ? to_bf16(v[2 * p + 1]) : 0;
    out[p] = lo | hi << 16;
  }
}

mx_item_bf16 *mx_item_bf16_build(const mx_model *m) {
  if (!m || !m->item_factors || m->factors == 0 || m->n_items == 0 || m->kind == MX_MODEL_EASE)
    return NULL;
  mx_item_bf16 *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->n = m->n_items;
  a->dim = m->factors;
  a->hp = (a->dim + 1) / 2;
  a->src = m->item_factors;
  size_t nb = ((size_t)a->n + 15) / 16;
  a->panels = mx_alloc_aligned(nb * a->hp * 16 * sizeof *a->panels, 0);
  uint32_t *row = malloc((size_t)a->hp * sizeof *row);
  if (!a->panels || !row) {
    free(row);
    mx_item_bf16_free(a);
    return NULL;
  }
  memset(a->panels, 0, nb * a->hp * 16 * sizeof *a->panels);
  for (uint32_t i = 0; i < a->n; i++) {
    const float *v = m->item_factors + (size_t)i * a->dim;
    double nn = 0;
    for (uint32_t d = 0; d < a->dim; d++) nn += (double)v[d] * v[d];
    if (sqrt(nn) > a->vmax || isnan(nn)) a->vmax = isnan(nn) ? INFINITY : sqrt(nn);
    pack_pairs(v, a->dim, a->hp, row);
    uint32_t *panel = a->panels + (size_t)(i / 16) * a->hp * 16 + (i % 16);
    for (uint32_t p = 0; p < a->hp; p++) panel[(size_t)p * 16] = row[p];
  }
  free(row);
  return a;
}

void mx_item_bf16_free(mx_item_bf16 *a) {
  if (!a) return;
  mx_free_aligned(a->panels);
  free(a);
}

/* Scores of mu packed queries (mu x hp) against panels b0 .. b0+nb-1 into
 * out (row stride ld, a multiple of 16): portable version. Each lane sums
 * the same products as vdpbf16ps (exact in float: 8-bit mantissas), in
 * float. */
static void bf16_tile_generic(const uint32_t *q, uint32_t mu, const mx_item_bf16 *a, uint32_t b0,
                              uint32_t nb, float *out, size_t ld) {
  uint32_t hp = a->hp;
  for (uint32_t u = 0; u < mu; u++) {
    const uint32_t *qu = q + (size_t)u * hp;
    for (uint32_t b = 0; b < nb; b++) {
      const uint32_t *pb = a->panels + (size_t)(b0 + b) * hp * 16;
      float acc[16] = {0};
      for (uint32_t p = 0; p < hp; p++) {
        float ql = from_bf16(qu[p] & 0xffffu), qh = from_bf16(qu[p] >> 16);
        for (uint32_t j = 0; j < 16; j++) {
          uint32_t y = pb[(size_t)p * 16 + j];
          acc[j] += ql * from_bf16(y & 0xffffu) + qh * from_bf16(y >> 16);
        }
      }
      memcpy(out + (size_t)u * ld + (size_t)b * 16, acc, sizeof acc);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_BF16_AVX512 1
/* Four queries share each panel load; the pair broadcasts come from L1. */
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void bf16_tile_avx512(
    const uint32_t *q, uint32_t mu, const mx_item_bf16 *a, uint32_t b0, uint32_t nb, float *out,
    size_t ld) {
  uint32_t hp = a->hp, u = 0;
  for (; u + 4 <= mu; u += 4) {
    const int *q0 = (const int *)(q + (size_t)u * hp), *q1 = q0 + hp, *q2 = q1 + hp, *q3 = q2 + hp;
    for (uint32_t b = 0; b < nb; b++) {
      const uint32_t *pb = a->panels + (size_t)(b0 + b) * hp * 16;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (uint32_t p = 0; p < hp; p++) {
        __m512bh y = (__m512bh)_mm512_load_si512(pb + (size_t)p * 16);
        a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_set1_epi32(q0[p]), y);
        a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_set1_epi32(q1[p]), y);
        a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_set1_epi32(q2[p]), y);
        a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_set1_epi32(q3[p]), y);
      }
      float *o = out + (size_t)u * ld + (size_t)b * 16;
      _mm512_storeu_ps(o, a0);
      _mm512_storeu_ps(o + ld, a1);
      _mm512_storeu_ps(o + 2 * ld, a2);
      _mm512_storeu_ps(o + 3 * ld, a3);
    }
  }
  for (; u < mu; u++) {
    const int *q0 = (const int *)(q + (size_t)u * hp);
    for (uint32_t b = 0; b < nb; b++) {
      const uint32_t *pb = a->panels + (size_t)(b0 + b) * hp * 16;
      __m512 a0 = _mm512_setzero_ps();
      for (uint32_t p = 0; p < hp; p++)
        a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_set1_epi32(q0[p]),
                              (__m512bh)_mm512_load_si512(pb + (size_t)p * 16));
      _mm512_storeu_ps(out + (size_t)u * ld + (size_t)b * 16, a0);
    }
  }
}
#endif

int mx_item_bf16_native(void) {
#ifdef HAVE_BF16_AVX512
  /* MERX_NO_AVX512 (any value) forces the portable loop, so tests cover both. */
  static _Atomic int native = -1;
  int use = atomic_load_explicit(&native, memory_order_relaxed);
  if (use < 0) {
    __builtin_cpu_init();
    use = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
          !getenv("MERX_NO_AVX512");
    atomic_store_explicit(&native, use, memory_order_relaxed);
  }
  return use;
#else
  return 0;
#endif
}

static void bf16_tile(const uint32_t *q, uint32_t mu, const mx_item_bf16 *a, uint32_t b0,
                      uint32_t nb, float *out, size_t ld) {
#ifdef HAVE_BF16_AVX512
  if (mx_item_bf16_native()) {
    bf16_tile_avx512(q, mu, a, b0, nb, out, ld);
    return;
  }
#endif
  bf16_tile_generic(q, mu, a, b0, nb, out, ld);
}

/* -------------------------------------------------------------- engine */

typedef struct {
  const mx_topk_problem *p;
  mx_topk_result *res;
  uint32_t k, tu, ti;
  const mx_item_bf16 *ap; /* the bf16 first pass, or NULL */
  uint32_t kc;            /* entries kept per row in the scan (k, or k·factor with ap) */
  uint8_t *fail;          /* n_q, with ap: 1 = the bound did not prove the row */
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

/* The dot product of two float vectors accumulated in double (each product
 * is exact in double) over eight partial sums: independent chains, so it
 * does not wait on one addition per dimension, and the compiler may
 * vectorise it. */
static double dot_double(const float *a, const float *b, uint32_t dim) {
  double acc[8] = {0};
  uint32_t x = 0;
  for (; x + 8 <= dim; x += 8)
    for (int j = 0; j < 8; j++) acc[j] += (double)a[x + j] * b[x + j];
  double d = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; x < dim; x++) d += (double)a[x] * b[x];
  return d;
}

/* Rescore a first-pass row exactly (the dot product of the float vectors
 * accumulated in double, rounded, plus the item bias in float) and sort it
 * best first. Returns 1 when the row is proven to be the exact top k: a
 * target the scan dropped scored at most a_min (the worst kept bf16 score;
 * ties go to the smaller id), and the bf16 score of any target is within
 * eps of its exact one, so none can beat the k-th exact score if that
 * exceeds a_min + eps. eps: bf16 rounding of both vectors (2·2^-8 + 2^-16
 * relative per product), float accumulation (dim·2^-24), bounded by
 * Cauchy-Schwarz with the query norm and the largest item norm, plus a
 * margin for the float additions of the bias.
 * Only the kept entries that can still be in the top k are rescored: with
 * the list sorted by bf16 score a, each of the k best has an exact score of
 * at least a_k - E (E bounds |exact - a| for every kept entry), so an entry
 * with a < a_k - 2E is beaten by k others and can be left out (it stays
 * past the k-th place). Their rows are fetched from memory up front. */
static int rescore_row(const mx_topk_problem *p, const mx_item_bf16 *ap, const float *qv,
                       double qnorm, entry *h, uint32_t hn, uint32_t kc, uint32_t k) {
  const mx_targets *t = p->targets;
  uint32_t dim = p->dim;
  if (kc > SORTED_MAX_K) qsort(h, hn, sizeof *h, better_cmp); /* a heap: sort by bf16 score */
  float a_min = hn ? h[hn - 1].s : -INFINITY;
  double eps_dot = (1.0 / 128 + 1.0 / 65536 + dim / 16777216.0) * qnorm * ap->vmax;
  uint32_t m = hn;
  if (hn > k) {
    double amax = fmax(fabs((double)h[0].s), fabs((double)a_min));
    double e = eps_dot + (1.0 + 2 * amax + 2 * eps_dot) / 1048576.0;
    double lim = (double)h[k - 1].s - 2 * e;
    m = k;
    while (m < hn && !((double)h[m].s < lim)) m++; /* a NaN limit keeps them all */
  }
  for (uint32_t j = 0; j < m; j++) {
    const char *v = (const char *)(t->vec + (size_t)h[j].id * dim);
    for (size_t off = 0; off < (size_t)dim * sizeof(float); off += 64) __builtin_prefetch(v + off);
  }
  for (uint32_t j = 0; j < m; j++) {
    float sc = (float)dot_double(qv, t->vec + (size_t)h[j].id * dim, dim);
    if (t->bias) sc += t->bias[h[j].id];
    h[j].s = sc;
  }
  qsort(h, m, sizeof *h, better_cmp);
  if (hn < kc) return 1; /* every target with a finite score was kept */
  float s_k = h[k - 1].s;
  double eps = eps_dot + (1.0 + fabs(a_min) + fabs(s_k)) / 1048576.0;
  return (double)s_k > (double)a_min + eps;
}

static int worker(void *vctx, int tid, int nthreads) {
  run_ctx *ctx = vctx;
  const mx_topk_problem *p = ctx->p;
  const mx_targets *t = p->targets;
  uint32_t k = ctx->k, tu = ctx->tu, ti = ctx->ti, dim = p->dim;
  const mx_item_bf16 *ap = ctx->ap;
  uint32_t kc = ctx->kc;
  /* with ap, tile rows are whole panels: stride ti rounded up to 16 */
  size_t ld_max = ap ? ((size_t)ti + 15) / 16 * 16 : ti;
  float *tile = mx_alloc_aligned((size_t)tu * ld_max * sizeof(float), 0);
  float *qbuf = (p->q_vec && dim) ? mx_alloc_aligned((size_t)tu * dim * sizeof(float), 0) : NULL;
  uint32_t *qpk = ap ? malloc((size_t)tu * ap->hp * sizeof *qpk) : NULL;
  double *qnorm = ap ? malloc((size_t)tu * sizeof *qnorm) : NULL;
  entry *heaps = malloc((size_t)tu * kc * sizeof *heaps);
  uint32_t *hn = malloc((size_t)tu * sizeof *hn);
  float *thr = malloc((size_t)tu * sizeof *thr);
  if (!tile || !heaps || !hn || !thr || (p->q_vec && dim && !qbuf) || (ap && (!qpk || !qnorm))) {
    mx_free_aligned(tile);
    mx_free_aligned(qbuf);
    free(qpk);
    free(qnorm);
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
      if (ap) {
        const float *v = a + (size_t)q * dim;
        double nn = 0;
        for (uint32_t x = 0; x < dim; x++) nn += (double)v[x] * v[x];
        qnorm[q] = sqrt(nn);
        pack_pairs(v, dim, ap->hp, qpk + (size_t)q * ap->hp);
      }
    }
    for (uint32_t c0 = 0; c0 < t->n; c0 += ti) {
      uint32_t c1 = c0 + ti < t->n ? c0 + ti : t->n, w = c1 - c0;
      size_t ld = ap ? ((size_t)w + 15) / 16 * 16 : w;
      if (ap) {
        bf16_tile(qpk, mu, ap, c0 / 16, (uint32_t)(ld / 16), tile, ld);
      } else if (p->q_vec) {
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
        float *c = tile + (size_t)q * ld;
        uint32_t row = q_row(p, q0 + q);
        if (!p->q_vec) ease_row(p, row, c0, c1, c);
        exclude_row(p, row, c0, c1, c);
        thr[q] = scan_row(c, t->bias ? t->bias + c0 : NULL, w, c0, t->ids, heaps + (size_t)q * kc,
                          &hn[q], kc, thr[q]);
      }
    }
    for (uint32_t q = 0; q < mu; q++) {
      entry *h = heaps + (size_t)q * kc;
      if (ap) {
        if (!rescore_row(p, ap, a + (size_t)q * dim, qnorm[q], h, hn[q], kc, k)) {
          ctx->fail[q0 + q] = 1; /* rescanned exactly after the run */
          continue;
        }
        if (hn[q] > k) hn[q] = k;
      } else if (k > SORTED_MAX_K) {
        qsort(h, hn[q], sizeof *h, better_cmp);
      }
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
  free(qpk);
  free(qnorm);
  free(heaps);
  free(hn);
  free(thr);
  (void)nthreads;
  return rc;
}

/* Rows the bf16 bound did not prove: scored again by the exact scan. */
static int rescan_failed(const mx_topk_problem *p, const run_ctx *ctx, mx_topk_result *res,
                         mx_error *err) {
  uint32_t nf = 0;
  for (uint32_t q = 0; q < p->n_q; q++) nf += ctx->fail[q];
  res->approx_rows = p->n_q - nf;
  res->exact_rows = nf;
  if (nf == 0) return MX_OK;
  uint32_t *rows = malloc((size_t)nf * sizeof *rows), *at = malloc((size_t)nf * sizeof *at);
  if (!rows || !at) {
    free(rows);
    free(at);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (uint32_t q = 0, j = 0; q < p->n_q; q++)
    if (ctx->fail[q]) {
      at[j] = q;
      rows[j++] = q_row(p, q);
    }
  mx_topk_options o = *p->opt;
  o.approx = NULL;
  o.threads = 1;
  o.progress = NULL;
  mx_topk_problem sub = *p;
  sub.n_q = nf;
  sub.q_rows = rows;
  sub.opt = &o;
  mx_topk_result *r = NULL;
  int rc = mx__topk_run(&sub, &r, err);
  if (rc == MX_OK) {
    for (uint32_t j = 0; j < nf; j++) {
      size_t d = (size_t)at[j] * res->k, s = (size_t)j * r->k;
      memcpy(res->ids + d, r->ids + s, res->k * sizeof *res->ids);
      memcpy(res->scores + d, r->scores + s, res->k * sizeof *res->scores);
      res->count[at[j]] = r->count[j];
    }
  }
  mx_topk_result_free(r);
  free(rows);
  free(at);
  return rc;
}

int mx__topk_run(const mx_topk_problem *p, mx_topk_result **out, mx_error *err) {
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
  /* The bf16 first pass: factor path, every item a target (no gathered
   * candidate copy), and the copy made from these very vectors. */
  const mx_item_bf16 *ap = opt->approx;
  if (ap && !(p->q_vec && p->dim && !p->targets->ids && p->targets->vec == ap->src &&
              ap->n == p->targets->n_all && ap->dim == p->dim))
    ap = NULL;
  uint32_t kc = k;
  if (ap) {
    uint64_t f = opt->approx_factor ? opt->approx_factor : 4;
    kc = (uint64_t)k * f < p->targets->n ? (uint32_t)((uint64_t)k * f) : p->targets->n;
    if (opt->tile_items == 0 && tu == 1) ti = 8192; /* no sgemv call to amortise; stay in L2 */
    ti = ti < 16 ? 16 : ti / 16 * 16; /* whole panels */
    if (ti > p->targets->n) ti = p->targets->n;
  }
  int threads = mx__threads_resolve(opt->threads);
  uint32_t n_blocks = (p->n_q + tu - 1) / tu;
  if ((uint32_t)threads > n_blocks) threads = (int)n_blocks;
  run_ctx ctx = {.p = p, .res = res, .k = k, .tu = tu, .ti = ti, .ap = ap, .kc = kc};
  if (ap && !(ctx.fail = calloc(p->n_q, 1))) {
    mx_topk_result_free(res);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  atomic_init(&ctx.next_block, 0);
  atomic_init(&ctx.done, 0);
  atomic_init(&ctx.failed, 0);
  mx__blas_begin(1);
  int rc = mx__parallel_run(threads, worker, &ctx);
  mx__blas_end();
  if (rc != MX_OK) {
    free(ctx.fail);
    mx_topk_result_free(res);
    if (rc != MX_ENOMEM) return mx_cancel_check(opt->cancel, "top-K", err);
    return mx_error_set(err, rc, "out of memory for top-K tiles (%u x %u)", tu, ti);
  }
  res->exact_rows = p->n_q;
  if (ap) {
    rc = rescan_failed(p, &ctx, res, err);
    free(ctx.fail);
    if (rc != MX_OK) {
      mx_topk_result_free(res);
      return rc;
    }
  }
  *out = res;
  return MX_OK;
}
