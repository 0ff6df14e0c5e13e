/* Synthetic allocation instances (merx/allocate.h, `merx allocate
 * --synthetic`): campaign-like candidates generated in parallel from a
 * hashed seed, with limits that bind, for benchmarks and tests at any size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "merx/allocate.h"
#include "util/util.h"

typedef struct {
  mx_alloc_problem *p;
  uint64_t seed;
} synth_job;

static double unit(uint64_t a, uint64_t b, uint64_t seed) {
  uint64_t x[2] = {a, b};
  return (double)(mx_hash64(x, sizeof x, seed) >> 11) * 0x1.0p-53;
}

/* A campaign-like instance: conversion probability p = user propensity x
 * offer appeal; value = p x margin_j; cost 1 = expected discount p x face_j;
 * cost 2 = 1 for SMS offers (channel capacity); cost 3 = 1 for offers from
 * limited stock; further costs uniform. */
static int synth_block(void *ctx, int t, int nt) {
  synth_job *job = ctx;
  mx_alloc_problem *p = job->p;
  uint32_t J = p->n_offers;
  int K = p->n_resources;
  uint64_t lo = (uint64_t)p->n_users * t / nt, hi = (uint64_t)p->n_users * (t + 1) / nt;
  for (uint64_t u = lo; u < hi; u++) {
    double prop = 0.2 + 0.8 * unit(u, 1u << 31, job->seed);
    p->indptr[u + 1] = (u + 1) * J;
    for (uint32_t j = 0; j < J; j++) {
      uint64_t q = u * J + j;
      double pr = prop * (0.02 + 0.3 * unit(u, j, job->seed));
      double margin = 5.0 + 3.0 * j, face = 2.0 + 2.0 * j;
      p->offer[q] = j;
      p->value[q] = (float)(pr * margin);
      float *c = p->cost + q * (uint64_t)K;
      for (int k = 0; k < K; k++) {
        double ck;
        if (k == 0) ck = pr * face;
        else if (k == 1) ck = (j % 2 == 0) ? 1.0 : 0.0;
        else if (k == 2) ck = (j % 3 == 0) ? 1.0 : 0.0;
        else ck = unit(u * 131 + (uint64_t)k, j, job->seed);
        c[k] = (float)ck;
      }
    }
  }
  return MX_OK;
}

int mx_alloc_synthetic(const char *spec, int threads, mx_alloc_problem **out, mx_error *err) {
  unsigned long long v[4] = {0, 0, 0, 1};
  int n = mx__parse_uints(spec, ':', v, 4);
  unsigned long long nu = v[0], nj = v[1], nk = v[2], seed = v[3];
  if (n < 3 || n > 4 || nu < 1 || nu > 2000000000ULL || nj < 1 || nj > 1000 || nk > 8)
    return mx_error_set(err, MX_EINVAL,
                        "--synthetic: expected USERS:OFFERS:CONSTRAINTS[:SEED] with offers 1..1000 "
                        "and constraints 0..8, got '%s'", spec);
  int rc = mx_alloc_problem_create((uint32_t)nu, (uint32_t)nj, (int)nk, nu * nj, out, err);
  if (rc) return rc;
  mx_alloc_problem *p = *out;
  synth_job job = {p, seed};
  mx__parallel_run(mx__threads_resolve(threads), synth_block, &job);
  static const char *names[] = {"budget", "sms", "stock"};
  for (int k = 0; k < (int)nk; k++) {
    if (k < 3) snprintf(p->resource_name[k], MX_ALLOC_NAME_MAX, "%s", names[k]);
    else snprintf(p->resource_name[k], MX_ALLOC_NAME_MAX, "cost%d", k + 1);
  }
  /* Limits: 40%, 50%, 60%, ... of what the unconstrained choice would use,
   * so every constraint binds. */
  double zero[MX_ALLOC_MAX_RESOURCES] = {0}, usage[MX_ALLOC_MAX_RESOURCES], g;
  double *mu = calloc(nj, sizeof *mu);
  if (!mu) return mx_error_set(err, MX_ENOMEM, "out of memory");
  rc = mx_alloc_dual_value(p, zero, mu, threads, &g, usage, NULL, err);
  free(mu);
  if (rc) return rc;
  for (int k = 0; k < (int)nk; k++) p->limit[k] = floor(usage[k] * (0.4 + 0.1 * k));
  return MX_OK;
}
