/* Global limits in a sharded run: budgets and caps belong to the whole
 * campaign, not to each `merx run --shard i/n`. A budgeted choice inside a
 * run (merx.util.select, so merx.campaign, and merx.allocate) calls
 * mx__lua_alloc_share before solving and mx__lua_alloc_solved after:
 *
 *   merx run s.lua --solve duals.txt [--shards n]
 *                                           all users; the prices of the
 *                                           choice (and with --shards each
 *                                           shard's use of every limit in
 *                                           the whole plan) are written,
 *                                           nothing is committed
 *   merx run s.lua --shard i/n --duals duals.txt
 *                                           each shard applies those prices
 *                                           (no solve) under its quota
 *   merx run s.lua --shard i/n              no prices: each shard solves
 *                                           under its quota, with a warning
 *
 * Quotas sum to the global limits, so the shards' plans concatenated meet
 * every limit. With the saved per-shard uses a shard's quota is what its
 * users take in the whole-data plan (plus an even share of what that plan
 * leaves), so the shards rebuild that plan; without them, an even share
 * (mx_alloc_quota) -- the deployment of LinkedIn's DuaLip and
 * the Alibaba/Meituan coupon systems: prices solved once, applied by every
 * partition independently. Per-user limits need no share: a user lives in
 * one shard. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/allocate.h"

static int same_limit(double a, double b) {
  return a == b || fabs(a - b) <= 1e-9 * fmax(1, fabs(a));
}

static int has_limits(const mx_alloc_problem *p) {
  for (int k = 0; k < p->n_resources; k++)
    if (isfinite(p->limit[k])) return 1;
  for (uint32_t j = 0; j < p->n_offers; j++)
    if (isfinite(p->cap[j])) return 1;
  return 0;
}

/* Install the run's saved prices on p: the limits must be the ones they were
 * solved for (else the prices price something else). */
static void install_prices(lua_State *L, mx_run *run, mx_alloc_problem *p,
                           const char *const *offer_names, double *lambda, double *mu,
                           const char *what) {
  const mx_alloc_duals *d = run->duals;
  uint32_t i = run->shard_index, n = run->shard_count;
  for (int k = 0; k < p->n_resources; k++) {
    int kk = 0;
    while (kk < d->n_resources && strcmp(d->resource_name[kk], p->resource_name[k]) != 0) kk++;
    if (kk == d->n_resources)
      mx__lua_error(L, "%s: %s has no price for the limit '%s': solve again (merx run --solve) "
                   "with this script", what, run->duals_path, p->resource_name[k]);
    if (!same_limit(d->limit[kk], p->limit[k]))
      mx__lua_error(L, "%s: the limit '%s' is %g here but %g in %s: solve again (merx run --solve)",
                   what, p->resource_name[k], p->limit[k], d->limit[kk], run->duals_path);
    lambda[k] = d->lambda[kk];
    p->limit[k] = mx_alloc_duals_quota(d, 0, (size_t)kk, p->limit[k], i, n);
  }
  for (uint32_t j = 0; j < p->n_offers; j++) {
    mu[j] = 0;
    if (!isfinite(p->cap[j])) continue;
    size_t c = 0;
    while (c < d->n_caps && strcmp(d->cap_offer[c], offer_names[j]) != 0) c++;
    if (c == d->n_caps)
      mx__lua_error(L, "%s: %s has no price for the cap of offer '%s': solve again (merx run "
                   "--solve) with this script", what, run->duals_path, offer_names[j]);
    if (!same_limit(d->cap_limit[c], p->cap[j]))
      mx__lua_error(L, "%s: the cap of offer '%s' is %g here but %g in %s: solve again "
                   "(merx run --solve)", what, offer_names[j], p->cap[j], d->cap_limit[c],
                   run->duals_path);
    mu[j] = d->cap_mu[c];
    p->cap[j] = mx_alloc_duals_quota(d, 1, c, p->cap[j], i, n);
  }
  if (n > 1 && d->shards != n && !run->shard_warned) {
    run->shard_warned = 1;
    fprintf(run->err ? run->err : stderr,
            "%s: %s holds no quotas for %u shards (solve with --shards %u): this shard takes an "
            "even share (1/%u) of every limit\n", what, run->duals_path, n, n, n);
  }
}

int mx__lua_alloc_share(lua_State *L, mx_alloc_problem *p, const char *const *offer_names,
                       double *lambda, double *mu, const char *what) {
  mx_run *run = mx__lua_run(L);
  if (!run || !has_limits(p)) return 0;
  if (run->duals) {
    install_prices(L, run, p, offer_names, lambda, mu, what);
    return 1;
  }
  uint32_t i = run->shard_index, n = run->shard_count;
  if (n <= 1) return 0;
  for (int k = 0; k < p->n_resources; k++) p->limit[k] = mx_alloc_quota(p->limit[k], i, n);
  for (uint32_t j = 0; j < p->n_offers; j++) p->cap[j] = mx_alloc_quota(p->cap[j], i, n);
  if (!run->shard_warned) {
    run->shard_warned = 1;
    fprintf(run->err ? run->err : stderr,
            "%s: --shard %u/%u without --duals: this shard takes an even share (1/%u) of the "
            "budget and of every global cap; for a better split solve prices once with "
            "`merx run SCRIPT --solve FILE` and give every shard `--duals FILE`\n",
            what, i, n, n);
  }
  return 0;
}

void mx__lua_alloc_solved(lua_State *L, const mx_alloc_problem *p, const char *const *offer_names,
                         const char *const *user_names, const mx_alloc_result *res,
                         const char *what) {
  mx_run *run = mx__lua_run(L);
  if (!run || !run->solve_path || !has_limits(p)) return;
  if (run->solved)
    mx__lua_error(L, "%s: --solve saves the prices of one budgeted choice per run, and this "
                 "script makes a second one", what);
  uint32_t *shard_of = NULL;
  if (run->solve_shards > 1) {
    shard_of = mx__lua_scratch(L, (size_t)p->n_users * sizeof *shard_of);
    for (uint32_t u = 0; u < p->n_users; u++)
      shard_of[u] = mx_alloc_shard_of(user_names[u], strlen(user_names[u]), run->solve_shards);
  }
  mx_alloc_duals *d = calloc(1, sizeof *d);
  if (!d) mx__lua_error(L, "%s: out of memory", what);
  mx_error err;
  mx_error_clear(&err);
  if (mx_alloc_duals_from(p, res, offer_names, d, &err) ||
      (shard_of && mx_alloc_duals_set_quotas(d, p, res, shard_of, run->solve_shards, &err))) {
    mx_alloc_duals_free(d);
    free(d);
    mx__lua_raise(L, &err);
  }
  run->solved = d;
}
