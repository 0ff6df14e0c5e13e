/* HNSW internals shared by the builder (build.c), the queries (query.c) and
 * the file code (file.c); the graph walks themselves are in graph.c. */
#ifndef MERX_CORE_ANN_INTERNAL_H
#define MERX_CORE_ANN_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "merx/ann.h"

#define MX_ANN_MAX_LEVEL 31
#define MX_ANN_NO_BLOCK UINT32_MAX

/* Similarity of rows a and b (and of a query to row b) is
 *     dot(x_a, x_b) * scale[a] * scale[b]
 * cosine: scale = 1/|x|; inner product: scale = 1. Queries get scale 1/|q|
 * (a positive constant per query, so the ranking is the metric's). Larger is
 * nearer; every walk maximises it. */
struct mx_ann {
  uint32_t n, dim, M, M0, ef_construction;
  mx_ann_metric metric;
  int max_level;
  uint32_t entry;
  uint64_t seed, fingerprint;
  const float *vec;      /* borrowed, n x dim */
  float *scale;          /* n */
  uint8_t *level;        /* n */
  uint32_t *upper_start; /* n: first block of the node's level-1 links, MX_ANN_NO_BLOCK when level 0 */
  uint32_t *links0;      /* n x (M0 + 1): count, then ids */
  uint32_t *links_up;    /* n_up_blocks x (M + 1): level l of node i is block upper_start[i] + l - 1 */
  uint64_t n_up_blocks;
  char source[200];
  void *mapping;         /* the mmap'd file when loaded, else NULL (arrays owned) */
  size_t mapping_size;
};

/* The link list (count, then ids) of node i on level l. */
static inline uint32_t *mx__ann_links(const mx_ann *ix, uint32_t i, int l) {
  if (l == 0) return ix->links0 + (size_t)i * (ix->M0 + 1);
  return ix->links_up + ((size_t)ix->upper_start[i] + (size_t)l - 1) * (ix->M + 1);
}

typedef struct mx__ann_pair {
  float sim;
  uint32_t id;
} mx__ann_pair;

/* Per-walk scratch: a visited set (open addressing, grows) and two heaps. */
typedef struct mx__ann_scratch {
  uint32_t *set;
  uint32_t set_cap, set_used;
  mx__ann_pair *cand, *res; /* candidates (max-heap), results (min-heap) */
  uint32_t cap_cand, cap_res;
  uint32_t n_cand, n_res;
} mx__ann_scratch;

void mx__ann_scratch_free(mx__ann_scratch *s);
/* munmap, for mx_ann_free (file.c owns the mapping code). */
void mx__ann_unmap(void *p, size_t n);

/* dot product of dim floats (AVX2+FMA when the CPU has it). */
float mx__ann_dot(const float *a, const float *b, uint32_t dim);
/* Similarity of row i to row j, and of a query to row j. */
static inline float mx__ann_sim_rows(const mx_ann *ix, uint32_t i, uint32_t j) {
  const float *a = ix->vec + (size_t)i * ix->dim, *b = ix->vec + (size_t)j * ix->dim;
  return mx__ann_dot(a, b, ix->dim) * ix->scale[i] * ix->scale[j];
}

/* A walk's query: a row of the index or a query vector, with its scale. */
typedef struct mx__ann_query {
  const float *v;
  float scale;
} mx__ann_query;

static inline float mx__ann_sim(const mx_ann *ix, const mx__ann_query *q, uint32_t j) {
  return mx__ann_dot(q->v, ix->vec + (size_t)j * ix->dim, ix->dim) * q->scale * ix->scale[j];
}

/* Greedy walk on level l from *ep (ef = 1, Algorithm 2 with ef = 1 as in
 * hnswlib): moves to a better neighbour until none is better. */
void mx__ann_greedy(const mx_ann *ix, const mx__ann_query *q, int l, uint32_t *ep, float *ep_sim);

/* SEARCH-LAYER (Algorithm 2) on level l from the n_ep entry points with beam
 * ef. Only rows allowed by mask (NULL = all) and != exclude enter the
 * results, every row is walked through. The results are left in s->res
 * (s->n_res entries, a min-heap); 0 or MX_ENOMEM. */
int mx__ann_search_layer(const mx_ann *ix, const mx__ann_query *q, const mx__ann_pair *ep,
                         uint32_t n_ep, uint32_t ef, int l, const uint64_t *mask,
                         uint32_t exclude, mx__ann_scratch *s);

/* Sort pairs by similarity, best first, ties by smaller id. */
void mx__ann_sort_pairs(mx__ann_pair *p, uint32_t n);

/* SELECT-NEIGHBORS-HEURISTIC (Algorithm 4): from candidates c (sorted best
 * first, similarities to the base), keep a candidate when it is nearer to the
 * base than to every one kept so far, up to m. Kept ids are written to out;
 * returns their number. */
uint32_t mx__ann_select(const mx_ann *ix, const mx__ann_pair *c, uint32_t nc, uint32_t m,
                        uint32_t *out);

#endif
