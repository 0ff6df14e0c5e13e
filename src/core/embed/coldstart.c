/* Cold start: a ridge-regression map from content vectors to item factors
 * (formula and reference in merx/embed.h). d is small (hundreds), so the
 * d x d normal equations are formed with BLAS (dsyrk, dgemm) and solved by
 * Cholesky (LAPACK dposv) in double precision. */
#include "merx/embed.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Cholesky solve, exported by OpenBLAS (no LAPACKE header needed). */
extern void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
                   double *b, const int *ldb, int *info);

void mx_coldstart_free(mx_coldstart *m) {
  if (!m) return;
  free(m->w);
  free(m->bias);
  free(m);
}

int mx_coldstart_fit(const float *x, const float *q, size_t n, uint32_t d, uint32_t k,
                     double lambda, mx_coldstart **out, mx_error *err) {
  *out = NULL;
  if (n < 2) return mx_error_set(err, MX_EEMPTY, "cold start: need at least 2 items with both text and factors (got %zu)", n);
  if (d == 0 || k == 0) return mx_error_set(err, MX_EINVAL, "cold start: zero dimension");
  if (!(lambda > 0)) return mx_error_set(err, MX_EINVAL, "cold start: the ridge penalty must be positive");
  double *xc = malloc(n * d * sizeof *xc), *qc = malloc(n * k * sizeof *qc);
  double *mx = calloc(d, sizeof *mx), *mq = calloc(k, sizeof *mq);
  double *a = malloc((size_t)d * d * sizeof *a), *b = malloc((size_t)d * k * sizeof *b);
  mx_coldstart *m = calloc(1, sizeof *m);
  int rc = MX_OK;
  if (!xc || !qc || !mx || !mq || !a || !b || !m) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    for (uint32_t j = 0; j < d; j++) mx[j] += x[i * d + j];
    for (uint32_t j = 0; j < k; j++) mq[j] += q[i * k + j];
  }
  for (uint32_t j = 0; j < d; j++) mx[j] /= (double)n;
  for (uint32_t j = 0; j < k; j++) mq[j] /= (double)n;
  double total_ss = 0;
  for (size_t i = 0; i < n; i++) {
    for (uint32_t j = 0; j < d; j++) xc[i * d + j] = x[i * d + j] - mx[j];
    for (uint32_t j = 0; j < k; j++) {
      qc[i * k + j] = q[i * k + j] - mq[j];
      total_ss += qc[i * k + j] * qc[i * k + j];
    }
  }
  /* A = Xc'Xc + lambda I (upper triangle, row-major == lower column-major),
   * B = Xc'Qc. */
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0, xc, (int)d, 0.0, a,
              (int)d);
  for (uint32_t j = 0; j < d; j++) a[(size_t)j * d + j] += lambda;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)k, (int)n, 1.0, xc, (int)d,
              qc, (int)k, 0.0, b, (int)k);
  /* LAPACK is column-major: the row-major upper triangle of A is the
   * column-major lower one ("L"); the right-hand sides B are copied into
   * column-major order (one column of d values per factor). */
  double *bc = malloc((size_t)d * k * sizeof *bc);
  if (!bc) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (uint32_t j = 0; j < d; j++)
    for (uint32_t c = 0; c < k; c++) bc[(size_t)c * d + j] = b[(size_t)j * k + c];
  int nn = (int)d, nrhs = (int)k, info = 0;
  dposv_("L", &nn, &nrhs, a, &nn, bc, &nn, &info);
  if (info != 0) {
    free(bc);
    rc = mx_error_set(err, MX_EINVAL, "cold start: the ridge system is not positive definite (LAPACK info %d)", info);
    goto done;
  }
  m->in_dim = d;
  m->out_dim = k;
  m->lambda = lambda;
  m->n_fit = n;
  m->w = malloc((size_t)d * k * sizeof *m->w);
  m->bias = malloc(k * sizeof *m->bias);
  if (!m->w || !m->bias) {
    free(bc);
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (uint32_t j = 0; j < d; j++)
    for (uint32_t c = 0; c < k; c++) m->w[(size_t)j * k + c] = (float)bc[(size_t)c * d + j];
  for (uint32_t c = 0; c < k; c++) {
    double s = mq[c];
    for (uint32_t j = 0; j < d; j++) s -= mx[j] * bc[(size_t)c * d + j];
    m->bias[c] = (float)s;
  }
  /* R^2 on the fitted items: 1 - residual SS / total SS (centred). */
  double res_ss = 0;
  for (size_t i = 0; i < n; i++)
    for (uint32_t c = 0; c < k; c++) {
      double p = 0;
      for (uint32_t j = 0; j < d; j++) p += xc[i * d + j] * bc[(size_t)c * d + j];
      double r = qc[i * k + c] - p;
      res_ss += r * r;
    }
  m->r2_train = total_ss > 0 ? 1.0 - res_ss / total_ss : 0.0;
  free(bc);
  *out = m;
  m = NULL;
done:
  free(xc);
  free(qc);
  free(mx);
  free(mq);
  free(a);
  free(b);
  mx_coldstart_free(m);
  return rc;
}

void mx_coldstart_apply(const mx_coldstart *m, const float *x, size_t n, float *out) {
  if (n == 0) return;
  for (size_t i = 0; i < n; i++) memcpy(out + i * m->out_dim, m->bias, m->out_dim * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m->out_dim, (int)m->in_dim,
              1.0f, x, (int)m->in_dim, m->w, (int)m->out_dim, 1.0f, out, (int)m->out_dim);
}
