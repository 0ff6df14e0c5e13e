/* Building an HNSW index: INSERT (Malkov & Yashunin 2018, Algorithm 1) for
 * batches of nodes at once. merx/ann.h explains the batch schedule and why
 * the result does not depend on the thread count. */
#include "core/ann/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1024

mx_ann_options mx_ann_defaults(void) {
  mx_ann_options o;
  memset(&o, 0, sizeof o);
  o.M = 16;
  o.ef_construction = 200;
  o.metric = MX_ANN_COSINE;
  o.seed = 1;
  return o;
}

const char *mx_ann_metric_name(mx_ann_metric m) {
  return m == MX_ANN_DOT ? "dot" : "cosine";
}

/* The scale of every row (struct mx_ann in internal.h). */
static void prepare_rows(mx_ann *ix) {
  for (uint32_t i = 0; i < ix->n; i++) {
    const float *x = ix->vec + (size_t)i * ix->dim;
    double s = 0;
    for (uint32_t j = 0; j < ix->dim; j++) s += (double)x[j] * x[j];
    if (ix->metric == MX_ANN_COSINE) ix->scale[i] = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    else ix->scale[i] = 1.0f;
  }
}

/* Level of row i: floor(-ln(U) mL), U in (0, 1] from a hash of (seed, i). */
static uint8_t draw_level(uint64_t seed, uint32_t i, double ml) {
  uint64_t h = mx_hash64(&i, sizeof i, seed ^ 0x686e73776c76ULL);
  double u = ((double)(h >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  double l = floor(-log(u) * ml);
  return (uint8_t)(l > MX_ANN_MAX_LEVEL ? MX_ANN_MAX_LEVEL : l);
}

typedef struct edge {
  uint32_t target, source, pos; /* pos: the source's place in the batch */
  uint32_t level;
} edge;

static int cmp_edge(const void *a, const void *b) {
  const edge *x = a, *y = b;
  if (x->level != y->level) return x->level < y->level ? -1 : 1;
  if (x->target != y->target) return x->target < y->target ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

typedef struct build_ctx {
  mx_ann *ix;
  const uint32_t *batch;
  uint32_t n_batch;
  uint32_t *plan;        /* per batch node: for levels top..0, blocks of (M + 1) */
  uint64_t *plan_off;    /* n_batch */
  mx__ann_scratch *scratch; /* per thread */
  mx__ann_pair **w;      /* per thread: the beam of the previous level */
  uint32_t *w_cap;
  edge *edges;
  uint64_t n_edges;
  uint64_t *groups;      /* start of each (level, target) group in edges, + end */
  uint64_t n_groups;
  int failed;
} build_ctx;

static int top_level_of(const build_ctx *c, uint32_t node) {
  int l = c->ix->level[node];
  return l < c->ix->max_level ? l : c->ix->max_level;
}

/* Phase 1: each batch node searches the graph as it was before the batch and
 * chooses its neighbours per level (Algorithm 1, lines 5-10 without the
 * writes). */
static int plan_node(build_ctx *c, int t, uint32_t j) {
  mx_ann *ix = c->ix;
  uint32_t node = c->batch[j];
  mx__ann_query q = {ix->vec + (size_t)node * ix->dim, ix->scale[node]};
  uint32_t ep = ix->entry;
  float ep_sim = mx__ann_sim(ix, &q, ep);
  int top = top_level_of(c, node);
  for (int l = ix->max_level; l > top; l--) mx__ann_greedy(ix, &q, l, &ep, &ep_sim);
  mx__ann_scratch *s = &c->scratch[t];
  mx__ann_pair first = {ep_sim, ep};
  const mx__ann_pair *eps = &first;
  uint32_t n_ep = 1;
  uint32_t *out = c->plan + c->plan_off[j];
  for (int l = top; l >= 0; l--) {
    if (mx__ann_search_layer(ix, &q, eps, n_ep, ix->ef_construction, l, NULL, UINT32_MAX, s))
      return MX_ENOMEM;
    if (s->n_res > c->w_cap[t]) {
      mx__ann_pair *nw = realloc(c->w[t], (size_t)s->n_res * sizeof *nw);
      if (!nw) return MX_ENOMEM;
      c->w[t] = nw;
      c->w_cap[t] = s->n_res;
    }
    memcpy(c->w[t], s->res, (size_t)s->n_res * sizeof *s->res);
    uint32_t nw = s->n_res;
    mx__ann_sort_pairs(c->w[t], nw);
    uint32_t *blk = out + (size_t)(top - l) * (ix->M + 1);
    blk[0] = mx__ann_select(ix, c->w[t], nw, ix->M, blk + 1);
    eps = c->w[t];
    n_ep = nw;
  }
  return MX_OK;
}

static int plan_share(void *ctx, int t, int nthreads) {
  build_ctx *c = ctx;
  for (uint32_t j = (uint32_t)t; j < c->n_batch; j += (uint32_t)nthreads) {
    if (c->failed) return MX_OK;
    if (plan_node(c, t, j) != MX_OK) {
      c->failed = 1;
      return MX_ENOMEM;
    }
  }
  return MX_OK;
}

/* Phase 2: reverse links, one (level, target) group at a time; a list that
 * would overflow is re-chosen with the heuristic over old and new links
 * (Algorithm 1, lines 11-16). */
static int link_group(build_ctx *c, int t, uint64_t g) {
  mx_ann *ix = c->ix;
  const edge *e = c->edges + c->groups[g];
  uint32_t k = (uint32_t)(c->groups[g + 1] - c->groups[g]);
  uint32_t target = e[0].target;
  int l = (int)e[0].level;
  uint32_t cap = l == 0 ? ix->M0 : ix->M;
  uint32_t *list = mx__ann_links(ix, target, l);
  uint32_t cnt = list[0];
  if (cnt + k <= cap) {
    for (uint32_t i = 0; i < k; i++) list[1 + cnt + i] = e[i].source;
    list[0] = cnt + k;
    return MX_OK;
  }
  uint32_t need = cnt + k;
  if (need > c->w_cap[t]) {
    mx__ann_pair *nw = realloc(c->w[t], (size_t)need * sizeof *nw);
    if (!nw) return MX_ENOMEM;
    c->w[t] = nw;
    c->w_cap[t] = need;
  }
  mx__ann_pair *cand = c->w[t];
  for (uint32_t i = 0; i < cnt; i++)
    cand[i] = (mx__ann_pair){mx__ann_sim_rows(ix, target, list[1 + i]), list[1 + i]};
  for (uint32_t i = 0; i < k; i++)
    cand[cnt + i] = (mx__ann_pair){mx__ann_sim_rows(ix, target, e[i].source), e[i].source};
  mx__ann_sort_pairs(cand, need);
  list[0] = mx__ann_select(ix, cand, need, cap, list + 1);
  return MX_OK;
}

static int link_share(void *ctx, int t, int nthreads) {
  build_ctx *c = ctx;
  for (uint64_t g = (uint64_t)t; g < c->n_groups; g += (uint64_t)nthreads) {
    if (c->failed) return MX_OK;
    if (link_group(c, t, g) != MX_OK) {
      c->failed = 1;
      return MX_ENOMEM;
    }
  }
  return MX_OK;
}

static int insert_batch(build_ctx *c, int threads) {
  mx_ann *ix = c->ix;
  uint64_t words = 0, n_links = 0;
  for (uint32_t j = 0; j < c->n_batch; j++) {
    c->plan_off[j] = words;
    words += (uint64_t)(top_level_of(c, c->batch[j]) + 1) * (ix->M + 1);
  }
  uint32_t *plan = realloc(c->plan, (size_t)words * sizeof *plan);
  if (!plan) return MX_ENOMEM;
  c->plan = plan;
  c->failed = 0;
  int nt = threads < (int)c->n_batch ? threads : (int)c->n_batch;
  if (mx__parallel_run(nt, plan_share, c) != MX_OK || c->failed) return MX_ENOMEM;
  /* The new nodes' own links (only they write there), and the edge list. */
  for (uint32_t j = 0; j < c->n_batch; j++) {
    int top = top_level_of(c, c->batch[j]);
    for (int l = top; l >= 0; l--) n_links += plan[c->plan_off[j] + (uint64_t)(top - l) * (ix->M + 1)];
  }
  edge *edges = realloc(c->edges, (size_t)(n_links ? n_links : 1) * sizeof *edges);
  uint64_t *groups = realloc(c->groups, (size_t)(n_links + 1) * sizeof *groups);
  if (edges) c->edges = edges;
  if (groups) c->groups = groups;
  if (!edges || !groups) return MX_ENOMEM;
  uint64_t ne = 0;
  for (uint32_t j = 0; j < c->n_batch; j++) {
    uint32_t node = c->batch[j];
    int top = top_level_of(c, node);
    for (int l = top; l >= 0; l--) {
      const uint32_t *blk = plan + c->plan_off[j] + (uint64_t)(top - l) * (ix->M + 1);
      uint32_t *own = mx__ann_links(ix, node, l);
      memcpy(own, blk, (size_t)(blk[0] + 1) * sizeof *blk);
      for (uint32_t i = 1; i <= blk[0]; i++)
        edges[ne++] = (edge){blk[i], node, j, (uint32_t)l};
    }
  }
  qsort(edges, (size_t)ne, sizeof *edges, cmp_edge);
  uint64_t ng = 0;
  for (uint64_t i = 0; i < ne; i++)
    if (i == 0 || edges[i].target != edges[i - 1].target || edges[i].level != edges[i - 1].level)
      groups[ng++] = i;
  groups[ng] = ne;
  c->n_edges = ne;
  c->n_groups = ng;
  nt = threads < (int)(ng ? ng : 1) ? threads : (int)(ng ? ng : 1);
  if (ng && (mx__parallel_run(nt, link_share, c) != MX_OK || c->failed)) return MX_ENOMEM;
  /* A node above the top level becomes the entry point (Algorithm 1, line 17). */
  for (uint32_t j = 0; j < c->n_batch; j++) {
    uint32_t node = c->batch[j];
    if (ix->level[node] > ix->max_level) {
      ix->max_level = ix->level[node];
      ix->entry = node;
    }
  }
  return MX_OK;
}

void mx_ann_free(mx_ann *ix) {
  if (!ix) return;
  if (ix->mapping) {
    mx__ann_unmap(ix->mapping, ix->mapping_size);
  } else {
    free(ix->scale);
    free(ix->level);
    free(ix->upper_start);
    free(ix->links0);
    free(ix->links_up);
  }
  free(ix);
}

int mx_ann_build(const float *vectors, uint32_t n, uint32_t dim, const mx_ann_options *opt,
                 mx_ann **out, mx_error *err) {
  *out = NULL;
  mx_ann_options defaults = mx_ann_defaults();
  if (!opt) opt = &defaults;
  if (n == 0 || dim == 0 || !vectors)
    return mx_error_set(err, MX_EINVAL, "nothing to index (%u vectors of dimension %u)", n, dim);
  if (opt->M < 2 || opt->M > 128)
    return mx_error_set(err, MX_EINVAL, "M must be between 2 and 128 (got %u)", opt->M);
  if (opt->ef_construction < 1 || opt->ef_construction > 100000)
    return mx_error_set(err, MX_EINVAL, "ef_construction must be between 1 and 100000 (got %u)",
                        opt->ef_construction);
  if (opt->metric != MX_ANN_COSINE && opt->metric != MX_ANN_DOT)
    return mx_error_set(err, MX_EINVAL, "unknown metric %d", (int)opt->metric);
  for (uint64_t i = 0; i < (uint64_t)n * dim; i++)
    if (!isfinite(vectors[i]))
      return mx_error_set(err, MX_EINVAL, "vector %llu has a non-finite value",
                          (unsigned long long)(i / dim) + 1);
  int threads = mx__threads_resolve(opt->threads);
  mx_ann *ix = calloc(1, sizeof *ix);
  if (!ix) return mx_error_set(err, MX_ENOMEM, "out of memory");
  ix->n = n;
  ix->dim = dim;
  ix->M = opt->M;
  ix->M0 = 2 * opt->M;
  ix->ef_construction = opt->ef_construction < opt->M ? opt->M : opt->ef_construction;
  ix->metric = opt->metric;
  ix->seed = opt->seed;
  ix->vec = vectors;
  snprintf(ix->source, sizeof ix->source, "%s", opt->source ? opt->source : "");
  ix->scale = malloc((size_t)n * sizeof *ix->scale);
  ix->level = malloc(n);
  ix->upper_start = malloc((size_t)n * sizeof *ix->upper_start);
  ix->links0 = calloc((size_t)n * (ix->M0 + 1), sizeof *ix->links0);
  uint32_t *order = malloc((size_t)n * sizeof *order);
  build_ctx c;
  memset(&c, 0, sizeof c);
  c.ix = ix;
  c.scratch = calloc((size_t)threads, sizeof *c.scratch);
  c.w = calloc((size_t)threads, sizeof *c.w);
  c.w_cap = calloc((size_t)threads, sizeof *c.w_cap);
  c.plan_off = malloc(MAX_BATCH * sizeof *c.plan_off);
  int rc = MX_OK;
  if (!ix->scale || !ix->level || !ix->upper_start || !ix->links0 || !order ||
      !c.scratch || !c.w || !c.w_cap || !c.plan_off) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  prepare_rows(ix);
  double ml = 1.0 / log((double)ix->M);
  for (uint32_t i = 0; i < n; i++) {
    ix->level[i] = draw_level(ix->seed, i, ml);
    ix->upper_start[i] = ix->level[i] ? (uint32_t)ix->n_up_blocks : MX_ANN_NO_BLOCK;
    ix->n_up_blocks += ix->level[i];
  }
  ix->links_up = calloc((size_t)(ix->n_up_blocks ? ix->n_up_blocks : 1) * (ix->M + 1),
                        sizeof *ix->links_up);
  if (!ix->links_up) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* Insertion order: a seeded Fisher-Yates shuffle, so data sorted by
   * cluster or popularity does not build the graph one region at a time. */
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  mx_rng rng;
  mx__rng_seed(&rng, ix->seed);
  for (uint32_t i = n - 1; i > 0; i--) {
    uint32_t j = mx__rng_below(&rng, i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  ix->entry = order[0];
  ix->max_level = ix->level[order[0]];
  uint32_t inserted = 1;
  while (inserted < n) {
    if ((rc = mx_cancel_check(opt->cancel, "index build", err)) != MX_OK) goto done;
    uint32_t b = inserted / 8;
    if (b < 1) b = 1;
    if (b > MAX_BATCH) b = MAX_BATCH;
    if (b > n - inserted) b = n - inserted;
    c.batch = order + inserted;
    c.n_batch = b;
    if (insert_batch(&c, threads) != MX_OK) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    inserted += b;
    if (opt->progress) opt->progress(opt->progress_ctx, inserted);
  }
  ix->fingerprint = mx_ann_fingerprint(vectors, n, dim);
done:
  for (int t = 0; c.scratch && t < threads; t++) mx__ann_scratch_free(&c.scratch[t]);
  for (int t = 0; c.w && t < threads; t++) free(c.w[t]);
  free(c.scratch);
  free(c.w);
  free(c.w_cap);
  free(c.plan);
  free(c.plan_off);
  free(c.edges);
  free(c.groups);
  free(order);
  if (rc != MX_OK) {
    mx_ann_free(ix);
    return rc;
  }
  *out = ix;
  return MX_OK;
}
