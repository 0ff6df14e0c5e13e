/* Forecast reconciliation over a hierarchy given as a parent column.
 *
 * With S the n x m summing matrix (node i, leaf j: 1 when leaf j lies under
 * node i or is i) and yhat the n base forecasts of one step, every linear
 * reconciliation is ytilde = S G yhat (Hyndman et al. 2011):
 *   bottom-up    G = [0 | I] (the leaves' own forecasts, summed up),
 *   ols          G = (S'S)^-1 S'                      (Hyndman et al. 2011),
 *   mint-shrink  G = (S'W^-1 S)^-1 S'W^-1             (Wickramasuriya,
 *                Athanasopoulos & Hyndman 2019, eq. 10) with W the
 *                Schäfer & Strimmer (2005) shrinkage of the one-step
 *                in-sample residual covariance towards its diagonal, as R
 *                hts::MinT(covariance = "shr") computes it (uncentred
 *                moments, lambda clamped to [0, 1]).
 * Small dense algebra (Cholesky) is enough: hierarchies of a few hundred nodes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/csv.h"

void mx_hierarchy_free(mx_hierarchy *h) {
  if (!h) return;
  if (h->ids)
    for (size_t i = 0; i < h->count; i++) free(h->ids[i]);
  free(h->ids);
  free(h->parent);
  free(h->leaf);
  free(h);
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static long find_id(char *const *ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(ids[i], id) == 0) return (long)i;
  return -1;
}

/* Resolve parents, find cycles and leaves. lines may be NULL (arrays). */
static int finish(mx_hierarchy *h, char **pnames, const long *lines, const char *file,
                  mx_error *err) {
  size_t n = h->count;
  for (size_t i = 0; i < n; i++) {
    long ln = lines ? lines[i] : 0;
    if (!pnames[i] || !pnames[i][0]) {
      h->parent[i] = -1;
      continue;
    }
    long p = find_id(h->ids, n, pnames[i]);
    if (p < 0)
      return mx_error_at(err, MX_ENOTFOUND, file, ln, 2, "parent",
                         "node '%s': unknown parent '%s'", h->ids[i], pnames[i]);
    h->parent[i] = p;
  }
  for (size_t i = 0; i < n; i++) {
    long p = h->parent[i];
    size_t steps = 0;
    while (p >= 0) {
      if ((size_t)p == i || ++steps > n)
        return mx_error_at(err, MX_EINVAL, file, lines ? lines[i] : 0, 2, "parent",
                           "node '%s': cycle in the hierarchy", h->ids[i]);
      p = h->parent[p];
    }
  }
  for (size_t i = 0; i < n; i++) h->leaf[i] = 1;
  for (size_t i = 0; i < n; i++)
    if (h->parent[i] >= 0) h->leaf[h->parent[i]] = 0;
  return MX_OK;
}

static mx_hierarchy *alloc_h(size_t n) {
  mx_hierarchy *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->count = n;
  h->ids = calloc(n ? n : 1, sizeof *h->ids);
  h->parent = calloc(n ? n : 1, sizeof *h->parent);
  h->leaf = calloc(n ? n : 1, sizeof *h->leaf);
  if (!h->ids || !h->parent || !h->leaf) {
    mx_hierarchy_free(h);
    return NULL;
  }
  return h;
}

