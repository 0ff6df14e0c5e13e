/* The HNSW graph walks (Malkov & Yashunin 2018): the greedy descent through
 * the upper levels, SEARCH-LAYER (Algorithm 2) with a beam of ef, and the
 * neighbour-selection heuristic (Algorithm 4). Used by the builder and by
 * queries alike; nothing here writes the graph.
 *
 * The visited set is a small open-addressing hash set instead of hnswlib's
 * array of n tags per thread: a walk visits a few thousand nodes, so the set
 * stays in L1/L2 and a query needs no O(n) memory. */
#include "core/ann/internal.h"

#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ dot product */

static float dot_portable(const float *a, const float *b, uint32_t d) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (int t = 0; t < 8; t++) s[t] += a[j + t] * b[j + t];
  float r = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; j < d; j++) r += a[j] * b[j];
  return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_DOT_AVX2 1
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b,
                                                          uint32_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  uint32_t j = 0;
  for (; j + 16 <= d; j += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
  }
  if (j + 8 <= d) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    j += 8;
  }
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float r = _mm_cvtss_f32(h);
  for (; j < d; j++) r += a[j] * b[j];
  return r;
}
#endif

/* -1 unknown, 0 portable, 1 AVX2. MERX_NO_AVX2 (any value) forces the
 * portable kernel, as for the top-K scan, so tests cover both. */
static _Atomic int use_avx2 = -1;

float mx__ann_dot(const float *a, const float *b, uint32_t dim) {
#ifdef HAVE_DOT_AVX2
  int u = atomic_load_explicit(&use_avx2, memory_order_relaxed);
  if (u < 0) {
    u = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !getenv("MERX_NO_AVX2");
    atomic_store_explicit(&use_avx2, u, memory_order_relaxed);
  }
  if (u) return dot_avx2(a, b, dim);
#endif
  return dot_portable(a, b, dim);
}

/* ---------------------------------------------------------------- scratch */

void mx__ann_scratch_free(mx__ann_scratch *s) {
  free(s->set);
  free(s->cand);
  free(s->res);
  memset(s, 0, sizeof *s);
}

static inline uint32_t set_slot(uint32_t id, uint32_t mask) {
  return (uint32_t)(((uint64_t)id * 0x9e3779b1u) >> 7) & mask;
}

static int set_reset(mx__ann_scratch *s, uint32_t expect) {
  uint32_t want = 1024;
  while (want < expect * 2 && want < (1u << 30)) want <<= 1;
  if (want > s->set_cap) {
    uint32_t *n = malloc((size_t)want * sizeof *n);
    if (!n) return MX_ENOMEM;
    free(s->set);
    s->set = n;
    s->set_cap = want;
  }
  memset(s->set, 0xff, (size_t)s->set_cap * sizeof *s->set);
  s->set_used = 0;
  return MX_OK;
}

static int set_grow(mx__ann_scratch *s) {
  uint32_t cap = s->set_cap * 2, mask = cap - 1;
  uint32_t *n = malloc((size_t)cap * sizeof *n);
  if (!n) return MX_ENOMEM;
  memset(n, 0xff, (size_t)cap * sizeof *n);
  for (uint32_t i = 0; i < s->set_cap; i++) {
    uint32_t id = s->set[i];
    if (id == UINT32_MAX) continue;
    uint32_t p = set_slot(id, mask);
    while (n[p] != UINT32_MAX) p = (p + 1) & mask;
    n[p] = id;
  }
  free(s->set);
  s->set = n;
  s->set_cap = cap;
  return MX_OK;
}

/* 1 when id was already in the set, 0 when just added, <0 on ENOMEM. */
static inline int set_visit(mx__ann_scratch *s, uint32_t id) {
  uint32_t mask = s->set_cap - 1, p = set_slot(id, mask);
  while (s->set[p] != UINT32_MAX) {
    if (s->set[p] == id) return 1;
    p = (p + 1) & mask;
  }
  s->set[p] = id;
  if (++s->set_used * 2 > s->set_cap && set_grow(s) != MX_OK) return MX_ENOMEM;
  return 0;
}

/* ------------------------------------------------------------------ heaps
 * cand: max-heap by sim (the best candidate on top); res: min-heap by sim
 * (the worst result on top). Ties are broken by id so the walk does not
 * depend on the order in which equal similarities arrive. */
static inline int better(mx__ann_pair a, mx__ann_pair b) {
  return a.sim > b.sim || (a.sim == b.sim && a.id < b.id);
}

static int reserve(mx__ann_pair **h, uint32_t *cap, uint32_t need) {
  if (need <= *cap) return MX_OK;
  uint32_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  mx__ann_pair *n = realloc(*h, (size_t)c * sizeof *n);
  if (!n) return MX_ENOMEM;
  *h = n;
  *cap = c;
  return MX_OK;
}

