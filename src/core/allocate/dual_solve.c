/* Minimising the Lagrangian dual g(lambda, mu) of the allocation problem.
 *
 * g is convex and piecewise linear; its partial derivative along a price is
 * (limit - usage at those prices), and usage of a constraint is
 * non-increasing in its own price. So the exact line search along one price
 * is "the smallest price whose usage fits the limit", found by bracketing
 * and bisection — one full pass per step. Resource prices are searched one
 * after the other (Gauss-Seidel coordinate descent); offer caps, which can be
 * many, are searched together (each keeps its own bracket, one pass serves
 * all of them). Cycles repeat until no price moves by more than the
 * tolerance. Every pass on the full data is a valid upper bound on the
 * optimum (weak duality), the lowest is kept.
 *
 * With millions of users the early cycles run on a hashed sample of users
 * with the limits scaled to the sample's share (the prices of a large random
 * sample are close to the full ones — the reason DuaLip-style systems can
 * solve on a sample and apply everywhere); the full data then only refines
 * brackets of relative width ~1e-3. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/allocate/internal.h"
#include "util/util.h"

enum { S_EXPAND_UP, S_EXPAND_DOWN, S_BISECT, S_DONE };

/* Line search for one price: the smallest t with usage(t) <= limit. Once
 * bracketed, steps are Illinois regula falsi on usage - limit (usage is
 * nearly linear near the root when there are many users, so this needs a
 * handful of passes where bisection needs twenty), geometric bisection
 * while the bracket spans orders of magnitude. */
typedef struct {
  int state;
  int side; /* which end moved last: -1 lo, +1 hi, 0 none */
  double lo, hi, ulo, uhi, t, step, limit, tmax, tol;
} price_search;

typedef struct {
  const mx_alloc_problem *p;
  const uint32_t *list;
  uint32_t nlist;
  double scale;
  int threads;
  const mx_cancel *cancel;
  int full;
  double *lambda, *mu;
  double usage[MX_ALLOC_MAX_RESOURCES];
  double *count;     /* n_offers, then n_groups (internal.h) */
  const double *group_maxv; /* n_groups: largest value in each group */
  double g;
  double g_users;
  int valid; /* usage/count/g correspond to the current prices */
  double best_bound;
  long passes;
} dual_state;

static int evaluate(dual_state *s) {
  double gu;
  /* one pass over the users is the unit of work a cancel may stop */
  int rc = mx_cancel_check(s->cancel, "allocation", NULL);
  if (rc) return rc;
  rc = mx__alloc_eval(s->p, s->list, s->nlist, s->lambda, s->mu, s->threads, &gu, s->usage,
                          s->count, NULL);
  if (rc) return rc;
  s->g_users = gu;
  s->g = gu + mx__alloc_dual_constant(s->p, s->lambda, s->mu, s->scale);
  s->passes++;
  if (s->full && s->g < s->best_bound) s->best_bound = s->g;
  s->valid = 1;
  return MX_OK;
}

static void next_point(price_search *ps) {
  double w = ps->hi - ps->lo;
  if (w <= ps->tol * ps->hi || ps->hi <= 1e-300 ||
      (ps->limit > 0 && ps->uhi >= ps->limit * (1 - ps->tol) && ps->uhi <= ps->limit)) {
    ps->state = S_DONE;
    return;
  }
  if (ps->lo == 0 && ps->hi > 0) {
    ps->t = ps->hi / 16;
  } else if (ps->hi > 16 * ps->lo) {
    ps->t = sqrt(ps->lo * ps->hi);
  } else {
    double flo = ps->ulo - ps->limit, fhi = ps->uhi - ps->limit; /* flo > 0 >= fhi */
    double t = flo - fhi > 0 ? ps->lo + w * flo / (flo - fhi) : 0.5 * (ps->lo + ps->hi);
    /* stay strictly inside, away from the ends by a sliver of the bracket */
    double eps = 0.02 * w;
    if (!(t > ps->lo + eps)) t = ps->lo + eps;
    if (!(t < ps->hi - eps)) t = ps->hi - eps;
    ps->t = t;
  }
}

