/* Fold-in: a user vector from items, against a trained model's fixed item
 * side. Hyper-parameters come from the model (m->hyper, see train.c:
 * factors, epochs, reg, lr, alpha, reg_bias, lr_decay, cg_steps,
 * log_confidence, eps, seed, init_std). */
#include "core/train/internal.h"
#include "merx/score.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double hyper(const mx_model *m, int i, double def) { return i < m->n_hyper ? m->hyper[i] : def; }

/* (sum y~ y~' + reg n I) [x; b] = sum (r - mu - b_i) y~, y~ = (q_i, 1): the
 * als user step (als.c), also the exact minimiser of the mf objective for one
 * user under weighted-lambda regularisation. */
static int ridge(const mx_model *m, const uint32_t *items, const float *values, size_t n,
                 float *x, float *bias, mx_error *err) {
  uint32_t k = m->factors, k1 = k + 1;
  float *A = calloc((size_t)k1 * k1 + k1, sizeof(float));
  if (!A) return mx_error_set(err, MX_ENOMEM, "out of memory");
  float *b = A + (size_t)k1 * k1;
  float *yt = malloc(k1 * sizeof(float));
  if (!yt) {
    free(A);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t q = 0; q < n; q++) {
    memcpy(yt, m->item_factors + (size_t)items[q] * k, k * sizeof(float));
    yt[k] = 1.0f;
    float t = (values ? values[q] : 1.0f) - m->global_mean - (m->item_bias ? m->item_bias[items[q]] : 0.0f);
    cblas_ssyr(CblasColMajor, CblasUpper, (int)k1, 1.0f, yt, 1, A, (int)k1);
    for (uint32_t f = 0; f < k1; f++) b[f] += t * yt[f];
  }
  float lam = (float)(hyper(m, 2, 0.1) * (double)n);
  for (uint32_t f = 0; f < k1; f++) A[(size_t)f * k1 + f] += lam > 0 ? lam : 1e-6f;
  int info = mx__spd_solve(A, b, (int)k1);
  if (info == 0) {
    memcpy(x, b, k * sizeof(float));
    if (bias) *bias = b[k];
  }
  free(yt);
  free(A);
  return info == 0 ? MX_OK : mx_error_set(err, MX_EINVAL, "fold-in system is singular");
}

/* Hu et al. eq. 4 with Y'Y from the model's item factors. */
static int ials_exact(const mx_model *m, const float *gram, const uint32_t *items,
                      const float *values, size_t n, float *x, mx_error *err) {
  uint32_t k = m->factors;
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.reg = hyper(m, 2, o.reg);
  o.alpha = hyper(m, 4, o.alpha);
  o.log_confidence = (int)hyper(m, 8, 0);
  o.eps = hyper(m, 9, 1.0);
  float *A = malloc(((size_t)k * k + k) * sizeof(float));
  if (!A) return mx_error_set(err, MX_ENOMEM, "out of memory");
  float *b = A + (size_t)k * k;
  if (gram)
    memcpy(A, gram, (size_t)k * k * sizeof(float));
  else
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)k, (int)m->n_items, 1.0f,
                m->item_factors, (int)k, 0.0f, A, (int)k);
  for (uint32_t f = 0; f < k; f++) A[(size_t)f * k + f] += (float)o.reg;
  memset(b, 0, k * sizeof(float));
  for (size_t q = 0; q < n; q++) {
    const float *y = m->item_factors + (size_t)items[q] * k;
    float c = mx_ials_confidence(&o, values ? values[q] : 1.0f);
    cblas_ssyr(CblasColMajor, CblasUpper, (int)k, c - 1.0f, y, 1, A, (int)k);
    for (uint32_t f = 0; f < k; f++) b[f] += c * y[f];
  }
  int info = mx__spd_solve(A, b, (int)k);
  if (info == 0) memcpy(x, b, k * sizeof(float));
  free(A);
  return info == 0 ? MX_OK : mx_error_set(err, MX_EINVAL, "fold-in system is singular");
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* BPR on the user vector alone: 20 passes over the user's items, one
 * uniform negative each, learning rate and L2 from the model. */
static int bpr_steps(const mx_model *m, const uint32_t *items, size_t n, float *x, mx_error *err) {
  uint32_t k = m->factors, ni = m->n_items;
  uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
  if (!pos) return mx_error_set(err, MX_ENOMEM, "out of memory");
  memcpy(pos, items, n * sizeof *pos);
  qsort(pos, n, sizeof *pos, cmp_u32);
  mx_rng g;
  mx__rng_seed(&g, (uint64_t)hyper(m, 10, 42) ^ 0xf01dULL);
  float lr = (float)hyper(m, 3, 0.05), reg = (float)hyper(m, 2, 0.01);
  memset(x, 0, k * sizeof(float));
  for (int e = 0; e < 20 && n < ni; e++) {
    for (size_t q = 0; q < n; q++) {
      uint32_t i = items[q], j;
      do j = mx__rng_below(&g, ni);
      while (bsearch(&j, pos, n, sizeof *pos, cmp_u32));
      const float *qi = m->item_factors + (size_t)i * k, *qj = m->item_factors + (size_t)j * k;
      float xij = (m->item_bias ? m->item_bias[i] - m->item_bias[j] : 0.0f) + mx_dotf(x, qi, k) -
                  mx_dotf(x, qj, k);
      float z = 1.0f / (1.0f + expf(xij));
      for (uint32_t f = 0; f < k; f++) x[f] += lr * (z * (qi[f] - qj[f]) - reg * x[f]);
    }
  }
  free(pos);
  return MX_OK;
}

