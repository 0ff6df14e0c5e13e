/* Parity constraints on groups of users (merx/allocate.h): their
 * definition (shares of offers, rate ratios), the per-group shift they add
 * to reduced values, and the repair that makes a plan meet them.
 *
 * Every constraint is linear in the offers per group, n_g:
 *   share(g) >= lo:             sum_h (lo - [h = g]) n_h <= 0
 *   share(g) <= hi:             sum_h ([h = g] - hi) n_h <= 0
 *   rate(g) >= r * rate(h):     r n_h / N_h - n_g / N_g <= 0
 * so with prices nu_c >= 0 the Lagrangian term for user u is
 * -sum_c nu_c coef_c[group(u)] per offer: a constant shift of every
 * candidate of u, which keeps the users independent and g(lambda, mu, nu) an
 * upper bound on the constrained optimum. The empty plan meets them all
 * (limits 0), so the repair -- dropping the least valuable offer of a group
 * that loads a violated constraint -- always ends. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/allocate/internal.h"
#include "util/util.h"

void mx__alloc_groups_free(mx_alloc_problem *p) {
  for (int c = 0; c < p->n_group_constraints; c++) free(p->gc[c].coef);
  free(p->gc);
  for (uint32_t g = 0; p->group_name && g < p->n_groups; g++) free(p->group_name[g]);
  free(p->group_name);
  free(p->group);
  free(p->group_users);
  p->gc = NULL;
  p->group_name = NULL;
  p->group = NULL;
  p->group_users = NULL;
  p->n_groups = 0;
  p->n_group_constraints = 0;
}

int mx_alloc_problem_set_groups(mx_alloc_problem *p, const uint32_t *group, uint32_t n_groups,
                                const char *const *names, mx_error *err) {
  mx__alloc_groups_free(p);
  if (n_groups < 1 || n_groups > MX_ALLOC_MAX_GROUPS)
    return mx_error_set(err, MX_EINVAL, "%u groups: parity constraints take 1 to %d groups",
                        n_groups, MX_ALLOC_MAX_GROUPS);
  p->group = malloc((p->n_users ? p->n_users : 1) * sizeof *p->group);
  p->group_name = calloc(n_groups, sizeof *p->group_name);
  p->group_users = calloc(n_groups, sizeof *p->group_users);
  if (!p->group || !p->group_name || !p->group_users) goto oom;
  p->n_groups = n_groups;
  for (uint32_t g = 0; g < n_groups; g++) {
    char buf[32];
    snprintf(buf, sizeof buf, "g%u", g);
    if (!(p->group_name[g] = mx__strdup(names && names[g] ? names[g] : buf))) goto oom;
  }
  for (uint32_t u = 0; u < p->n_users; u++) {
    if (group[u] >= n_groups) {
      mx__alloc_groups_free(p);
      return mx_error_set(err, MX_EINVAL, "user %u: group %u out of range (%u groups)", u,
                          group[u], n_groups);
    }
    p->group[u] = group[u];
    p->group_users[group[u]] += 1;
  }
  return MX_OK;
oom:
  mx__alloc_groups_free(p);
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}

static mx_alloc_group_constraint *add(mx_alloc_problem *p, mx_error *err) {
  if (!p->group) {
    mx_error_set(err, MX_EINVAL, "parity constraints need groups (mx_alloc_problem_set_groups)");
    return NULL;
  }
  mx_alloc_group_constraint *gc = realloc(p->gc, (size_t)(p->n_group_constraints + 1) * sizeof *gc);
  if (!gc) goto oom;
  p->gc = gc;
  gc += p->n_group_constraints;
  memset(gc, 0, sizeof *gc);
  if (!(gc->coef = calloc(p->n_groups, sizeof *gc->coef))) goto oom;
  p->n_group_constraints++;
  return gc;
oom:
  mx_error_set(err, MX_ENOMEM, "out of memory");
  return NULL;
}

int mx_alloc_add_share(mx_alloc_problem *p, uint32_t g, double lo, double hi, mx_error *err) {
  if (g >= p->n_groups) return mx_error_set(err, MX_EINVAL, "group %u out of range", g);
  if (!(lo >= 0 && lo <= hi && hi <= 1))
    return mx_error_set(err, MX_EINVAL, "share of group '%s': need 0 <= min <= max <= 1, got "
                        "[%g, %g]", p->group_name[g], lo, hi);
  mx_alloc_group_constraint *c;
  if (lo > 0) {
    if (!(c = add(p, err))) return err ? err->code : MX_ENOMEM;
    for (uint32_t h = 0; h < p->n_groups; h++) c->coef[h] = lo - (h == g);
    snprintf(c->name, sizeof c->name, "share(%s)>=%g", p->group_name[g], lo);
  }
  if (hi < 1) {
    if (!(c = add(p, err))) return err ? err->code : MX_ENOMEM;
    for (uint32_t h = 0; h < p->n_groups; h++) c->coef[h] = (h == g) - hi;
    snprintf(c->name, sizeof c->name, "share(%s)<=%g", p->group_name[g], hi);
  }
  return MX_OK;
}

int mx_alloc_add_parity(mx_alloc_problem *p, double ratio, mx_error *err) {
  if (!(ratio > 0 && ratio <= 1))
    return mx_error_set(err, MX_EINVAL, "parity ratio must be in (0, 1], got %g", ratio);
  if (!p->group)
    return mx_error_set(err, MX_EINVAL, "parity constraints need groups");
  for (uint32_t g = 0; g < p->n_groups; g++)
    for (uint32_t h = 0; h < p->n_groups; h++) {
      if (g == h || p->group_users[g] == 0 || p->group_users[h] == 0) continue;
      mx_alloc_group_constraint *c = add(p, err);
      if (!c) return err ? err->code : MX_ENOMEM;
      c->coef[h] = ratio / p->group_users[h];
      c->coef[g] = -1.0 / p->group_users[g];
      snprintf(c->name, sizeof c->name, "rate(%s)>=%g*rate(%s)", p->group_name[g], ratio,
               p->group_name[h]);
    }
  return MX_OK;
}

double mx_alloc_group_usage(const mx_alloc_problem *p, int c, const double *group_used) {
  double s = 0;
  for (uint32_t g = 0; g < p->n_groups; g++) s += p->gc[c].coef[g] * group_used[g];
  return s;
}

/* Slack for rounding: coefficients like 1/N_g make a met constraint's sum
 * land a few ulps above 0. */