int mx_hierarchy_from_arrays(const char *const *ids, const char *const *parents, size_t n,
                             mx_hierarchy **out, mx_error *err) {
  *out = NULL;
  if (n == 0) return mx_error_set(err, MX_EEMPTY, "empty hierarchy");
  mx_hierarchy *h = alloc_h(n);
  char **pn = calloc(n, sizeof *pn);
  if (!h || !pn) {
    mx_hierarchy_free(h), free(pn);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int rc = MX_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (!ids[i] || !ids[i][0]) {
      rc = mx_error_set(err, MX_EINVAL, "node %zu: empty id", i + 1);
      break;
    }
    if (find_id(h->ids, i, ids[i]) >= 0) {
      rc = mx_error_set(err, MX_EINVAL, "duplicate id '%s'", ids[i]);
      break;
    }
    h->ids[i] = dup_str(ids[i]);
    pn[i] = parents && parents[i] ? dup_str(parents[i]) : dup_str("");
    if (!h->ids[i] || !pn[i]) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (!rc) rc = finish(h, pn, NULL, NULL, err);
  for (size_t i = 0; i < n; i++) free(pn[i]);
  free(pn);
  if (rc) mx_hierarchy_free(h);
  else *out = h;
  return rc;
}

int mx_hierarchy_read(const char *path, mx_hierarchy **out, mx_error *err) {
  *out = NULL;
  mx_csv_options co = mx_csv_defaults();
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  size_t cap = 64, n = 0;
  char **ids = malloc(cap * sizeof *ids), **pn = malloc(cap * sizeof *pn);
  long *lines = malloc(cap * sizeof *lines);
  if (!ids || !pn || !lines) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  char **f;
  size_t *lens, nf;
  while (!rc) {
    int r = mx_csv_next(csv, &f, &lens, &nf, err);
    if (r < 0) {
      rc = r;
      break;
    }
    if (r == 0) break;
    long ln = mx_csv_line(csv);
    if (nf < 1 || !f[0][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, ln, 1, "id", "empty id");
      break;
    }
    if (nf > 2) {
      rc = mx_error_at(err, MX_EPARSE, path, ln, 3, NULL, "expected 2 fields id,parent, got %zu", nf);
      break;
    }
    if (find_id(ids, n, f[0]) >= 0) {
      rc = mx_error_at(err, MX_EINVAL, path, ln, 1, "id", "duplicate id '%s'", f[0]);
      break;
    }
    if (n == cap) {
      cap *= 2;
      char **a = realloc(ids, cap * sizeof *ids);
      if (a) ids = a;
      char **b = realloc(pn, cap * sizeof *pn);
      if (b) pn = b;
      long *c = realloc(lines, cap * sizeof *lines);
      if (c) lines = c;
      if (!a || !b || !c) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
    }
    ids[n] = dup_str(f[0]);
    pn[n] = dup_str(nf > 1 ? f[1] : "");
    lines[n] = ln;
    n++;
    if (!ids[n - 1] || !pn[n - 1]) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  mx_csv_close(csv);
  if (!rc && n == 0) rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no nodes in the hierarchy");
  mx_hierarchy *h = NULL;
  if (!rc && !(h = alloc_h(n))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  if (!rc) {
    for (size_t i = 0; i < n; i++) h->ids[i] = ids[i], ids[i] = NULL;
    rc = finish(h, pn, lines, path, err);
  }
  for (size_t i = 0; i < n; i++) {
    if (ids) free(ids[i]);
    if (pn) free(pn[i]);
  }
  free(ids), free(pn), free(lines);
  if (rc) mx_hierarchy_free(h);
  else *out = h;
  return rc;
}

int mx_reconcile_parse(const char *name, int *method, mx_error *err) {
  static const char *const names[] = {"none", "bottom-up", "ols", "mint-shrink"};
  for (int i = 0; i < 4; i++)
    if (strcmp(name, names[i]) == 0) {
      *method = i;
      return MX_OK;
    }
  return mx_error_set(err, MX_ENOTFOUND,
                      "unknown reconciliation '%s' (none, bottom-up, ols, mint-shrink)", name);
}

/* In-place Cholesky of the k x k SPD matrix a (lower triangle). -1 if not PD. */
static int cholesky(double *a, size_t k) {
  for (size_t j = 0; j < k; j++) {
    double d = a[j * k + j];
    for (size_t p = 0; p < j; p++) d -= a[j * k + p] * a[j * k + p];
    if (!(d > 0)) return -1;
    d = sqrt(d);
    a[j * k + j] = d;
    for (size_t i = j + 1; i < k; i++) {
      double s = a[i * k + j];
      for (size_t p = 0; p < j; p++) s -= a[i * k + p] * a[j * k + p];
      a[i * k + j] = s / d;
    }
  }
  return 0;
}

/* Solve L L' x = b in place (b of length k). */
static void chol_solve(const double *l, size_t k, double *b) {
  for (size_t i = 0; i < k; i++) {
    double s = b[i];
    for (size_t p = 0; p < i; p++) s -= l[i * k + p] * b[p];
    b[i] = s / l[i * k + i];
  }
  for (size_t i = k; i-- > 0;) {
    double s = b[i];
    for (size_t p = i + 1; p < k; p++) s -= l[p * k + i] * b[p];
    b[i] = s / l[i * k + i];
  }
}

int mx_reconcile(const mx_hierarchy *hy, int method, const double *base, int horizon,
                 const double *resid, size_t T, double *out, double *lambda_out, mx_error *err) {
  size_t n = hy->count, H = (size_t)horizon, m = 0;
  if (lambda_out) *lambda_out = NAN;
  if (horizon < 1) return mx_error_set(err, MX_EINVAL, "horizon must be >= 1");
  if (method == MX_RECON_NONE) {
    memcpy(out, base, n * H * sizeof *out);
    return MX_OK;
  }
  if (method == MX_RECON_MINT && (!resid || T < 2))
    return mx_error_set(err, MX_EINVAL, "mint-shrink needs at least 2 in-sample residuals per node");
  for (size_t i = 0; i < n; i++) m += hy->leaf[i] != 0;
  size_t *leaves = malloc(m * sizeof *leaves);
  double *S = calloc(n * m, sizeof *S);      /* n x m */
  double *X = calloc(n * m, sizeof *X);      /* W^-1 S, n x m */
  double *A = calloc(m * m, sizeof *A);      /* S'W^-1 S */
  double *W = method == MX_RECON_MINT ? calloc(n * n, sizeof *W) : NULL;
  double *b = malloc((n > m ? n : m) * sizeof *b);
  int rc = MX_OK;
  if (!leaves || !S || !X || !A || !b || (method == MX_RECON_MINT && !W)) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0, j = 0; i < n; i++)
    if (hy->leaf[i]) leaves[j++] = i;
  for (size_t j = 0; j < m; j++)
    for (long v = (long)leaves[j]; v >= 0; v = hy->parent[v]) S[(size_t)v * m + j] = 1;
  if (method == MX_RECON_BU) {
    for (size_t h = 0; h < H; h++)
      for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < m; j++)
          if (S[i * m + j] != 0) s += base[leaves[j] * H + h];
        out[i * H + h] = s;
      }
    goto done;
  }
  if (method == MX_RECON_OLS) {
    memcpy(X, S, n * m * sizeof *X); /* W = I */
  } else {
    /* covm = R'R / T (uncentred), shrink the off-diagonal correlations to 0 */
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j <= i; j++) {
        double s = 0;
        for (size_t t = 0; t < T; t++) s += resid[i * T + t] * resid[j * T + t];
        W[i * n + j] = W[j * n + i] = s / (double)T;
      }
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
      if (!(W[i * n + i] > 0)) {
        rc = mx_error_set(err, MX_EINVAL,
                          "mint-shrink: node '%s' has zero in-sample residuals (variance 0)",
                          hy->ids[i]);
        goto done;
      }
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++) {
        double si = sqrt(W[i * n + i]), sj = sqrt(W[j * n + j]);
        double s1 = 0, s2 = 0;
        for (size_t t = 0; t < T; t++) {
          double w = (resid[i * T + t] / si) * (resid[j * T + t] / sj);
          s1 += w, s2 += w * w;
        }
        /* v_ij = (sum w^2 - (sum w)^2 / T) / (T (T - 1)); r_ij = sum w / T */
        double v = (s2 - s1 * s1 / (double)T) / ((double)T * (double)(T - 1));
        double r = s1 / (double)T;
        num += 2 * v, den += 2 * r * r;
      }
    double lambda = den > 0 ? num / den : 1;
    if (lambda < 0) lambda = 0;
    if (lambda > 1) lambda = 1;
    if (lambda_out) *lambda_out = lambda;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        if (i != j) W[i * n + j] *= 1 - lambda;
    if (cholesky(W, n)) {
      rc = mx_error_set(err, MX_EINVAL, "mint-shrink: residual covariance is not positive definite");
      goto done;
    }
    for (size_t j = 0; j < m; j++) {
      for (size_t i = 0; i < n; i++) b[i] = S[i * m + j];
      chol_solve(W, n, b);
      for (size_t i = 0; i < n; i++) X[i * m + j] = b[i];
    }
  }
  for (size_t p = 0; p < m; p++)
    for (size_t q = 0; q < m; q++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += S[i * m + p] * X[i * m + q];
      A[p * m + q] = s;
    }
  if (method == MX_RECON_MINT) /* symmetrise rounding */
    for (size_t p = 0; p < m; p++)
      for (size_t q = 0; q < p; q++) A[p * m + q] = A[q * m + p] = 0.5 * (A[p * m + q] + A[q * m + p]);
  if (cholesky(A, m)) {
    rc = mx_error_set(err, MX_EINVAL, "reconcile: singular system");
    goto done;
  }
  for (size_t h = 0; h < H; h++) {
    for (size_t p = 0; p < m; p++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += X[i * m + p] * base[i * H + h];
      b[p] = s;
    }
    chol_solve(A, m, b);
    /* leaves get x; every node the exact sum of its leaves (coherent by construction) */
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (size_t j = 0; j < m; j++)
        if (S[i * m + j] != 0) s += b[j];
      out[i * H + h] = s;
    }
  }
