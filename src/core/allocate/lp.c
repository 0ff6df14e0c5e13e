/* Export an allocation instance as its LP relaxation in CPLEX LP format, so
 * any LP solver (glpsol --lp, HiGHS, CPLEX) can check merx's dual bound and
 * plan value independently. Parity constraints are rows grp0, grp1, ... */
#include <math.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_alloc_write_lp(const char *path, const mx_alloc_problem *p, mx_error *err) {
  int rc = mx_alloc_problem_check(p, err);
  if (rc) return rc;
  mx_atomic_file af;
  if ((rc = mx__atomic_open(&af, path, err))) return rc;
  FILE *f = af.f;
  int K = p->n_resources;
  /* one term per line: LP readers limit line length */
  fputs("\\ merx allocation instance, LP relaxation\nMaximize\n obj:\n", f);
  for (uint64_t q = 0; q < p->n_candidates; q++) fprintf(f, " + %.9g x%llu\n", (double)p->value[q],
                                                        (unsigned long long)q);
  fputs("Subject To\n", f);
  for (uint32_t u = 0; u < p->n_users; u++) {
    if (p->indptr[u] == p->indptr[u + 1]) continue;
    fprintf(f, " u%u:\n", u);
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++)
      fprintf(f, " + x%llu\n", (unsigned long long)q);
    fprintf(f, " <= %u\n", p->per_user);
  }
  for (int k = 0; k < K; k++) {
    if (!isfinite(p->limit[k])) continue;
    fprintf(f, " r%d:\n", k);
    int any = 0;
    for (uint64_t q = 0; q < p->n_candidates; q++) {
      float c = p->cost[q * (uint64_t)K + (uint64_t)k];
      if (c == 0) continue;
      fprintf(f, " + %.9g x%llu\n", (double)c, (unsigned long long)q);
      any = 1;
    }
    if (!any) fputs(" 0 x0\n", f);
    fprintf(f, " <= %.17g\n", p->limit[k]);
  }
  for (uint32_t j = 0; j < p->n_offers; j++) {
    if (!isfinite(p->cap[j])) continue;
    fprintf(f, " cap%u:\n", j);
    int any = 0;
    for (uint64_t q = 0; q < p->n_candidates; q++)
      if (p->offer[q] == j) {
        fprintf(f, " + x%llu\n", (unsigned long long)q);
        any = 1;
      }
    if (!any) fputs(" 0 x0\n", f);
    fprintf(f, " <= %.17g\n", p->cap[j]);
  }
  /* parity constraints: grpC, one coefficient per candidate (its user's group) */
  for (int c = 0; c < p->n_group_constraints; c++) {
    fprintf(f, " grp%d:\n", c);
    int any = 0;
    for (uint32_t u = 0; u < p->n_users; u++) {
      double a = p->gc[c].coef[p->group[u]];
      if (a == 0) continue;
      for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++) {
        fprintf(f, " %c %.17g x%llu\n", a < 0 ? '-' : '+', fabs(a), (unsigned long long)q);
        any = 1;
      }
    }
    if (!any) fputs(" 0 x0\n", f);
    fprintf(f, " <= %.17g\n", p->gc[c].limit);
  }
  fputs("Bounds\n", f);
  for (uint64_t q = 0; q < p->n_candidates; q++)
    fprintf(f, " 0 <= x%llu <= 1\n", (unsigned long long)q);
  fputs("End\n", f);
  if (ferror(f)) {
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed");
  }
  return mx__atomic_commit(&af, err);
}
