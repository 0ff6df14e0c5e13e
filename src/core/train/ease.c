/* EASE (Steck 2019, "Embarrassingly shallow autoencoders for sparse data",
 * eq. 8): with G = X'X + reg I over binarised interactions and P = G^-1,
 * the item-item weights are B = I - P diagMat(1 / diag(P)), i.e.
 * B_ji = -P_ji / P_ii and B_ii = 0; a user's scores are x_u' B. One
 * Cholesky factorisation and inverse of an items x items matrix (LAPACK
 * spotrf + spotri through OpenBLAS, which may use all threads here).
 * With a half-life the rows of X are the recency weights (recency.c), so G
 * is the weighted Gram matrix X'X with X_ui = 2^(-age_ui / half_life). */
#include "core/train/internal.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);

typedef struct gram_ctx {
  const mx_csr *R;
  float *G;
  uint32_t n;
  int weighted; /* X_ui = the stored value (recency weights, recency.c) instead of 1 */
} gram_ctx;

/* Thread t accumulates rows [lo, hi) of X'X: no two threads write a row. */
static int gram_rows(void *vctx, int t, int nthreads) {
  gram_ctx *c = vctx;
  const mx_csr *R = c->R;
  uint32_t lo = (uint32_t)((uint64_t)c->n * t / nthreads);
  uint32_t hi = (uint32_t)((uint64_t)c->n * (t + 1) / nthreads);
  for (uint32_t u = 0; u < R->rows; u++) {
    const uint32_t *a = R->indices + R->indptr[u];
    const float *w = R->values + R->indptr[u];
    uint64_t nu = R->indptr[u + 1] - R->indptr[u];
    for (uint64_t x = 0; x < nu; x++) {
      if (a[x] < lo || a[x] >= hi) continue;
      float *row = c->G + (size_t)a[x] * c->n;
      if (c->weighted)
        for (uint64_t y = 0; y < nu; y++) row[a[y]] += w[x] * w[y];
      else
        for (uint64_t y = 0; y < nu; y++) row[a[y]] += 1.0f;
    }
  }
  return 0;
}

int mx__ease_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  uint32_t n = m->n_items;
  float *G = m->ease_b; /* built in place: G, then P, then B */
  memset(G, 0, (size_t)n * n * sizeof(float));
  gram_ctx c = {&d->by_user, G, n, o->half_life_days > 0};
  mx__parallel_run(mx__threads_resolve(o->threads), gram_rows, &c);
  float reg = (float)o->reg > 0 ? (float)o->reg : 1e-3f;
  for (uint32_t i = 0; i < n; i++) G[(size_t)i * n + i] += reg;
  int nn = (int)n, info = 0;
  double started = mx__now_seconds();
  spotrf_("U", &nn, G, &nn, &info);
  if (info == 0) spotri_("U", &nn, G, &nn, &info);
  if (info != 0)
    return mx_error_set(err, MX_EINVAL, "EASE Gram matrix is not positive definite "
                        "(LAPACK info %d; try a larger --reg)", info);
  /* spotri filled the upper triangle (column-major) = lower (row-major):
   * P[i][j] valid for j <= i. Mirror, then scale column i by -1/P_ii. */
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < i; j++) G[(size_t)j * n + i] = G[(size_t)i * n + j];
  float *inv = malloc((n ? n : 1) * sizeof(float));
  if (!inv) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) inv[i] = -1.0f / G[(size_t)i * n + i];
  for (uint32_t j = 0; j < n; j++) {
    float *row = G + (size_t)j * n;
    for (uint32_t i = 0; i < n; i++) row[i] *= inv[i];
    row[j] = 0.0f;
  }
  free(inv);
  mx__train_report(o, m, 1, NAN, started, NULL);
  return MX_OK;
}