/* Start a search at price t0 whose usage is u0. tmax: a price at which the
 * usage is surely 0 (every candidate using the constraint has r < 0). */
static void search_start(price_search *ps, double t0, double u0, double limit, double tmax,
                         double first_step, double tol) {
  ps->limit = limit;
  ps->tmax = tmax;
  ps->tol = tol;
  ps->t = t0;
  ps->side = 0;
  if (u0 > limit) {
    ps->lo = t0;
    ps->ulo = u0;
    ps->state = S_EXPAND_UP;
    ps->step = t0 > 0 ? t0 * first_step : tmax / 1024;
    ps->t = t0 + ps->step;
    if (ps->t >= tmax) {
      ps->hi = tmax;
      ps->uhi = 0;
      ps->state = S_BISECT;
      next_point(ps);
    }
  } else {
    ps->hi = t0;
    ps->uhi = u0;
    if (t0 <= 0) {
      ps->state = S_DONE;
      return;
    }
    ps->state = S_EXPAND_DOWN;
    ps->step = t0 * first_step;
    ps->t = t0 - ps->step;
    if (ps->t <= 0) ps->t = 0;
  }
}

/* Feed the usage at ps->t; sets the next price to try or S_DONE. */
static void search_step(price_search *ps, double u) {
  int fits = u <= ps->limit;
  switch (ps->state) {
  case S_EXPAND_UP:
    if (fits) {
      ps->hi = ps->t;
      ps->uhi = u;
      ps->state = S_BISECT;
    } else {
      ps->lo = ps->t;
      ps->ulo = u;
      ps->step *= 4;
      ps->t = ps->lo + ps->step;
      if (ps->t < ps->tmax) return;
      ps->hi = ps->tmax;
      ps->uhi = 0;
      ps->state = S_BISECT;
    }
    break;
  case S_EXPAND_DOWN:
    if (!fits) {
      ps->lo = ps->t;
      ps->ulo = u;
      ps->state = S_BISECT;
    } else {
      ps->hi = ps->t;
      ps->uhi = u;
      if (ps->t <= 0) {
        ps->state = S_DONE;
        return;
      }
      ps->step *= 4;
      ps->t = ps->hi - ps->step;
      if (ps->t < 0) ps->t = 0;
      return;
    }
    break;
  case S_BISECT:
    /* Illinois: when the same end moves twice, halve the other end's
     * residual so the interpolation cannot stall on one side. */
    if (fits) {
      ps->hi = ps->t;
      ps->uhi = u;
      if (ps->side == 1) ps->ulo = ps->limit + 0.5 * (ps->ulo - ps->limit);
      ps->side = 1;
    } else {
      ps->lo = ps->t;
      ps->ulo = u;
      if (ps->side == -1) ps->uhi = ps->limit + 0.5 * (ps->uhi - ps->limit);
      ps->side = -1;
    }
    break;
  default:
    return;
  }
  next_point(ps);
}

/* Upper ends of the price ranges: beyond tmax_k no candidate with c_k > 0 has
 * a positive reduced value, whatever the other prices (all are >= 0).
 * Computed per thread over user blocks, then combined (max is exact). */
typedef struct {
  const mx_alloc_problem *p;
  double *res; /* nthreads x MX_ALLOC_MAX_RESOURCES */
  double *cap; /* nthreads x n_offers */
} ceil_job;

static int ceil_block(void *ctx, int t, int nt) {
  ceil_job *job = ctx;
  const mx_alloc_problem *p = job->p;
  int K = p->n_resources;
  double *tr = job->res + (size_t)t * MX_ALLOC_MAX_RESOURCES;
  double *tc = job->cap + (size_t)t * p->n_offers;
  uint64_t u0 = (uint64_t)p->n_users * t / nt, u1 = (uint64_t)p->n_users * (t + 1) / nt;
  for (uint64_t q = p->indptr[u0]; q < p->indptr[u1]; q++) {
    double v = p->value[q];
    if (v <= 0) continue;
    if (v > tc[p->offer[q]]) tc[p->offer[q]] = v;
    for (int k = 0; k < K; k++) {
      double c = p->cost[q * (uint64_t)K + (uint64_t)k];
      if (c > 0 && v > tr[k] * c) tr[k] = v / c;
    }
  }
  return MX_OK;
}

