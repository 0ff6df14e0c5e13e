/* The Lagrangian pass: for given prices every user independently picks its
 * best candidates by reduced value. This is the only loop that touches all
 * candidates, so it is written as a straight stream over the compact CSR
 * arrays, split into contiguous user blocks per thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/allocate/internal.h"
#include "util/util.h"

typedef struct {
  const mx_alloc_problem *p;
  const uint32_t *list;
  uint32_t n;
  const double *lambda, *mu;
  const double *shift; /* per group (parity prices); NULL: none */
  uint32_t *sel;
  /* per thread */
  double *g;      /* nthreads */
  double *usage;  /* nthreads * K */
  double *count;  /* nthreads * n_offers */
} eval_job;

/* The best candidate of one user (per_user = 1): UINT64_MAX when no
 * reduced value is positive. */
static inline __attribute__((always_inline)) uint64_t
best1(const float *value, const float *cost, const uint32_t *offer, const double *mu,
      const double *lam, const int K, uint64_t q0, uint64_t q1, double floor, double *best_out) {
  /* floor: the user's group shift; r - floor > 0 <=> r > floor */
  double best = floor;
  uint64_t bq = UINT64_MAX;
  for (uint64_t q = q0; q < q1; q++) {
    double r = (double)value[q];
    if (mu) r -= mu[offer[q]];
    const float *c = cost + q * (uint64_t)K;
    for (int k = 0; k < K; k++) r -= lam[k] * (double)c[k];
    if (r > best) {
      best = r;
      bq = q;
    }
  }
  *best_out = best - floor;
  return bq;
}

static int eval_block(void *ctx, int t, int nt) {
  eval_job *job = ctx;
  const mx_alloc_problem *p = job->p;
  const int K = p->n_resources;
  const uint32_t m = p->per_user;
  uint64_t lo = (uint64_t)job->n * (uint64_t)t / (uint64_t)nt;
  uint64_t hi = (uint64_t)job->n * (uint64_t)(t + 1) / (uint64_t)nt;
  double lam[MX_ALLOC_MAX_RESOURCES];
  for (int k = 0; k < K; k++) lam[k] = job->lambda[k];
  const double *mu = job->mu;
  double usage[MX_ALLOC_MAX_RESOURCES] = {0};
  const size_t ncount = (size_t)p->n_offers + p->n_groups;
  double *count = job->count + (size_t)t * ncount;
  double g = 0;
  const float *value = p->value, *cost = p->cost;
  const uint32_t *offer = p->offer;
  /* top-m buffer for per_user > 1 (small m: insertion) */
  double topr[64];
  uint64_t topq[64];
  double *heapr = m > 64 ? malloc(m * sizeof *heapr) : topr;
  uint64_t *heapq = m > 64 ? malloc(m * sizeof *heapq) : topq;
  if (!heapr || !heapq) {
    if (heapr != topr) free(heapr);
    if (heapq != topq) free(heapq);
    return MX_ENOMEM;
  }
  for (uint64_t i = lo; i < hi; i++) {
    uint32_t u = job->list ? job->list[i] : (uint32_t)i;
    uint64_t q0 = p->indptr[u], q1 = p->indptr[u + 1];
    const double sh = job->shift ? job->shift[p->group[u]] : 0;
    if (m == 1) {
      double best = 0;
      uint64_t bq = UINT64_MAX;
      switch (K) { /* constant K lets the compiler unroll the cost loop */
      case 0: bq = best1(value, cost, offer, mu, lam, 0, q0, q1, sh, &best); break;
      case 1: bq = best1(value, cost, offer, mu, lam, 1, q0, q1, sh, &best); break;
      case 2: bq = best1(value, cost, offer, mu, lam, 2, q0, q1, sh, &best); break;
      case 3: bq = best1(value, cost, offer, mu, lam, 3, q0, q1, sh, &best); break;
      case 4: bq = best1(value, cost, offer, mu, lam, 4, q0, q1, sh, &best); break;
      default: bq = best1(value, cost, offer, mu, lam, K, q0, q1, sh, &best); break;
      }
      if (job->sel) job->sel[u] = bq == UINT64_MAX ? MX_ALLOC_NONE : (uint32_t)(bq - q0);
      if (bq != UINT64_MAX) {
        g += best;
        const float *c = cost + bq * (uint64_t)K;
        for (int k = 0; k < K; k++) usage[k] += (double)c[k];
        count[offer[bq]] += 1;
        if (p->group) count[p->n_offers + p->group[u]] += 1;
      }
      continue;
    }
    uint32_t nt_ = 0;
    for (uint64_t q = q0; q < q1; q++) {
      double r = (double)value[q];
      if (mu) r -= mu[offer[q]];
      const float *c = cost + q * (uint64_t)K;
      for (int k = 0; k < K; k++) r -= lam[k] * (double)c[k];
      r -= sh;
      if (r <= 0) continue;
      if (nt_ == m && r <= heapr[m - 1]) continue;
      uint32_t s = nt_ < m ? nt_++ : m - 1;
      while (s > 0 && heapr[s - 1] < r) {
        heapr[s] = heapr[s - 1];
        heapq[s] = heapq[s - 1];
        s--;
      }
      heapr[s] = r;
      heapq[s] = q;
    }
    for (uint32_t s = 0; s < nt_; s++) {
      uint64_t q = heapq[s];
      g += heapr[s];
      const float *c = cost + q * (uint64_t)K;
      for (int k = 0; k < K; k++) usage[k] += (double)c[k];
      count[offer[q]] += 1;
      if (p->group) count[p->n_offers + p->group[u]] += 1;
      if (job->sel) job->sel[(uint64_t)u * m + s] = (uint32_t)(q - q0);
    }
    if (job->sel)
      for (uint32_t s = nt_; s < m; s++) job->sel[(uint64_t)u * m + s] = MX_ALLOC_NONE;
  }
  if (heapr != topr) free(heapr);
  if (heapq != topq) free(heapq);
  job->g[t] = g;
  for (int k = 0; k < K; k++) job->usage[(size_t)t * K + (size_t)k] = usage[k];
  return MX_OK;
}