int mx_model_item_gram(const mx_model *m, float **out, mx_error *err) {
  *out = NULL;
  if (!m->factors || !m->item_factors)
    return mx_error_set(err, MX_EINVAL, "a %s model has no item factors", mx_model_kind_name(m->kind));
  uint32_t k = m->factors;
  float *g = malloc((size_t)k * k * sizeof *g);
  if (!g) return mx_error_set(err, MX_ENOMEM, "out of memory");
  cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)k, (int)m->n_items, 1.0f,
              m->item_factors, (int)k, 0.0f, g, (int)k);
  *out = g;
  return MX_OK;
}

static int fold_in(const mx_model *m, const float *gram, const uint32_t *items,
                   const float *values, size_t n, float *x, float *bias, mx_error *err);

int mx_model_fold_in(const mx_model *m, const uint32_t *items, const float *values, size_t n,
                     float *x, float *bias, mx_error *err) {
  return fold_in(m, NULL, items, values, n, x, bias, err);
}

static int fold_in(const mx_model *m, const float *gram, const uint32_t *items,
                   const float *values, size_t n, float *x, float *bias, mx_error *err) {
  if (bias) *bias = 0.0f;
  if (m->kind == MX_MODEL_EASE || m->kind == MX_MODEL_BPMF || !m->factors || !m->item_factors)
    return mx_error_set(err, MX_EINVAL, "fold-in needs a factor model (mf, als, ials, bpr, "
                        "imported); a %s model has no user vectors to fold in",
                        mx_model_kind_name(m->kind));
  for (size_t q = 0; q < n; q++)
    if (items[q] >= m->n_items)
      return mx_error_set(err, MX_EINVAL, "fold-in item index %u out of range", items[q]);
  if (n == 0) {
    memset(x, 0, m->factors * sizeof(float));
    return MX_OK;
  }
  switch (m->kind) {
  case MX_MODEL_MF:
  case MX_MODEL_ALS:
    return ridge(m, items, values, n, x, bias, err);
  case MX_MODEL_BPR:
    return bpr_steps(m, items, n, x, err);
  default:
    return ials_exact(m, gram, items, values, n, x, err);
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* A history as one CSR row: sorted by item, repeated items summed. */
static int history_row(const uint32_t *items, const float *values, size_t n, uint32_t **idx,
                       float **val, size_t *len, mx_error *err) {
  *idx = malloc((n ? n : 1) * sizeof **idx);
  *val = malloc((n ? n : 1) * sizeof **val);
  if (!*idx || !*val) {
    free(*idx), free(*val);
    *idx = NULL, *val = NULL;
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  uint64_t *key = malloc((n ? n : 1) * sizeof *key);
  if (!key) {
    free(*idx), free(*val);
    *idx = NULL, *val = NULL;
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  /* sort (item, position) pairs: stable and O(n log n) for long histories */
  for (size_t q = 0; q < n; q++) key[q] = (uint64_t)items[q] << 32 | (uint64_t)q;
  qsort(key, n, sizeof *key, cmp_u64);
  size_t u = 0;
  for (size_t q = 0; q < n; q++) {
    uint32_t it = (uint32_t)(key[q] >> 32);
    float v = values ? values[key[q] & 0xffffffffu] : 1.0f;
    if (u > 0 && (*idx)[u - 1] == it) {
      (*val)[u - 1] += v;
      continue;
    }
    (*idx)[u] = it;
    (*val)[u++] = v;
  }
  free(key);
  *len = u;
  return MX_OK;
}

int mx_topk_history(const mx_model *m, const uint32_t *items, const float *values, size_t n,
                    const float *gram, const mx_topk_options *opt, mx_topk_result **out,
                    mx_error *err) {
  *out = NULL;
  for (size_t q = 0; q < n; q++)
    if (items[q] >= m->n_items)
      return mx_error_set(err, MX_EINVAL, "history item index %u out of range", items[q]);
  uint32_t *idx = NULL;
  float *val = NULL;
  size_t len = 0;
  int rc = history_row(items, values, n, &idx, &val, &len, err);
  if (rc) return rc;
  uint64_t indptr[2] = {0, len};
  mx_csr row = {1, len, indptr, idx, val, NULL};
  if (m->kind == MX_MODEL_EASE) {
    rc = mx_topk_vectors(m, NULL, NULL, &row, 1, opt, out, err);
  } else {
    float *x = malloc((m->factors ? m->factors : 1) * sizeof *x), bias = 0.0f;
    if (!x) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else rc = fold_in(m, gram, idx, val, len, x, &bias, err);
    if (rc == MX_OK) rc = mx_topk_vectors(m, x, m->user_bias ? &bias : NULL, &row, 1, opt, out, err);
    free(x);
  }
  free(idx);
  free(val);
  return rc;
}