static int price_ceilings(const mx_alloc_problem *p, int threads, double *tmax_res,
                          double *tmax_cap) {
  int nt = mx__threads_resolve(threads);
  if ((uint32_t)nt > p->n_users / 1024 + 1) nt = (int)(p->n_users / 1024 + 1);
  ceil_job job = {p, calloc((size_t)nt * MX_ALLOC_MAX_RESOURCES, sizeof(double)),
                  calloc((size_t)nt * (p->n_offers ? p->n_offers : 1), sizeof(double))};
  if (!job.res || !job.cap) {
    free(job.res);
    free(job.cap);
    return MX_ENOMEM;
  }
  mx__parallel_run(nt, ceil_block, &job);
  int K = p->n_resources;
  for (int k = 0; k < K; k++) tmax_res[k] = 0;
  for (uint32_t j = 0; j < p->n_offers; j++) tmax_cap[j] = 0;
  for (int t = 0; t < nt; t++) {
    for (int k = 0; k < K; k++)
      tmax_res[k] = fmax(tmax_res[k], job.res[(size_t)t * MX_ALLOC_MAX_RESOURCES + (size_t)k]);
    for (uint32_t j = 0; j < p->n_offers; j++)
      tmax_cap[j] = fmax(tmax_cap[j], job.cap[(size_t)t * p->n_offers + j]);
  }
  free(job.res);
  free(job.cap);
  for (int k = 0; k < K; k++) tmax_res[k] = tmax_res[k] * (1 + 1e-9) + 1e-300;
  for (uint32_t j = 0; j < p->n_offers; j++) tmax_cap[j] = tmax_cap[j] * (1 + 1e-9) + 1e-300;
  return MX_OK;
}

/* One coordinate-descent cycle. Returns the largest relative price change. */
/* Group usage of constraint c at the last pass: count[J + g] are the
 * offers chosen per group. */
static double group_usage(const dual_state *s, int c) {
  return mx_alloc_group_usage(s->p, c, s->count + s->p->n_offers);
}

/* A price of group constraint c above which no group loading it (coef > 0)
 * chooses anything, the other prices as they are: every reduced value is at
 * most v - shift (lambda, mu >= 0), maxv[g] the largest value of group g. */
static double group_ceiling(const dual_state *s, const double *maxv, int c) {
  const mx_alloc_problem *p = s->p;
  const double *nu = s->mu + p->n_offers;
  double t = 0;
  for (uint32_t g = 0; g < p->n_groups; g++) {
    double a = p->gc[c].coef[g];
    if (a <= 0) continue;
    double other = 0;
    for (int d = 0; d < p->n_group_constraints; d++)
      if (d != c) other += nu[d] * p->gc[d].coef[g];
    double need = (maxv[g] - other) / a;
    if (need > t) t = need;
  }
  return t * (1 + 1e-9) + 1e-300;
}