double mx__alloc_group_tol(const mx_alloc_problem *p, int c, const double *group_used) {
  double s = 0;
  for (uint32_t g = 0; g < p->n_groups; g++) s += fabs(p->gc[c].coef[g] * group_used[g]);
  return 1e-9 * (s + 1);
}

void mx__alloc_group_shift(const mx_alloc_problem *p, const double *nu, double *shift) {
  for (uint32_t g = 0; g < p->n_groups; g++) shift[g] = 0;
  for (int c = 0; c < p->n_group_constraints; c++) {
    if (nu[c] == 0) continue;
    for (uint32_t g = 0; g < p->n_groups; g++) shift[g] += nu[c] * p->gc[c].coef[g];
  }
}

int mx__alloc_groups_copy(mx_alloc_problem *dst, const mx_alloc_problem *src, const uint32_t *list,
                          uint32_t n, double scale, mx_error *err) {
  if (!src->group) return MX_OK;
  uint32_t *grp = malloc((n ? n : 1) * sizeof *grp);
  if (!grp) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) grp[i] = src->group[list[i]];
  int rc = mx_alloc_problem_set_groups(dst, grp, src->n_groups, (const char *const *)src->group_name,
                                       err);
  free(grp);
  for (int c = 0; rc == MX_OK && c < src->n_group_constraints; c++) {
    mx_alloc_group_constraint *gc = add(dst, err);
    if (!gc) return err ? err->code : MX_ENOMEM;
    memcpy(gc->coef, src->gc[c].coef, src->n_groups * sizeof *gc->coef);
    gc->limit = src->gc[c].limit * scale;
    memcpy(gc->name, src->gc[c].name, sizeof gc->name);
  }
  return rc;
}

