/* From prices to a plan that meets every limit: each user's Lagrangian
 * choice, then a repair that drops the assignments with the least value per
 * unit of the violated limits until none is violated (always possible:
 * costs are >= 0, so dropping never increases usage, and the empty plan
 * fits), then a greedy fill of the remaining capacity in order of reduced
 * value. The certificate compares the plan's value with the dual bound. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/allocate/internal.h"
#include "util/util.h"

/* Fill candidates beyond this many are pre-filtered by reduced value. */
#define FILL_MAX ((uint64_t)8 << 20)

int mx__alloc_result_init(const mx_alloc_problem *p, mx_alloc_result *res, mx_error *err) {
  /* used: offer counts, then group counts; mu: cap prices, then parity
   * prices (internal.h) */
  size_t J = p->n_offers;
  res->used = calloc(J + p->n_groups + 1, sizeof *res->used);
  res->mu = calloc(J + (size_t)p->n_group_constraints + 1, sizeof *res->mu);
  if (!res->used || !res->mu) {
    mx_alloc_result_free(res);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  res->group_used = p->n_groups ? res->used + J : NULL;
  res->nu = p->n_group_constraints ? res->mu + J : NULL;
  return MX_OK;
}

void mx_alloc_result_free(mx_alloc_result *res) {
  if (!res) return;
  free(res->chosen);
  free(res->used);
  free(res->mu);
  res->chosen = NULL;
  res->used = NULL;
  res->mu = NULL;
  res->group_used = NULL;
  res->nu = NULL;
}

typedef struct {
  double key;
  double value;
  uint64_t q;
  uint32_t u;
  uint32_t slot;
} ranked;

static int by_key_asc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->q < y->q ? -1 : x->q > y->q;
}

static int by_key_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  if (x->value != y->value) return x->value > y->value ? -1 : 1;
  return x->q < y->q ? -1 : x->q > y->q;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double reduced(const mx_alloc_problem *p, const double *lambda, const double *mu,
                      uint64_t q) {
  int K = p->n_resources;
  double r = (double)p->value[q] - (mu ? mu[p->offer[q]] : 0);
  for (int k = 0; k < K; k++) r -= lambda[k] * (double)p->cost[q * (uint64_t)K + (uint64_t)k];
  return r;
}