static int cycle(dual_state *s, const double *tmax_res, const double *tmax_cap,
                 double first_step, double tol, price_search *caps_ps, double *change) {
  const mx_alloc_problem *p = s->p;
  int rc;
  double maxchg = 0;
  for (int k = 0; k < p->n_resources; k++) {
    if (!isfinite(p->limit[k])) continue;
    if (!s->valid && (rc = evaluate(s))) return rc;
    double before = s->lambda[k];
    price_search ps;
    search_start(&ps, before, s->usage[k], p->limit[k] * s->scale, tmax_res[k], first_step, tol);
    while (ps.state != S_DONE) {
      s->lambda[k] = ps.t;
      if ((rc = evaluate(s))) return rc;
      search_step(&ps, s->usage[k]);
    }
    if (s->lambda[k] != ps.hi) {
      s->lambda[k] = ps.hi;
      s->valid = 0;
    }
    double d = fabs(s->lambda[k] - before) / fmax(fmax(s->lambda[k], before), 1e-300);
    if (d > maxchg) maxchg = d;
  }
  /* offer caps together */
  uint32_t J = p->n_offers;
  int any = 0;
  for (uint32_t j = 0; j < J; j++) any |= isfinite(p->cap[j]);
  if (any) {
    if (!s->valid && (rc = evaluate(s))) return rc;
    int active = 0;
    for (uint32_t j = 0; j < J; j++) {
      caps_ps[j].state = S_DONE;
      if (!isfinite(p->cap[j])) continue;
      caps_ps[j].hi = s->mu[j];
      search_start(&caps_ps[j], s->mu[j], s->count[j], p->cap[j] * s->scale, tmax_cap[j],
                   first_step, tol);
      active += caps_ps[j].state != S_DONE;
    }
    double *before = malloc(J * sizeof *before);
    if (!before) return MX_ENOMEM;
    memcpy(before, s->mu, J * sizeof *before);
    while (active) {
      for (uint32_t j = 0; j < J; j++)
        if (caps_ps[j].state != S_DONE) s->mu[j] = caps_ps[j].t;
      if ((rc = evaluate(s))) {
        free(before);
        return rc;
      }
      active = 0;
      for (uint32_t j = 0; j < J; j++) {
        if (caps_ps[j].state == S_DONE) continue;
        search_step(&caps_ps[j], s->count[j]);
        active += caps_ps[j].state != S_DONE;
      }
    }
    for (uint32_t j = 0; j < J; j++) {
      if (!isfinite(p->cap[j])) continue;
      if (s->mu[j] != caps_ps[j].hi) {
        s->mu[j] = caps_ps[j].hi;
        s->valid = 0;
      }
      double d = fabs(s->mu[j] - before[j]) / fmax(fmax(s->mu[j], before[j]), 1e-300);
      if (d > maxchg) maxchg = d;
    }
    free(before);
  }
  /* parity constraints together, the same way (their prices follow the
   * caps' in mu, internal.h) */
  int C = p->n_group_constraints;
  if (C > 0) {
    if (!s->valid && (rc = evaluate(s))) return rc;
    price_search *gps = caps_ps + J;
    double *nu = s->mu + J;
    double before[4096];
    if (C > 4096) return MX_ENOMEM; /* 64 groups make at most 4032 */
    int active = 0;
    for (int c = 0; c < C; c++) {
      before[c] = nu[c];
      gps[c].hi = nu[c];
      search_start(&gps[c], nu[c], group_usage(s, c), p->gc[c].limit * s->scale,
                   group_ceiling(s, s->group_maxv, c), first_step, tol);
      active += gps[c].state != S_DONE;
    }
    while (active) {
      for (int c = 0; c < C; c++)
        if (gps[c].state != S_DONE) nu[c] = gps[c].t;
      if ((rc = evaluate(s))) return rc;
      active = 0;
      for (int c = 0; c < C; c++) {
        if (gps[c].state == S_DONE) continue;
        search_step(&gps[c], group_usage(s, c));
        active += gps[c].state != S_DONE;
      }
    }
    for (int c = 0; c < C; c++) {
      if (nu[c] != gps[c].hi) {
        nu[c] = gps[c].hi;
        s->valid = 0;
      }
      double d = fabs(nu[c] - before[c]) / fmax(fmax(nu[c], before[c]), 1e-300);
      if (d > maxchg) maxchg = d;
    }
  }
  *change = maxchg;
  return MX_OK;
}

/* Early cycles need no precision (the other prices will still move), so
 * the line searches start coarse: 1e-2, 1e-3, ... down to the tolerance. */