/* ---------------------------------------------------------------- repair */

typedef struct slot {
  float value;
  uint64_t s; /* position in sel */
} slot;

static int by_value(const void *a, const void *b) {
  const slot *x = a, *y = b;
  if (x->value != y->value) return x->value < y->value ? -1 : 1;
  return x->s < y->s ? -1 : x->s > y->s;
}

int mx__alloc_group_repair(const mx_alloc_problem *p, uint32_t *sel, double *group_used,
                           uint64_t *removed) {
  const int C = p->n_group_constraints;
  const uint32_t G = p->n_groups, m = p->per_user;
  if (C == 0) return MX_OK;
  double *usage = malloc((size_t)C * sizeof *usage);
  if (!usage) return MX_ENOMEM;
  int any = 0;
  for (int c = 0; c < C; c++) {
    usage[c] = mx_alloc_group_usage(p, c, group_used);
    any |= usage[c] > p->gc[c].limit + mx__alloc_group_tol(p, c, group_used);
  }
  if (!any) {
    free(usage);
    return MX_OK;
  }
  /* chosen offers per group, least valuable first */
  uint64_t slots = (uint64_t)p->n_users * m, n = 0;
  for (uint64_t s = 0; s < slots; s++) n += sel[s] != MX_ALLOC_NONE;
  slot *all = malloc((n ? n : 1) * sizeof *all);
  uint64_t *start = calloc(G + 1, sizeof *start), *next = calloc(G, sizeof *next);
  if (!all || !start || !next) {
    free(usage);
    free(all);
    free(start);
    free(next);
    return MX_ENOMEM;
  }
  for (uint64_t s = 0; s < slots; s++)
    if (sel[s] != MX_ALLOC_NONE) start[p->group[s / m] + 1]++;
  for (uint32_t g = 0; g < G; g++) start[g + 1] += start[g];
  for (uint32_t g = 0; g < G; g++) next[g] = start[g];
  for (uint64_t s = 0; s < slots; s++) {
    if (sel[s] == MX_ALLOC_NONE) continue;
    uint32_t u = (uint32_t)(s / m);
    all[next[p->group[u]]++] = (slot){p->value[p->indptr[u] + sel[s]], s};
  }
  for (uint32_t g = 0; g < G; g++) {
    qsort(all + start[g], start[g + 1] - start[g], sizeof *all, by_value);
    next[g] = start[g];
  }
  for (;;) {
    /* the most violated constraint, then the group whose next offer costs
     * least value per unit of that violation removed */
    int worst = -1;
    double over = 0;
    for (int c = 0; c < C; c++) {
      double o = usage[c] - p->gc[c].limit - mx__alloc_group_tol(p, c, group_used);
      if (o > over) over = o, worst = c;
    }
    if (worst < 0) break;
    int best = -1;
    double eff = INFINITY;
    for (uint32_t g = 0; g < G; g++) {
      double a = p->gc[worst].coef[g];
      if (a <= 0 || next[g] == start[g + 1]) continue;
      double e = (double)all[next[g]].value / a;
      if (best < 0 || e < eff) eff = e, best = (int)g;
    }
    if (best < 0) break; /* cannot happen: the empty plan meets every constraint */
    sel[all[next[best]].s] = MX_ALLOC_NONE;
    next[best]++;
    group_used[best] -= 1;
    for (int c = 0; c < C; c++) usage[c] -= p->gc[c].coef[best];
    (*removed)++;
  }
  free(usage);
  free(all);
  free(start);
  free(next);
  return MX_OK;
}

int mx_alloc_unconstrained_objective(const mx_alloc_problem *p, const mx_alloc_options *opt,
                                     double *objective, mx_error *err) {
  mx_alloc_problem q = *p; /* shallow: the same arrays, no group constraints */
  q.n_group_constraints = 0;
  mx_alloc_result r;
  int rc = mx_alloc_solve(&q, opt, &r, err);
  if (rc == MX_OK) *objective = r.objective;
  mx_alloc_result_free(&r);
  return rc;
}