int mx__alloc_finish(const mx_alloc_problem *p, const double *lambda, const double *mu,
                     int threads, double bound, mx_alloc_result *res, mx_error *err) {
  memset(res, 0, sizeof *res);
  int rc = mx__alloc_result_init(p, res, err);
  if (rc) return rc;
  const int K = p->n_resources;
  const uint32_t m = p->per_user, J = p->n_offers;
  const uint64_t slots = (uint64_t)p->n_users * m;
  const int C = p->n_group_constraints;
  double *gusage = NULL; /* per parity constraint, during the fill */
  uint32_t *sel = malloc(slots * sizeof *sel);
  uint32_t *nsel = NULL;
  ranked *list = NULL;
  double *samp = NULL;
  if (!sel) goto oom;
  double usage[MX_ALLOC_MAX_RESOURCES], gu;
  double *count = res->used;
  if ((rc = mx__alloc_eval(p, NULL, 0, lambda, mu, threads, &gu, usage, count, sel))) goto oom;
  /* Usage re-summed in user order: the order the final totals use. */
  double lim[MX_ALLOC_MAX_RESOURCES];
  for (int k = 0; k < K; k++) {
    lim[k] = p->limit[k];
    usage[k] = 0;
  }
  for (uint32_t u = 0; u < p->n_users; u++)
    for (uint32_t s = 0; s < m; s++) {
      uint32_t l = sel[(uint64_t)u * m + s];
      if (l == MX_ALLOC_NONE) continue;
      const float *c = p->cost + (p->indptr[u] + l) * (uint64_t)K;
      for (int k = 0; k < K; k++) usage[k] += (double)c[k];
    }

  /* ---- repair */
  int violated_res[MX_ALLOC_MAX_RESOURCES];
  int any = 0;
  for (int k = 0; k < K; k++) any |= (violated_res[k] = usage[k] > lim[k]);
  uint64_t caps_over = 0; /* offers above their cap, kept up to date below */
  for (uint32_t j = 0; j < J; j++) caps_over += count[j] > p->cap[j];
  any |= caps_over > 0;
  if (any) {
    uint64_t n = 0;
    for (uint64_t s = 0; s < slots; s++) n += sel[s] != MX_ALLOC_NONE;
    list = malloc((n ? n : 1) * sizeof *list);
    if (!list) goto oom;
    n = 0;
    for (uint32_t u = 0; u < p->n_users; u++) {
      for (uint32_t s = 0; s < m; s++) {
        uint32_t l = sel[(uint64_t)u * m + s];
        if (l == MX_ALLOC_NONE) continue;
        uint64_t q = p->indptr[u] + l;
        const float *c = p->cost + q * (uint64_t)K;
        /* weight: share of each violated limit this assignment uses */
        double w = 0;
        for (int k = 0; k < K; k++)
          if (violated_res[k]) w += (double)c[k] / fmax(p->limit[k], 1e-12);
        uint32_t j = p->offer[q];
        if (count[j] > p->cap[j]) w += 1.0 / fmax(p->cap[j], 1.0);
        if (w <= 0) continue;
        list[n++] = (ranked){(double)p->value[q] / w, p->value[q], q, u, s};
      }
    }
    /* The excess is usually small next to the plan: sort the least
     * efficient ~1% first (cut from a strided sample of the keys) and only
     * sort the rest if that was not enough. */
    uint64_t head = n;
    if (n > 65536) {
      uint64_t stride = n / 4096, ns = 0;
      samp = malloc((n / stride + 1) * sizeof *samp);
      if (!samp) goto oom;
      for (uint64_t i = 0; i < n; i += stride) samp[ns++] = list[i].key;
      qsort(samp, ns, sizeof *samp, cmp_double);
      double cut = samp[ns / 100];
      free(samp);
      samp = NULL;
      head = 0;
      for (uint64_t i = 0; i < n; i++)
        if (list[i].key <= cut) {
          ranked t = list[head];
          list[head++] = list[i];
          list[i] = t;
        }
    }
    qsort(list, head, sizeof *list, by_key_asc);
    for (uint64_t i = 0; i < n && any; i++) {
      if (i == head) qsort(list + head, n - head, sizeof *list, by_key_asc);
      uint64_t q = list[i].q;
      const float *c = p->cost + q * (uint64_t)K;
      uint32_t j = p->offer[q];
      int helps = count[j] > p->cap[j];
      for (int k = 0; k < K && !helps; k++) helps = usage[k] > lim[k] && c[k] > 0;
      if (!helps) continue;
      sel[(uint64_t)list[i].u * m + list[i].slot] = MX_ALLOC_NONE;
      count[j] -= 1;
      if (p->group) count[J + p->group[list[i].u]] -= 1;
      for (int k = 0; k < K; k++) usage[k] -= (double)c[k];
      res->repaired++;
      if (count[j] + 1 > p->cap[j] && !(count[j] > p->cap[j])) caps_over--;
      any = caps_over > 0;
      for (int k = 0; k < K; k++) any |= usage[k] > lim[k];
    }
    free(list);
    list = NULL;
  }

  /* ---- parity: dropping offers never breaks a limit or cap */
  if (p->n_group_constraints &&
      mx__alloc_group_repair(p, sel, count + J, &res->repaired) != MX_OK)
    goto oom;
  if (C && !(gusage = malloc((size_t)C * sizeof *gusage))) goto oom;
  for (int c = 0; c < C; c++) gusage[c] = mx_alloc_group_usage(p, c, count + J);

  /* ---- greedy fill: users with a free slot, candidates not chosen, v > 0 */
  nsel = calloc(p->n_users ? p->n_users : 1, sizeof *nsel);
  if (!nsel) goto oom;
  uint64_t nfill = 0;
  for (uint32_t u = 0; u < p->n_users; u++) {
    uint32_t c = 0;
    for (uint32_t s = 0; s < m; s++) c += sel[(uint64_t)u * m + s] != MX_ALLOC_NONE;
    nsel[u] = c;
    if (c >= m) continue;
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++) nfill += p->value[q] > 0;
  }
  double rcut = -INFINITY;
  if (nfill > FILL_MAX) {
    /* Keep the FILL_MAX candidates with the highest reduced value, the ones
     * the prices say are nearly worth it; the cut comes from a strided sample. */
    uint64_t stride = nfill / 65536 + 1, ns = 0, seen = 0;
    samp = malloc((nfill / stride + 2) * sizeof *samp);
    if (!samp) goto oom;
    for (uint32_t u = 0; u < p->n_users; u++) {
      if (nsel[u] >= m) continue;
      for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++)
        if (p->value[q] > 0 && seen++ % stride == 0) samp[ns++] = reduced(p, lambda, mu, q);
    }
    qsort(samp, ns, sizeof *samp, cmp_double);
    uint64_t keep = (uint64_t)((double)ns * (double)FILL_MAX / (double)nfill);
    rcut = samp[ns - 1 - (keep < ns ? keep : ns - 1)];
    free(samp);
    samp = NULL;
  }
  list = malloc(((nfill < FILL_MAX * 2 ? nfill : FILL_MAX * 2) + 1) * sizeof *list);
  if (!list) goto oom;
  uint64_t n = 0;
  for (uint32_t u = 0; u < p->n_users && n < FILL_MAX * 2; u++) {
    if (nsel[u] >= m) continue;
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1] && n < FILL_MAX * 2; q++) {
      if (p->value[q] <= 0) continue;
      uint32_t l = (uint32_t)(q - p->indptr[u]);
      int taken = 0;
      for (uint32_t s = 0; s < m; s++) taken |= sel[(uint64_t)u * m + s] == l;
      if (taken) continue;
      double r = reduced(p, lambda, mu, q);
      if (r < rcut) continue;
      list[n++] = (ranked){r, p->value[q], q, u, 0};
    }
  }
  qsort(list, n, sizeof *list, by_key_desc);
  for (uint64_t i = 0; i < n; i++) {
    uint32_t u = list[i].u;
    if (nsel[u] >= m) continue;
    uint64_t q = list[i].q;
    uint32_t j = p->offer[q];
    if (count[j] + 1 > p->cap[j]) continue;
    const float *c = p->cost + q * (uint64_t)K;
    int fits = 1;
    for (int k = 0; k < K && fits; k++) fits = usage[k] + (double)c[k] <= lim[k];
    for (int g = 0; g < C && fits; g++)
      fits = gusage[g] + p->gc[g].coef[p->group[u]] <=
             p->gc[g].limit + mx__alloc_group_tol(p, g, count + J);
    if (!fits) continue;
    if (p->group) {
      count[J + p->group[u]] += 1;
      for (int g = 0; g < C; g++) gusage[g] += p->gc[g].coef[p->group[u]];
    }
    uint32_t l = (uint32_t)(q - p->indptr[u]);
    for (uint32_t s = 0; s < m; s++)
      if (sel[(uint64_t)u * m + s] == MX_ALLOC_NONE) {
        sel[(uint64_t)u * m + s] = l;
        break;
      }
    nsel[u]++;
    count[j] += 1;
    for (int k = 0; k < K; k++) usage[k] += (double)c[k];
    res->filled++;
  }
  free(list);
  list = NULL;

  /* ---- the plan and its certificate, summed in user order. Adding and
   * removing above can round differently from this final sum; in the rare
   * case it lands above a limit, drop the least valuable assignment using
   * that resource and sum again. */
  for (int trim = 0; trim < 64; trim++) {
    double tot[MX_ALLOC_MAX_RESOURCES] = {0};
    for (uint32_t u = 0; u < p->n_users; u++)
      for (uint32_t s = 0; s < m; s++) {
        uint32_t l = sel[(uint64_t)u * m + s];
        if (l == MX_ALLOC_NONE) continue;
        const float *c = p->cost + (p->indptr[u] + l) * (uint64_t)K;
        for (int k = 0; k < K; k++) tot[k] += (double)c[k];
      }
    int over = -1;
    for (int k = 0; k < K && over < 0; k++)
      if (tot[k] > p->limit[k]) over = k;
    if (over < 0) break;
    uint64_t best = UINT64_MAX;
    float bv = INFINITY;
    for (uint64_t s = 0; s < slots; s++) {
      if (sel[s] == MX_ALLOC_NONE) continue;
      uint64_t q = p->indptr[s / m] + sel[s];
      if (p->cost[q * (uint64_t)K + (uint64_t)over] > 0 && p->value[q] < bv) {
        bv = p->value[q];
        best = s;
      }
    }
    if (best == UINT64_MAX) break;
    sel[best] = MX_ALLOC_NONE;
    nsel[best / m]--;
    res->repaired++;
  }
  free(gusage);
  gusage = NULL;
  if (C) { /* the trim may have dropped an offer a share needed */
    memset(count + J, 0, p->n_groups * sizeof *count);
    for (uint64_t s = 0; s < slots; s++)
      if (sel[s] != MX_ALLOC_NONE) count[J + p->group[s / m]] += 1;
    if (mx__alloc_group_repair(p, sel, count + J, &res->repaired) != MX_OK) goto oom;
    for (uint32_t u = 0; u < p->n_users; u++) {
      nsel[u] = 0;
      for (uint32_t s = 0; s < m; s++) nsel[u] += sel[(uint64_t)u * m + s] != MX_ALLOC_NONE;
    }
  }
  uint64_t assigned = 0;
  for (uint32_t u = 0; u < p->n_users; u++) assigned += nsel[u];
  res->chosen = malloc((assigned ? assigned : 1) * sizeof *res->chosen);
  if (!res->chosen) goto oom;
  memset(count, 0, ((size_t)J + p->n_groups + 1) * sizeof *count);
  double obj = 0, spend[MX_ALLOC_MAX_RESOURCES] = {0};
  uint64_t a = 0;
  for (uint32_t u = 0; u < p->n_users; u++) {
    uint64_t first = a;
    for (uint32_t s = 0; s < m; s++) {
      uint32_t l = sel[(uint64_t)u * m + s];
      if (l == MX_ALLOC_NONE) continue;
      uint64_t q = p->indptr[u] + l;
      /* insertion by position: a user's offers come out in input order */
      uint64_t i = a++;
      while (i > first && res->chosen[i - 1] > q) {
        res->chosen[i] = res->chosen[i - 1];
        i--;
      }
      res->chosen[i] = q;
    }
    for (uint64_t i = first; i < a; i++) {
      uint64_t q = res->chosen[i];
      obj += p->value[q];
      count[p->offer[q]] += 1;
      if (p->group) count[J + p->group[u]] += 1;
      for (int k = 0; k < K; k++) spend[k] += (double)p->cost[q * (uint64_t)K + (uint64_t)k];
    }
  }
  res->assigned = assigned;
  res->objective = obj;
  for (int k = 0; k < K; k++) {
    res->spend[k] = spend[k];
    res->lambda[k] = lambda[k];
  }
  memcpy(res->mu, mu, ((size_t)J + (size_t)C) * sizeof *mu);
  res->bound = bound;
  res->gap = bound > 0 ? (bound - obj) / bound : 0;
  if (res->gap < 0 && res->gap > -1e-9) res->gap = 0;
  free(sel);
  free(nsel);
  return MX_OK;
oom:
  free(gusage);
  free(sel);
  free(nsel);
  free(list);
  free(samp);
  mx_alloc_result_free(res);
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}