done:
  free(leaves), free(S), free(X), free(A), free(W), free(b);
  return rc;
}

int mx_hierarchy_series(const mx_hierarchy *hy, const mx_series_set *s, mx_series_set **out,
                        mx_error *err) {
  size_t n = hy->count;
  *out = NULL;
  size_t *src = malloc(n * sizeof *src);
  size_t *len = calloc(n, sizeof *len);
  double **vals = calloc(n, sizeof *vals);
  int64_t *start = s->start ? calloc(n, sizeof *start) : NULL;
  int rc = MX_OK;
  if (!src || !len || !vals || (s->start && !start)) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    src[i] = (size_t)-1;
    for (size_t k = 0; k < s->count; k++)
      if (strcmp(s->ids[k], hy->ids[i]) == 0) src[i] = k;
    if (hy->leaf[i] && src[i] == (size_t)-1) {
      rc = mx_error_set(err, MX_ENOTFOUND, "hierarchy leaf '%s' has no series in the data",
                        hy->ids[i]);
      goto done;
    }
  }
  for (size_t k = 0; k < s->count; k++)
    if (find_id(hy->ids, n, s->ids[k]) < 0) {
      rc = mx_error_set(err, MX_ENOTFOUND, "series '%s' is not in the hierarchy", s->ids[k]);
      goto done;
    }
  /* lengths: a node's own series, else the longest of its leaves (series
   * end together: aligned at the end) */
  for (size_t i = 0; i < n; i++)
    if (src[i] != (size_t)-1) len[i] = s->len[src[i]];
  for (size_t i = 0; i < n; i++)
    if (hy->leaf[i])
      for (long v = hy->parent[i]; v >= 0; v = hy->parent[v])
        if (src[v] == (size_t)-1 && len[v] < len[i]) len[v] = len[i];
  for (size_t i = 0; i < n; i++) {
    vals[i] = calloc(len[i] ? len[i] : 1, sizeof **vals);
    if (!vals[i]) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    if (src[i] != (size_t)-1) memcpy(vals[i], s->values[src[i]], len[i] * sizeof **vals);
  }
  for (size_t i = 0; i < n; i++)
    if (hy->leaf[i])
      for (long v = hy->parent[i]; v >= 0; v = hy->parent[v]) {
        if (src[v] != (size_t)-1) continue;
        size_t off = len[v] - len[i];
        for (size_t t = 0; t < len[i]; t++) vals[v][off + t] += vals[i][t];
      }
  rc = mx_series_set_from_arrays((const char *const *)hy->ids, (const double *const *)vals, len,
                                 n, out, err);
  if (!rc) {
    (*out)->freq = s->freq;
    if (start) {
      /* the period len[i] steps before the common end */
      for (size_t i = 0; i < n; i++) {
        size_t ref = src[i];
        if (ref == (size_t)-1)
          for (size_t j = 0; j < n; j++)
            if (hy->leaf[j] && len[j] == len[i] && src[j] != (size_t)-1) {
              long v = hy->parent[j];
              while (v >= 0 && (size_t)v != i) v = hy->parent[v];
              if (v >= 0) {
                ref = src[j];
                break;
              }
            }
        start[i] = s->start[ref];
      }
      (*out)->start = start;
      start = NULL;
    }
  }