/* above(a, b): a belongs above b. max-heap: better; min-heap: worse. */
static inline void heap_push(mx__ann_pair *h, uint32_t *n, mx__ann_pair x, int max_heap) {
  uint32_t i = (*n)++;
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    int up = max_heap ? better(x, h[p]) : better(h[p], x);
    if (!up) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

static inline mx__ann_pair heap_pop(mx__ann_pair *h, uint32_t *n, int max_heap) {
  mx__ann_pair top = h[0], x = h[--(*n)];
  uint32_t i = 0, m = *n;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= m) break;
    if (c + 1 < m) {
      int pick = max_heap ? better(h[c + 1], h[c]) : better(h[c], h[c + 1]);
      if (pick) c++;
    }
    int down = max_heap ? better(h[c], x) : better(x, h[c]);
    if (!down) break;
    h[i] = h[c];
    i = c;
  }
  if (m) h[i] = x;
  return top;
}

/* ------------------------------------------------------------------ walks */

void mx__ann_greedy(const mx_ann *ix, const mx__ann_query *q, int l, uint32_t *ep, float *ep_sim) {
  uint32_t cur = *ep;
  float best = *ep_sim;
  for (int moved = 1; moved;) {
    moved = 0;
    const uint32_t *nb = mx__ann_links(ix, cur, l);
    uint32_t cnt = nb[0];
    for (uint32_t t = 1; t <= cnt; t++) {
      uint32_t e = nb[t];
      float s = mx__ann_sim(ix, q, e);
      if (s > best || (s == best && e < cur)) {
        best = s;
        cur = e;
        moved = 1;
      }
    }
  }
  *ep = cur;
  *ep_sim = best;
}

static inline int allowed(const uint64_t *mask, uint32_t exclude, uint32_t id) {
  if (id == exclude) return 0;
  return !mask || (int)((mask[id >> 6] >> (id & 63)) & 1u);
}

int mx__ann_search_layer(const mx_ann *ix, const mx__ann_query *q, const mx__ann_pair *ep,
                         uint32_t n_ep, uint32_t ef, int l, const uint64_t *mask,
                         uint32_t exclude, mx__ann_scratch *s) {
  uint32_t width = l == 0 ? ix->M0 : ix->M;
  if (set_reset(s, ef * (width + 1)) != MX_OK ||
      reserve(&s->res, &s->cap_res, ef + 1) != MX_OK ||
      reserve(&s->cand, &s->cap_cand, ef + n_ep + width + 1) != MX_OK)
    return MX_ENOMEM;
  s->n_cand = s->n_res = 0;
  for (uint32_t i = 0; i < n_ep; i++) {
    if (set_visit(s, ep[i].id)) continue;
    heap_push(s->cand, &s->n_cand, ep[i], 1);
    if (allowed(mask, exclude, ep[i].id)) {
      heap_push(s->res, &s->n_res, ep[i], 0);
      if (s->n_res > ef) heap_pop(s->res, &s->n_res, 0);
    }
  }
  while (s->n_cand > 0) {
    mx__ann_pair c = heap_pop(s->cand, &s->n_cand, 1);
    if (s->n_res >= ef && c.sim < s->res[0].sim) break; /* Algorithm 2, line 7 */
    /* The next candidate's links are the likely next cache miss. */
    if (s->n_cand) __builtin_prefetch(mx__ann_links(ix, s->cand[0].id, l));
    const uint32_t *nb = mx__ann_links(ix, c.id, l);
    uint32_t cnt = nb[0];
    if (reserve(&s->cand, &s->cap_cand, s->n_cand + cnt + 1) != MX_OK) return MX_ENOMEM;
    /* Two passes: the unvisited neighbours first, with their vectors
     * prefetched, so their memory loads overlap; then the similarities. */
    uint32_t todo[257], n_todo = 0;
    for (uint32_t t = 1; t <= cnt; t++) {
      uint32_t e = nb[t];
      int v = set_visit(s, e);
      if (v < 0) return MX_ENOMEM;
      if (v) continue;
      todo[n_todo++] = e;
      const char *x = (const char *)(ix->vec + (size_t)e * ix->dim);
      for (size_t b = 0; b < (size_t)ix->dim * sizeof(float); b += 64) __builtin_prefetch(x + b);
    }
    for (uint32_t t = 0; t < n_todo; t++) {
      uint32_t e = todo[t];
      mx__ann_pair p = {mx__ann_sim(ix, q, e), e};
      if (s->n_res < ef || p.sim > s->res[0].sim) {
        heap_push(s->cand, &s->n_cand, p, 1);
        if (allowed(mask, exclude, e)) {
          heap_push(s->res, &s->n_res, p, 0);
          if (s->n_res > ef) heap_pop(s->res, &s->n_res, 0);
        }
      }
    }
  }
  return MX_OK;
}

static int cmp_pair(const void *a, const void *b) {
  const mx__ann_pair *x = a, *y = b;
  if (x->sim != y->sim) return x->sim > y->sim ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

void mx__ann_sort_pairs(mx__ann_pair *p, uint32_t n) {
  if (n > 1) qsort(p, n, sizeof *p, cmp_pair);
}

uint32_t mx__ann_select(const mx_ann *ix, const mx__ann_pair *c, uint32_t nc, uint32_t m,
                        uint32_t *out) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < nc && kept < m; i++) {
    int good = 1;
    for (uint32_t r = 0; r < kept && good; r++)
      if (mx__ann_sim_rows(ix, c[i].id, out[r]) > c[i].sim) good = 0;
    if (good) out[kept++] = c[i].id;
  }
  return kept;
}