static double cycle_tolerance(int c, double tol) {
  double t = 1e-2 * pow(0.1, c);
  return t > tol ? t : tol;
}

/* When the Lagrangian choice at the current prices meets every limit it is
 * a plan, worth V = g_users + sum lambda usage + sum mu count; (g - V) / g
 * then bounds the final gap (repair has nothing to do, the fill only adds).
 * Returns that gap, or INFINITY when some limit is exceeded. */
static double lagrangian_gap(const dual_state *s) {
  const mx_alloc_problem *p = s->p;
  double v = s->g_users;
  for (int k = 0; k < p->n_resources; k++) {
    if (s->usage[k] > p->limit[k] * s->scale) return INFINITY;
    v += s->lambda[k] * s->usage[k];
  }
  for (uint32_t j = 0; j < p->n_offers; j++) {
    if (s->count[j] > p->cap[j] * s->scale) return INFINITY;
    v += s->mu[j] * s->count[j];
  }
  for (int c = 0; c < p->n_group_constraints; c++) {
    double u = group_usage(s, c);
    if (u > p->gc[c].limit * s->scale + mx__alloc_group_tol(p, c, s->count + p->n_offers))
      return INFINITY;
    v += s->mu[p->n_offers + c] * u;
  }
  return s->g > 0 ? (s->g - v) / s->g : 0;
}

mx_alloc_options mx_alloc_defaults(void) {
  mx_alloc_options o;
  memset(&o, 0, sizeof o);
  o.threads = 0;
  o.tolerance = 1e-6;
  o.max_cycles = 8;
  o.sample_users = 200000;
  o.seed = 1;
  o.gap = 1e-4;
  return o;
}

/* A pass failed: out of memory, or cancelled (the check says which). */
static int pass_failed(const dual_state *s, int rc, mx_error *err) {
  if (rc == MX_ENOMEM) return mx_error_set(err, rc, "out of memory");
  int code = mx_cancel_check(s->cancel, "allocation", err);
  return code ? code : mx_error_set(err, rc, "allocation stopped");
}