int mx__alloc_eval(const mx_alloc_problem *p, const uint32_t *list, uint32_t nlist,
                   const double *lambda, const double *mu, int threads, double *g_users,
                   double *usage, double *count, uint32_t *sel) {
  uint32_t n = list ? nlist : p->n_users;
  int nt = mx__threads_resolve(threads);
  if ((uint32_t)nt > n / 1024 + 1) nt = (int)(n / 1024 + 1); /* tiny inputs: one thread */
  const int K = p->n_resources;
  /* No capped offer: every mu is 0, and the pass need not read offer
   * indices of candidates it does not choose. */
  int capped = 0;
  for (uint32_t j = 0; mu && j < p->n_offers && !capped; j++) capped = mu[j] != 0;
  /* Parity prices: one shift per group (mu[n_offers + c], internal.h). */
  double shift[MX_ALLOC_MAX_GROUPS];
  int shifted = 0;
  if (mu && p->n_group_constraints > 0) {
    mx__alloc_group_shift(p, mu + p->n_offers, shift);
    for (uint32_t g = 0; g < p->n_groups; g++) shifted |= shift[g] != 0;
  }
  const size_t ncount = (size_t)p->n_offers + p->n_groups;
  eval_job job = {p, list, n, lambda, capped ? mu : NULL, shifted ? shift : NULL,
                  list ? NULL : sel, NULL, NULL, NULL};
  job.g = calloc((size_t)nt, sizeof *job.g);
  job.usage = calloc((size_t)nt * (size_t)(K ? K : 1), sizeof *job.usage);
  job.count = calloc((size_t)nt * (ncount ? ncount : 1), sizeof *job.count);
  int rc = MX_ENOMEM;
  if (job.g && job.usage && job.count) rc = mx__parallel_run(nt, eval_block, &job);
  if (rc == MX_OK) {
    /* Reduce in thread order so results depend only on the thread count. */
    double g = 0;
    for (int k = 0; k < K; k++) usage[k] = 0;
    if (count) memset(count, 0, ncount * sizeof *count);
    for (int t = 0; t < nt; t++) {
      g += job.g[t];
      for (int k = 0; k < K; k++) usage[k] += job.usage[(size_t)t * K + (size_t)k];
      if (count)
        for (size_t j = 0; j < ncount; j++) count[j] += job.count[(size_t)t * ncount + j];
    }
    *g_users = g;
  }
  free(job.g);
  free(job.usage);
  free(job.count);
  return rc;
}

double mx__alloc_dual_constant(const mx_alloc_problem *p, const double *lambda, const double *mu,
                               double scale) {
  double s = 0;
  for (int k = 0; k < p->n_resources; k++)
    if (isfinite(p->limit[k])) s += lambda[k] * p->limit[k] * scale;
  if (mu)
    for (uint32_t j = 0; j < p->n_offers; j++)
      if (isfinite(p->cap[j])) s += mu[j] * p->cap[j] * scale;
  if (mu)
    for (int c = 0; c < p->n_group_constraints; c++)
      s += mu[p->n_offers + c] * p->gc[c].limit * scale;
  return s;
}

int mx_alloc_dual_value(const mx_alloc_problem *p, const double *lambda, const double *mu,
                        int threads, double *g, double *usage, double *count, mx_error *err) {
  double u[MX_ALLOC_MAX_RESOURCES];
  double gu;
  int rc = mx__alloc_eval(p, NULL, 0, lambda, mu, threads, &gu, u, count, NULL);
  if (rc != MX_OK) return mx_error_set(err, rc, "out of memory");
  if (usage)
    for (int k = 0; k < p->n_resources; k++) usage[k] = u[k];
  *g = gu + mx__alloc_dual_constant(p, lambda, mu, 1.0);
  return MX_OK;
}
