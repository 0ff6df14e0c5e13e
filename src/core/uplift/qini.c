/* Qini and uplift curves of uplift scores on held-out rows, their areas
 * against random targeting, and stratified bootstrap intervals (formulas in
 * merx/uplift.h). Radcliffe (2007) for the Qini curve; the uplift curve as
 * in Rzepakowski & Jaroszewicz, "Decision trees for uplift modeling with
 * single and multiple treatments", KAIS 32, 2012, section 6.
 *
 * The rows are sorted once by score; a bootstrap replicate only changes how
 * many times each row counts, so each replicate is one O(n) pass with
 * weights over the same order. */
#include "merx/uplift.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double score;
  size_t row;
} ranked;

static int by_score_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->score > y->score) return -1;
  if (x->score < y->score) return 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* One pass over the rows in score order with weights w (NULL: 1 each).
 * Returns the Qini area against random and the area under the uplift curve;
 * fills the 101 sampled points when curves is set. */
typedef struct {
  double qini, auuc, ate;
} areas;

static double curve_at(const double *px, const double *py, size_t np, double x) {
  /* px ascending from 0 to 1: linear interpolation */
  size_t lo = 0, hi = np - 1;
  if (x <= px[0]) return py[0];
  if (x >= px[hi]) return py[hi];
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (px[mid] <= x) lo = mid;
    else hi = mid;
  }
  double span = px[hi] - px[lo];
  return span > 0 ? py[lo] + (py[hi] - py[lo]) * (x - px[lo]) / span : py[hi];
}

static areas pass(const size_t *order, const double *score, const unsigned char *treated,
                  const double *y, size_t n, const double *w, double *px, double *pq, double *pu,
                  size_t *np_out) {
  double Nt = 0, Nc = 0, Yt = 0, Yc = 0;
  for (size_t r = 0; r < n; r++) {
    double wi = w ? w[r] : 1;
    if (treated[r]) Nt += wi, Yt += wi * y[r];
    else Nc += wi, Yc += wi * y[r];
  }
  double N = Nt + Nc;
  areas a = {0, 0, 0};
  if (Nt <= 0 || Nc <= 0) return a;
  a.ate = Yt / Nt - Yc / Nc;
  double nt = 0, nc = 0, yt = 0, yc = 0;
  double k0 = 0, x0 = 0, q0 = 0, u0 = 0, qa = 0, ua = 0;
  size_t np = 0;
  if (px) px[np] = 0, pq[np] = 0, pu[np] = 0, np++;
  for (size_t r = 0; r < n;) {
    /* a block of tied scores enters at once */
    size_t e = r;
    double s = score[order[r]];
    while (e < n && score[order[e]] == s) {
      size_t i = order[e];
      double wi = w ? w[i] : 1;
      if (treated[i]) nt += wi, yt += wi * y[i];
      else nc += wi, yc += wi * y[i];
      e++;
    }
    r = e;
    double k = nt + nc;
    if (k == k0 && r < n) continue; /* all weights zero in this block */
    k0 = k;
    double x = k / N;
    double q = (yt - (nc > 0 ? yc * nt / nc : 0)) / Nt;
    double u = (nt > 0 && nc > 0) ? (yt / nt - yc / nc) * k / N : 0;
    qa += (x - x0) * (q + q0) / 2;
    ua += (x - x0) * (u + u0) / 2;
    x0 = x, q0 = q, u0 = u;
    if (px) px[np] = x, pq[np] = q, pu[np] = u, np++;
  }
  a.qini = qa - a.ate / 2;
  a.auuc = ua;
  if (np_out) *np_out = np;
  return a;
}