int mx_alloc_solve(const mx_alloc_problem *p, const mx_alloc_options *opt_in,
                   mx_alloc_result *res, mx_error *err) {
  memset(res, 0, sizeof *res);
  mx_alloc_options opt = opt_in ? *opt_in : mx_alloc_defaults();
  if (!(opt.tolerance > 0)) opt.tolerance = 1e-6;
  if (opt.max_cycles < 1) opt.max_cycles = 1;
  int rc = mx_alloc_problem_check(p, err);
  if (rc) return rc;
  double t0 = mx__now_seconds();
  uint32_t J = p->n_offers;
  size_t Jn = J ? J : 1;
  /* mu and the search states hold the caps' prices, then the parity
   * constraints'; count the offer counts, then the group counts */
  size_t JC = (size_t)J + (size_t)p->n_group_constraints + 1, JG = (size_t)J + p->n_groups + 1;
  double *lambda = calloc(MX_ALLOC_MAX_RESOURCES, sizeof *lambda);
  double *mu = calloc(JC, sizeof *mu);
  double *count = calloc(JG, sizeof *count);
  double *tmax_cap = calloc(Jn, sizeof *tmax_cap);
  price_search *caps_ps = calloc(JC, sizeof *caps_ps);
  double group_maxv[MX_ALLOC_MAX_GROUPS];
  for (uint32_t g = 0; g < p->n_groups; g++) group_maxv[g] = -INFINITY;
  for (uint32_t u = 0; p->group && u < p->n_users; u++)
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++)
      if (p->value[q] > group_maxv[p->group[u]]) group_maxv[p->group[u]] = p->value[q];
  for (uint32_t g = 0; g < p->n_groups; g++)
    if (group_maxv[g] < 0) group_maxv[g] = 0;
  uint32_t *list = NULL;
  mx_alloc_problem *sub = NULL;
  double tmax_res[MX_ALLOC_MAX_RESOURCES];
  if (!lambda || !mu || !count || !tmax_cap || !caps_ps) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (price_ceilings(p, opt.threads, tmax_res, tmax_cap) != MX_OK) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }

  dual_state s;
  memset(&s, 0, sizeof s);
  s.p = p;
  s.threads = opt.threads;
  s.cancel = opt.cancel;
  s.lambda = lambda;
  s.mu = mu;
  s.count = count;
  s.group_maxv = group_maxv;
  s.best_bound = INFINITY;
  double change = 0;
  long sample_passes = 0;

  /* Warm start on a hashed sample of users. */
  if (opt.sample_users > 0 && p->n_users > 4ULL * opt.sample_users) {
    list = malloc(((size_t)opt.sample_users * 2 + 16) * sizeof *list);
    if (!list) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    uint32_t n = 0;
    for (uint32_t u = 0; u < p->n_users && n < opt.sample_users * 2 + 16; u++)
      if (mx_hash64(&u, sizeof u, opt.seed) % p->n_users < opt.sample_users) list[n++] = u;
    /* The sample's candidates are copied into a small contiguous problem:
     * reading them in place costs a cache and TLB miss per sampled user on
     * every pass, which made the sample passes slower than full ones. Its
     * limits and caps are the full ones scaled to the sample's share. */
    uint64_t nc = 0;
    for (uint32_t i = 0; i < n; i++) nc += p->indptr[list[i] + 1] - p->indptr[list[i]];
    if ((rc = mx_alloc_problem_create(n, p->n_offers, p->n_resources, nc, &sub, err))) goto done;
    double scale = (double)n / (double)p->n_users;
    size_t K = (size_t)p->n_resources;
    uint64_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t q0 = p->indptr[list[i]], deg = p->indptr[list[i] + 1] - q0;
      memcpy(sub->offer + at, p->offer + q0, deg * sizeof *sub->offer);
      memcpy(sub->value + at, p->value + q0, deg * sizeof *sub->value);
      if (K) memcpy(sub->cost + at * K, p->cost + q0 * K, deg * K * sizeof *sub->cost);
      at += deg;
      sub->indptr[i + 1] = at;
    }
    for (int k = 0; k < p->n_resources; k++) {
      sub->limit[k] = p->limit[k] * scale;
      memcpy(sub->resource_name[k], p->resource_name[k], MX_ALLOC_NAME_MAX);
    }
    for (uint32_t j = 0; j < p->n_offers; j++) sub->cap[j] = p->cap[j] * scale;
    sub->per_user = p->per_user;
    if ((rc = mx__alloc_groups_copy(sub, p, list, n, scale, err))) goto done;
    s.p = sub;
    s.scale = 1;
    s.full = 0;
    for (int c = 0; c < 60; c++) {
      double tol = cycle_tolerance(c, opt.tolerance);
      if ((rc = cycle(&s, tmax_res, tmax_cap, c == 0 ? 0.5 : 0.05, tol, caps_ps, &change))) {
        rc = pass_failed(&s, rc, err);
        goto done;
      }
      if (tol <= opt.tolerance && change <= 10 * opt.tolerance) break;
      if (!s.valid && (rc = evaluate(&s))) {
        rc = pass_failed(&s, rc, err);
        goto done;
      }
      if (lagrangian_gap(&s) <= opt.gap / 10) break;
    }
    sample_passes = s.passes;
    mx_alloc_problem_free(sub);
    sub = NULL;
  }
  s.p = p;
  s.list = NULL;
  s.nlist = 0;
  s.scale = 1;
  s.full = 1;
  s.valid = 0;
  s.passes = 0;
  int cycles = 0;
  /* Parity prices from a sample are rough (a small group may be nearly
   * absent from it): the full data then searches as from a cold start. */
  int warm = list && p->n_group_constraints == 0;
  double first_step = warm ? 1e-3 : 0.5;
  mx_alloc_result cand;
  int have = 0;
  for (cycles = 0; cycles < opt.max_cycles;) {
    /* after a sample warm start the prices are already close: full precision */
    double tol = warm ? opt.tolerance : cycle_tolerance(cycles, opt.tolerance);
    if (cycles == opt.max_cycles - 1) tol = opt.tolerance;
    if ((rc = cycle(&s, tmax_res, tmax_cap, first_step, tol, caps_ps, &change))) {
      rc = pass_failed(&s, rc, err);
      goto done;
    }
    cycles++;
    if (!s.valid && (rc = evaluate(&s))) { /* every cycle ends with a bound at its prices */
      rc = pass_failed(&s, rc, err);
      goto done;
    }
    first_step = fmin(first_step, fmax(10 * change, 1e-4));
    int last = cycles == opt.max_cycles || (tol <= opt.tolerance && change <= 10 * opt.tolerance);
    if (!last && tol > 1e-3) continue; /* prices still rough: no plan yet */
    /* Build the plan at these prices; keep the best. The bound only
     * improves, so stop as soon as the gap is certain to be small. */
    if ((rc = mx__alloc_finish(p, lambda, mu, opt.threads, s.best_bound, &cand, err))) goto done;
    if (!have || cand.objective > res->objective) {
      mx_alloc_result_free(res);
      *res = cand;
      have = 1;
    } else {
      mx_alloc_result_free(&cand);
    }
    double gap = s.best_bound > 0 ? (s.best_bound - res->objective) / s.best_bound : 0;
    if (getenv("MERX_ALLOC_TRACE"))
      fprintf(stderr, "cycle %d tol %g passes %ld change %g bound %.10g obj %.10g gap %g\n", cycles,
              tol, s.passes, change, s.best_bound, res->objective, gap);
    if (last || gap <= opt.gap) break;
  }
  res->bound = s.best_bound;
  res->gap = res->bound > 0 ? (res->bound - res->objective) / res->bound : 0;
  if (res->gap < 0 && res->gap > -1e-9) res->gap = 0;
  res->cycles = cycles;
  res->passes = s.passes;
  res->sample_passes = sample_passes;
  res->seconds = mx__now_seconds() - t0;
  rc = MX_OK;
