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
#include "core/train/internal.h"
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

/* Per-thread workspace: the row's item vectors gathered contiguously, so the
 * CG steps read them from cache (one pass over memory per row instead of
 * one per step) and run as two sgemv calls. */
typedef struct work {
  float *Yu;    /* n x k */
  float *cm1;   /* c_i - 1 */
  float *c;     /* c_i */
  float *t;     /* n */
  uint64_t cap;
} work;

static int work_fit(work *w, uint64_t n, uint32_t k) {
  if (n <= w->cap) return 0;
  uint64_t cap = n < 64 ? 64 : n;
  float *Yu = mx_alloc_aligned(cap * k * sizeof(float), 0);
  float *v = malloc(3 * cap * sizeof(float));
  if (!Yu || !v) {
    mx_free_aligned(Yu);
    free(v);
    return -1;
  }
  mx_free_aligned(w->Yu);
  free(w->cm1);
  w->Yu = Yu;
  w->cm1 = v;
  w->c = v + cap;
  w->t = v + 2 * cap;
  w->cap = cap;
  return 0;
}

/* out = A v with A = G + Yu' diag(c - 1) Yu. */
static void apply_a(const ihalf *h, const work *w, uint64_t n, const float *v, float *out) {
  uint32_t k = h->k;
  /* OpenBLAS picks its AVX2/AVX-512 kernel at run time; a hand loop here
   * would be compiled for baseline x86-64. */
  cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)k, 1.0f, h->G, (int)k, v, 1, 0.0f, out, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, w->Yu, (int)k, v, 1, 0.0f, w->t, 1);
  for (uint64_t q = 0; q < n; q++) w->t[q] *= w->cm1[q];
  cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)k, 1.0f, w->Yu, (int)k, w->t, 1, 1.0f, out, 1);
}

static void solve_cg(const ihalf *h, work *w, uint32_t row, float *r, float *p, float *ap) {
  uint32_t k = h->k;
  const mx_csr *R = h->R;
  uint64_t s = R->indptr[row], n = R->indptr[row + 1] - s;
  float *x = h->X + (size_t)row * k;
  for (uint64_t q = 0; q < n; q++) {
    memcpy(w->Yu + q * k, h->Y + (size_t)R->indices[s + q] * k, k * sizeof(float));
    w->c[q] = mx_ials_confidence(h->o, R->values[s + q]);
    w->cm1[q] = w->c[q] - 1.0f;
  }
  /* r = b - A x, b = Yu' c */
  apply_a(h, w, n, x, ap);
  cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)k, 1.0f, w->Yu, (int)k, w->c, 1, 0.0f, r, 1);
  for (uint32_t f = 0; f < k; f++) r[f] -= ap[f];
  memcpy(p, r, k * sizeof(float));
  float rs = mx_dotf(r, r, k);
  for (int it = 0; it < h->o->cg_steps && rs > 1e-20f; it++) {
    apply_a(h, w, n, p, ap);
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
  if (mx__spd_solve(A, b, (int)k) != 0) return -1;
  memcpy(h->X + (size_t)row * k, b, k * sizeof(float));
  return 0;
}

MX_HOT static int ihalf_run(void *vctx, int t, int nthreads) {
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
  work w = {0};
  for (uint32_t row = lo; row < hi; row++) {
    if (h->R->indptr[row + 1] == h->R->indptr[row]) {
      /* No interactions: the minimiser is 0 (all preferences 0). */
      memset(h->X + (size_t)row * k, 0, k * sizeof(float));
      continue;
    }
    if (h->o->cg_steps > 0) {
      if (work_fit(&w, h->R->indptr[row + 1] - h->R->indptr[row], k)) {
        h->failed = MX_ENOMEM;
        break;
      }
      solve_cg(h, &w, row, r, p, ap);
    }
    else if (solve_exact(h, row, A, r) != 0)
      h->failed = MX_EINVAL;
  }
  mx_free_aligned(w.Yu);
  free(w.cm1);
  free(A);
  return 0;
}

/* Objective of Hu et al. eq. 3, in O(nnz k + n k^2): for each user
 * x'(Y'Y)x + sum over observed i of (c - 2 c s + (c - 1) s^2), s = x.y_i. */
double mx__ials_loss(const mx_dataset *d, const mx_train_options *o, const mx_model *m) {
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

int mx__ials_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  uint32_t k = m->factors;
  int T = mx__threads_resolve(o->threads);
  float *G = malloc((size_t)k * k * sizeof(float));
  if (!G) return mx_error_set(err, MX_ENOMEM, "out of memory");
  double started = mx__now_seconds();
  int rc = MX_OK;
  for (int e = 1; e <= o->epochs; e++) {
    /* Items first, users last (see als.c): fold-in reproduces user rows. */
    gram(m->user_factors, m->n_users, k, (float)o->reg, G);
    ihalf hi = {o, &d->by_item, m->item_factors, m->user_factors, G, k, 0};
    mx__parallel_run(T, ihalf_run, &hi);
    gram(m->item_factors, m->n_items, k, (float)o->reg, G);
    ihalf hu = {o, &d->by_user, m->user_factors, m->item_factors, G, k, 0};
    mx__parallel_run(T, ihalf_run, &hu);
    if (hu.failed == MX_ENOMEM || hi.failed == MX_ENOMEM) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    if (hu.failed || hi.failed) {
      rc = mx_error_set(err, MX_EINVAL, "iALS system not positive definite (try a larger --reg)");
      break;
    }
    double loss = o->on_epoch && o->report_loss ? mx__ials_loss(d, o, m) : NAN;
    if (mx__train_report(o, m, e, loss, started, NULL)) break;
  }
  free(G);
  return rc;
}
