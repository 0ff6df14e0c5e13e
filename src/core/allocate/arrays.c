/* An allocation problem from candidate columns (merx/allocate.h,
 * mx_alloc_from_columns): the choice merx.util.select and the campaign DSL
 * make. The budget and every capped group become priced constraints, the
 * offers' caps its offer caps, so the solver ranks candidates by value net
 * of the priced costs -- value per unit of cost where the budget binds --
 * rather than by value alone, which on a binding budget loses a fifth of
 * the value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_alloc_from_columns(const mx_alloc_columns *c, mx_alloc_problem **out, uint32_t **row,
                          mx_error *err) {
  *out = NULL;
  *row = NULL;
  /* candidates that can be chosen, counted per user (a counting sort) */
  uint64_t *count = calloc((size_t)c->n_users + 1, sizeof *count);
  if (!count) return mx_error_set(err, MX_ENOMEM, "out of memory");
  uint32_t m = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (!(c->value[i] > c->min_value)) continue; /* NaN too */
    double cost = c->cost ? c->cost[i] : 0;
    if (!isfinite(cost) || cost < 0) {
      free(count);
      return mx_error_set(err, MX_EINVAL, "cost[%zu] is %g: costs must be finite and >= 0", i + 1,
                          cost);
    }
    if (!isfinite(c->value[i])) {
      free(count);
      return mx_error_set(err, MX_EINVAL, "value[%zu] is not finite", i + 1);
    }
    count[c->user[i] + 1]++;
    m++;
  }
  /* the constraints: the budget, then each group with a cap */
  int budget = isfinite(c->budget), K = budget ? 1 : 0;
  int *gres = malloc((c->n_groups ? c->n_groups : 1) * sizeof *gres);
  if (!gres) {
    free(count);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (uint32_t k = 0; k < c->n_groups; k++) {
    gres[k] = -1;
    if (!c->group || !c->group_cap || c->group_cap[k] == UINT32_MAX) continue;
    if (K >= MX_ALLOC_MAX_RESOURCES) {
      free(count);
      free(gres);
      return mx_error_set(err, MX_EINVAL, "at most %d group caps (with a budget, %d)",
                          MX_ALLOC_MAX_RESOURCES, MX_ALLOC_MAX_RESOURCES - 1);
    }
    gres[k] = K++;
  }
  if (m == 0) { /* nothing to choose: no problem */
    free(count);
    free(gres);
    return MX_OK;
  }
  mx_alloc_problem *p;
  int rc = mx_alloc_problem_create(c->n_users, c->n_offers ? c->n_offers : 1, K, m, &p, err);
  uint32_t *cand = rc ? NULL : malloc((size_t)m * sizeof *cand); /* position -> row */
  if (rc || !cand) {
    if (!rc) mx_alloc_problem_free(p);
    free(count);
    free(gres);
    return rc ? rc : mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  p->indptr[0] = 0;
  for (uint32_t k = 0; k < c->n_users; k++) p->indptr[k + 1] = p->indptr[k] + count[k + 1];
  uint64_t *next = count; /* reused: the next free position of each user */
  for (uint32_t k = 0; k < c->n_users; k++) next[k] = p->indptr[k];
  for (size_t i = 0; i < c->n; i++) {
    if (!(c->value[i] > c->min_value)) continue;
    uint64_t q = next[c->user[i]]++;
    cand[q] = (uint32_t)i;
    p->offer[q] = c->offer[i];
    p->value[q] = (float)c->value[i];
    float *cq = p->cost + q * (uint64_t)K;
    for (int k = 0; k < K; k++) cq[k] = 0;
    if (budget) cq[0] = (float)(c->cost ? c->cost[i] : 0);
    if (c->group && gres[c->group[i]] >= 0) cq[gres[c->group[i]]] = 1;
  }
  if (budget) {
    p->limit[0] = c->budget;
    snprintf(p->resource_name[0], MX_ALLOC_NAME_MAX, "budget");
  }
  for (uint32_t k = 0; k < c->n_groups; k++) {
    if (gres[k] < 0) continue;
    p->limit[gres[k]] = c->group_cap[k];
    snprintf(p->resource_name[gres[k]], MX_ALLOC_NAME_MAX, "group %s", c->group_name[k]);
  }
  for (uint32_t j = 0; c->offer_cap && j < c->n_offers; j++)
    if (c->offer_cap[j] != UINT32_MAX) p->cap[j] = c->offer_cap[j];
  p->per_user = c->per_user;
  free(count);
  free(gres);
  *out = p;
  *row = cand;
  return MX_OK;
}

int mx_alloc_find_repeat(const mx_alloc_problem *p, uint64_t *a, uint64_t *b) {
  for (uint32_t k = 0; k < p->n_users; k++)
    for (uint64_t x = p->indptr[k]; x < p->indptr[k + 1]; x++)
      for (uint64_t y = x + 1; y < p->indptr[k + 1]; y++)
        if (p->offer[x] == p->offer[y]) {
          *a = x;
          *b = y;
          return 1;
        }
  return 0;
}

static int by_row(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

void mx_alloc_chosen_rows(const mx_alloc_result *res, const uint32_t *row, uint32_t *out) {
  for (uint64_t k = 0; k < res->assigned; k++) out[k] = row[res->chosen[k]];
  qsort(out, res->assigned, sizeof *out, by_row);
}