done:
  if (vals)
    for (size_t i = 0; i < n; i++) free(vals[i]);
  free(vals), free(len), free(src), free(start);
  return rc;
}

int mx_forecast_reconcile(const mx_hierarchy *hy, const mx_series_set *s, int method,
                          const mx_forecast_options *opt, mx_forecast_result *res,
                          double *lambda, mx_error *err) {
  size_t n = hy->count, H = (size_t)opt->horizon, T = 0;
  if (s->count != n) return mx_error_set(err, MX_EINVAL, "series set does not match the hierarchy");
  if (method == MX_RECON_NONE) return MX_OK;
  double *base = malloc(n * H * sizeof *base), *out = malloc(n * H * sizeof *out);
  double *resid = NULL, *f = NULL;
  int rc = MX_OK;
  if (!base || !out) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) memcpy(base + i * H, res[i].mean, H * sizeof *base);
  if (method == MX_RECON_MINT) {
    /* one-step errors of each node's method from the last T origins of its
     * history (rolling origin; the common window of every node) */
    size_t minlen = (size_t)-1;
    for (size_t i = 0; i < n; i++)
      if (s->len[i] < minlen) minlen = s->len[i];
    T = minlen > 8 ? minlen - 4 : 0;
    if (T > 52) T = 52;
    if (T < 4) {
      rc = mx_error_set(err, MX_EINVAL, "mint-shrink: series too short for residuals (need > 8)");
      goto done;
    }
    resid = malloc(n * T * sizeof *resid);
    f = malloc(sizeof *f);
    if (!resid || !f) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < n && !rc; i++) {
      int m = res[i].method == MX_FC_COMBO ? MX_FC_THETA : res[i].method;
      for (size_t t = 0; t < T && !rc; t++) {
        size_t origin = s->len[i] - T + t;
        rc = mx_forecast_point(s->values[i], origin, m, 1, opt->season, f, NULL, err);
        resid[i * T + t] = s->values[i][origin] - f[0];
      }
    }
    if (rc) goto done;
  }
  rc = mx_reconcile(hy, method, base, (int)H, resid, T, out, lambda, err);
  if (rc) goto done;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < H; j++) {
      double d = out[i * H + j] - res[i].mean[j];
      res[i].mean[j] = out[i * H + j];
      /* bounds move with the mean (their width stays the base method's) */
      for (int l = 0; l < res[i].nlevels; l++) {
        res[i].lo[(size_t)l * H + j] += d;
        res[i].hi[(size_t)l * H + j] += d;
      }
    }
done:
  free(base), free(out), free(resid), free(f);
  return rc;
}
