/* Implicit ALS (Hu, Koren, Volinsky 2008, "Collaborative filtering for
 * implicit feedback datasets"): preference p_ui = 1 for observed pairs, 0
 * otherwise, confidence c_ui = 1 + alpha r_ui (or 1 + alpha log(1 + r/eps)),
 *   min sum_{u,i} c_ui (p_ui - x_u.y_i)^2 + reg (sum |x_u|^2 + sum |y_i|^2).
 * The user step solves (Y'Y + Y'(C_u - I)Y + reg I) x_u = Y' C_u p_u (eq. 4).
 * Y'Y + reg I is computed once per half-sweep with ssyrk; the solve is a few
 * conjugate-gradient steps warm-started from the current x_u (Takacs, Pilaszy,
 * Tikk 2011, "Applications of the conjugate gradient method for implicit
 * feedback collaborative filtering"), so a sweep costs O(nnz k + n k^2)
 * instead of O(nnz k^2 + n k^3). cg_steps = 0 solves exactly (Cholesky). */
#include "core/train_internal.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ihalf {
  const mx_train_options *o;
  const mx_csr *R;
  float *X;
  const float *Y;
  const float *G; /* k x k, full symmetric: Y'Y + reg I */
  uint32_t k;
  int failed;
} ihalf;

static void gram(const float *Y, uint32_t n, uint32_t k, float reg, float *G) {
  /* Row-major Y (n x k) is, column-major, the k x n matrix Y'. */
  cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)k, (int)n, 1.0f, Y, (int)k, 0.0f, G,
              (int)k);
  for (uint32_t a = 0; a < k; a++) {
    G[(size_t)a * k + a] += reg;
    for (uint32_t b = a + 1; b < k; b++) G[(size_t)a * k + b] = G[(size_t)b * k + a];
  }
}

/* out = A v with A = G + sum_i (c_i - 1) y_i y_i' over the row's items. */
static void apply_a(const ihalf *h, uint64_t s, uint64_t n, const float *v, float *out) {
  uint32_t k = h->k;
  for (uint32_t f = 0; f < k; f++) out[f] = mx_dotf(h->G + (size_t)f * k, v, k);
  for (uint64_t q = 0; q < n; q++) {
    const float *y = h->Y + (size_t)h->R->indices[s + q] * k;
    float c = mx_ials_confidence(h->o, h->R->values[s + q]);
    float w = (c - 1.0f) * mx_dotf(y, v, k);
    for (uint32_t f = 0; f < k; f++) out[f] += w * y[f];
  }
}

static void solve_cg(const ihalf *h, uint32_t row, float *r, float *p, float *ap) {
  uint32_t k = h->k;
  const mx_csr *R = h->R;
  uint64_t s = R->indptr[row], n = R->indptr[row + 1] - s;
  float *x = h->X + (size_t)row * k;
  /* r = b - A x, b = sum c_i y_i */
  apply_a(h, s, n, x, ap);
  for (uint32_t f = 0; f < k; f++) r[f] = -ap[f];
  for (uint64_t q = 0; q < n; q++) {
    const float *y = h->Y + (size_t)R->indices[s + q] * k;
    float c = mx_ials_confidence(h->o, R->values[s + q]);
    for (uint32_t f = 0; f < k; f++) r[f] += c * y[f];
  }
  memcpy(p, r, k * sizeof(float));
  float rs = mx_dotf(r, r, k);
  for (int it = 0; it < h->o->cg_steps && rs > 1e-20f; it++) {
    apply_a(h, s, n, p, ap);
    float pap = mx_dotf(p, ap, k);
    if (!(pap > 0)) break;
    float a = rs / pap;
    for (uint32_t f = 0; f < k; f++) {
      x[f] += a * p[f];
      r[f] -= a * ap[f];
    }
    float rn = mx_dotf(r, r, k);
    float beta = rn / rs;
    for (uint32_t f = 0; f < k; f++) p[f] = r[f] + beta * p[f];
    rs = rn;
  }
}

static int solve_exact(const ihalf *h, uint32_t row, float *A, float *b) {
  uint32_t k = h->k;
  const mx_csr *R = h->R;
  memcpy(A, h->G, (size_t)k * k * sizeof(float));
  memset(b, 0, k * sizeof(float));
  for (uint64_t q = R->indptr[row]; q < R->indptr[row + 1]; q++) {
    const float *y = h->Y + (size_t)R->indices[q] * k;
    float c = mx_ials_confidence(h->o, R->values[q]);
    cblas_ssyr(CblasColMajor, CblasUpper, (int)k, c - 1.0f, y, 1, A, (int)k);
    for (uint32_t f = 0; f < k; f++) b[f] += c * y[f];
  }
  if (mx_spd_solve(A, b, (int)k) != 0) return -1;
  memcpy(h->X + (size_t)row * k, b, k * sizeof(float));
  return 0;
}