done:
  if (rc != MX_OK) mx_alloc_result_free(res);
  mx_alloc_problem_free(sub);
  free(lambda);
  free(mu);
  free(count);
  free(tmax_cap);
  free(caps_ps);
  free(list);
  return rc;
}

int mx_alloc_apply(const mx_alloc_problem *p, const double *lambda, const double *mu,
                   const mx_alloc_options *opt, mx_alloc_result *res, mx_error *err) {
  memset(res, 0, sizeof *res);
  int rc = mx_alloc_problem_check(p, err);
  if (rc) return rc;
  int threads = opt ? opt->threads : 0;
  double t0 = mx__now_seconds();
  double lam[MX_ALLOC_MAX_RESOURCES] = {0};
  for (int k = 0; k < p->n_resources; k++) {
    lam[k] = isfinite(p->limit[k]) ? lambda[k] : 0;
    if (!(lam[k] >= 0)) return mx_error_set(err, MX_EINVAL, "price of '%s' is negative or NaN",
                                            p->resource_name[k]);
  }
  /* prices of parity constraints are not carried by price files: 0 */
  double *m = calloc((size_t)p->n_offers + (size_t)p->n_group_constraints + 1, sizeof *m);
  if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t j = 0; j < p->n_offers && mu; j++) {
    if (!(mu[j] >= 0)) {
      free(m);
      return mx_error_set(err, MX_EINVAL, "price of offer %u is negative or NaN", j);
    }
    m[j] = isfinite(p->cap[j]) ? mu[j] : 0;
  }
  double g;
  rc = mx_alloc_dual_value(p, lam, m, threads, &g, NULL, NULL, err);
  if (rc == MX_OK) rc = mx__alloc_finish(p, lam, m, threads, g, res, err);
  if (rc == MX_OK) {
    res->passes = 1;
    res->seconds = mx__now_seconds() - t0;
  }
  free(m);
  return rc;
}
