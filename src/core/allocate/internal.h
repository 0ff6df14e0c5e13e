/* Internal interface between the allocation files: the parallel pass that
 * evaluates the Lagrangian at given prices (lagrangian.c), used by the
 * dual solver (dual_solve.c) and the primal plan (primal.c). */
#ifndef MERX_ALLOCATE_INTERNAL_H
#define MERX_ALLOCATE_INTERNAL_H

#include "merx/allocate.h"

#define MX_ALLOC_NONE UINT32_MAX

/* One pass over the users in list[0..nlist) (all users when list is NULL):
 * each picks its best per_user candidates by reduced value
 *     r = v - sum_k lambda_k c_k - mu_j   (only r > 0; first wins ties)
 * *g_users = sum of the chosen r, usage[k] = chosen cost k, count[j] =
 * chosen count of offer j. When sel is given (only with list == NULL) it
 * receives per_user local offsets per user (MX_ALLOC_NONE when unused),
 * best first. Deterministic for a given thread count. */
int mx__alloc_eval(const mx_alloc_problem *p, const uint32_t *list, uint32_t nlist,
                   const double *lambda, const double *mu, int threads, double *g_users,
                   double *usage, double *count, uint32_t *sel);

/* g = g_users + sum_k lambda_k b_k scale + sum_j mu_j cap_j scale over finite limits. */
double mx__alloc_dual_constant(const mx_alloc_problem *p, const double *lambda, const double *mu,
                               double scale);

/* Plan at prices: selection, repair, greedy fill, certificate (bound given). */
int mx__alloc_finish(const mx_alloc_problem *p, const double *lambda, const double *mu,
                     int threads, double bound, mx_alloc_result *res, mx_error *err);

/* Allocate res's arrays (used, mu) zeroed. */
int mx__alloc_result_init(const mx_alloc_problem *p, mx_alloc_result *res, mx_error *err);

/* Parity constraints (groups.c). Prices and counts travel with the offer
 * caps' arrays: mu[n_offers + c] is the price of group constraint c, and a
 * pass's count[n_offers + g] the offers chosen in group g. */
void mx__alloc_groups_free(mx_alloc_problem *p);
/* shift[g] = sum_c nu_c coef_c[g]: what each candidate of a user of group g
 * loses in reduced value. */
void mx__alloc_group_shift(const mx_alloc_problem *p, const double *nu, double *shift);
double mx__alloc_group_tol(const mx_alloc_problem *p, int c, const double *group_used);
/* dst (the users list[0..n) of src) gets src's groups and constraints, limits
 * times scale. */
int mx__alloc_groups_copy(mx_alloc_problem *dst, const mx_alloc_problem *src, const uint32_t *list,
                          uint32_t n, double scale, mx_error *err);
/* Drop chosen offers (sel: per_user slots per user) until every group
 * constraint holds; group_used is kept current, *removed counts. MX_ENOMEM. */
int mx__alloc_group_repair(const mx_alloc_problem *p, uint32_t *sel, double *group_used,
                           uint64_t *removed);

#endif