static int ihalf_run(void *vctx, int t, int nthreads) {
  ihalf *h = vctx;
  uint32_t k = h->k, rows = h->R->rows;
  uint32_t lo = (uint32_t)((uint64_t)rows * t / nthreads);
  uint32_t hi = (uint32_t)((uint64_t)rows * (t + 1) / nthreads);
  float *A = malloc(((size_t)k * k + 3 * (size_t)k) * sizeof(float));
  if (!A) {
    h->failed = MX_ENOMEM;
    return 0;
  }
  float *r = A + (size_t)k * k, *p = r + k, *ap = p + k;
  for (uint32_t row = lo; row < hi; row++) {
    if (h->R->indptr[row + 1] == h->R->indptr[row]) {
      /* No interactions: the minimiser is 0 (all preferences 0). */
      memset(h->X + (size_t)row * k, 0, k * sizeof(float));
      continue;
    }
    if (h->o->cg_steps > 0)
      solve_cg(h, row, r, p, ap);
    else if (solve_exact(h, row, A, r) != 0)
      h->failed = MX_EINVAL;
  }
  free(A);
  return 0;
}

/* Objective of Hu et al. eq. 3, in O(nnz k + n k^2): for each user
 * x'(Y'Y)x + sum over observed i of (c - 2 c s + (c - 1) s^2), s = x.y_i. */
double mx_ials_loss(const mx_dataset *d, const mx_train_options *o, const mx_model *m) {
  uint32_t k = m->factors;
  float *G = malloc((size_t)k * k * sizeof(float));
  float *tmp = malloc(k * sizeof(float));
  if (!G || !tmp) {
    free(G);
    free(tmp);
    return NAN;
  }
  gram(m->item_factors, m->n_items, k, 0.0f, G);
  const mx_csr *R = &d->by_user;
  double loss = 0, pen = 0;
  for (uint32_t u = 0; u < R->rows; u++) {
    const float *x = m->user_factors + (size_t)u * k;
    for (uint32_t f = 0; f < k; f++) tmp[f] = mx_dotf(G + (size_t)f * k, x, k);
    loss += mx_dotf(x, tmp, k);
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) {
      double c = mx_ials_confidence(o, R->values[q]);
      double s = mx_dotf(x, m->item_factors + (size_t)R->indices[q] * k, k);
      loss += c - 2 * c * s + (c - 1) * s * s;
    }
  }
  for (size_t q = 0; q < (size_t)m->n_users * k; q++) pen += (double)m->user_factors[q] * m->user_factors[q];
  for (size_t q = 0; q < (size_t)m->n_items * k; q++) pen += (double)m->item_factors[q] * m->item_factors[q];
  free(G);
  free(tmp);
  return loss + o->reg * pen;
}

int mx_ials_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  uint32_t k = m->factors;
  int T = mx_threads_resolve(o->threads);
  float *G = malloc((size_t)k * k * sizeof(float));
  if (!G) return mx_error_set(err, MX_ENOMEM, "out of memory");
  double started = mx_now_seconds();
  int rc = MX_OK;
  for (int e = 1; e <= o->epochs; e++) {
    /* Items first, users last (see als.c): fold-in reproduces user rows. */
    gram(m->user_factors, m->n_users, k, (float)o->reg, G);
    ihalf hi = {o, &d->by_item, m->item_factors, m->user_factors, G, k, 0};
    mx_parallel_run(T, ihalf_run, &hi);
    gram(m->item_factors, m->n_items, k, (float)o->reg, G);
    ihalf hu = {o, &d->by_user, m->user_factors, m->item_factors, G, k, 0};
    mx_parallel_run(T, ihalf_run, &hu);
    if (hu.failed == MX_ENOMEM || hi.failed == MX_ENOMEM) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    if (hu.failed || hi.failed) {
      rc = mx_error_set(err, MX_EINVAL, "iALS system not positive definite (try a larger --reg)");
      break;
    }
    double loss = o->on_epoch ? mx_ials_loss(d, o, m) : NAN;
    if (mx_train_report(o, m, e, loss, started, NULL)) break;
  }
  free(G);
  return rc;
}