static double quantile(double *v, int n, double p) {
  /* v sorted; linear interpolation between order statistics (type 7) */
  double h = (n - 1) * p;
  int lo = (int)floor(h);
  if (lo >= n - 1) return v[n - 1];
  return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int mx_uplift_evaluate(const double *score, const unsigned char *treated, const double *y,
                       size_t n, int bootstrap, uint64_t seed, mx_uplift_eval *out,
                       mx_error *err) {
  memset(out, 0, sizeof *out);
  out->qini_lo = out->qini_hi = out->auuc_lo = out->auuc_hi = NAN;
  out->gain_lo = out->gain_hi = NAN;
  size_t nt = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(score[i]))
      return mx_error_set(err, MX_EINVAL, "uplift evaluation: score of row %zu is not finite", i + 1);
    if (!isfinite(y[i]))
      return mx_error_set(err, MX_EINVAL, "uplift evaluation: outcome of row %zu is not finite", i + 1);
    nt += treated[i] != 0;
  }
  if (nt == 0 || nt == n)
    return mx_error_set(err, MX_EEMPTY, "uplift evaluation needs treated and control rows (%zu treated, %zu control)",
                        nt, n - nt);
  if (bootstrap < 0) return mx_error_set(err, MX_EINVAL, "bootstrap replicates must be >= 0");
  size_t *order = malloc(n * sizeof *order), *ti = malloc(n * sizeof *ti);
  ranked *rk = malloc(n * sizeof *rk);
  double *px = malloc((n + 1) * 3 * sizeof *px);
  double *w = bootstrap ? malloc(n * sizeof *w) : NULL;
  double *bq = bootstrap ? malloc((size_t)bootstrap * 3 * sizeof *bq) : NULL;
  int rc = MX_OK;
  if (!order || !ti || !rk || !px || (bootstrap && (!w || !bq))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) rk[i].score = score[i], rk[i].row = i;
  qsort(rk, n, sizeof *rk, by_score_desc);
  for (size_t i = 0; i < n; i++) order[i] = rk[i].row;
  double *pq = px + n + 1, *pu = pq + n + 1;
  size_t np = 0;
  areas a = pass(order, score, treated, y, n, NULL, px, pq, pu, &np);
  out->n = n;
  out->n_treated = nt;
  out->n_control = n - nt;
  out->ate = a.ate;
  out->qini = a.qini;
  out->auuc = a.auuc;
  out->random_area = a.ate / 2;
  for (int k = 0; k < MX_UPLIFT_CURVE_POINTS; k++) {
    double x = (double)k / (MX_UPLIFT_CURVE_POINTS - 1);
    out->x[k] = x;
    out->qini_curve[k] = curve_at(px, pq, np, x);
    out->uplift_curve[k] = curve_at(px, pu, np, x);
  }
  if (bootstrap) {
    /* stratified: nt draws among treated rows, n - nt among control rows */
    size_t nc = 0, ntt = 0;
    for (size_t i = 0; i < n; i++)
      if (treated[i]) ti[ntt++] = i;
    size_t *ci = ti + ntt;
    for (size_t i = 0; i < n; i++)
      if (!treated[i]) ci[nc++] = i;
    mx_rng rng;
    mx__rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15ull);
    double *bg = bq + bootstrap, *ba = bg + bootstrap;
    for (int b = 0; b < bootstrap; b++) {
      memset(w, 0, n * sizeof *w);
      for (size_t d = 0; d < ntt; d++) w[ti[mx__rng_below(&rng, (uint32_t)ntt)]] += 1;
      for (size_t d = 0; d < nc; d++) w[ci[mx__rng_below(&rng, (uint32_t)nc)]] += 1;
      areas r = pass(order, score, treated, y, n, w, NULL, NULL, NULL, NULL);
      bq[b] = r.qini;
      ba[b] = r.auuc;
      bg[b] = r.auuc - r.ate / 2;
    }
    qsort(bq, (size_t)bootstrap, sizeof *bq, cmp_double);
    qsort(ba, (size_t)bootstrap, sizeof *ba, cmp_double);
    qsort(bg, (size_t)bootstrap, sizeof *bg, cmp_double);
    out->qini_lo = quantile(bq, bootstrap, 0.025);
    out->qini_hi = quantile(bq, bootstrap, 0.975);
    out->auuc_lo = quantile(ba, bootstrap, 0.025);
    out->auuc_hi = quantile(ba, bootstrap, 0.975);
    out->gain_lo = quantile(bg, bootstrap, 0.025);
    out->gain_hi = quantile(bg, bootstrap, 0.975);
    out->bootstrap = bootstrap;
  }
done:
  free(order);
  free(rk);
  free(ti);
  free(px);
  free(w);
  free(bq);
  return rc;
}
