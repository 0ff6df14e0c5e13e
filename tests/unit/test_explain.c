/* Explanations add up: for a user vector that is the exact ALS / iALS
 * solution (solved here independently by Gaussian elimination), the
 * contributions of the user's items sum to the score (Hu et al. 2008 §5);
 * for EASE they are the B[j, i] terms; other models rank history items by
 * cosine similarity. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/score.h"
#include "util/util.h"

enum { NU = 6, NI = 40, K = 5 };

/* Solve A x = b (n x n, row-major, destroyed) by Gaussian elimination with
 * partial pivoting. */
static void gauss(double *A, double *b, int n) {
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
    for (int j = 0; j < n; j++) {
      double t = A[c * n + j];
      A[c * n + j] = A[piv * n + j];
      A[piv * n + j] = t;
    }
    double t = b[c];
    b[c] = b[piv];
    b[piv] = t;
    for (int r = c + 1; r < n; r++) {
      double f = A[r * n + c] / A[c * n + c];
      for (int j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  for (int r = n - 1; r >= 0; r--) {
    double s = b[r];
    for (int j = r + 1; j < n; j++) s -= A[r * n + j] * b[j];
    b[r] = s / A[r * n + r];
  }
}

static mx_model *make_model(mx_model_kind kind, int bias, uint64_t seed) {
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_create(kind, NU, NI, kind == MX_MODEL_EASE ? 0 : K, bias, &m, &err),
                   MX_OK);
  mx_rng r;
  mx__rng_seed(&r, seed);
  if (kind == MX_MODEL_EASE) {
    for (int x = 0; x < NI * NI; x++) m->ease_b[x] = (float)(0.3 * mx__rng_normal(&r));
  } else {
    for (int x = 0; x < NI * K; x++) m->item_factors[x] = (float)(0.5 * mx__rng_normal(&r));
    for (int x = 0; x < NU * K; x++) m->user_factors[x] = (float)(0.5 * mx__rng_normal(&r));
  }
  if (bias) {
    m->global_mean = 3.0f;
    for (int i = 0; i < NI; i++) m->item_bias[i] = (float)(0.4 * mx__rng_normal(&r));
  }
  m->seen.indices = malloc(NU * NI * sizeof *m->seen.indices);
  m->seen.values = malloc(NU * NI * sizeof *m->seen.values);
  uint64_t nnz = 0;
  for (int u = 0; u < NU; u++) {
    m->seen.indptr[u] = nnz;
    for (int i = 0; i < NI; i++)
      if (mx__rng_uniform(&r) < 0.25 || i == u) {
        m->seen.indices[nnz] = (uint32_t)i;
        m->seen.values[nnz++] = 1.0f + (float)mx__rng_below(&r, 5);
      }
  }
  m->seen.indptr[NU] = nnz;
  m->seen.nnz = nnz;
  /* hyper as train.c writes it: factors, epochs, reg, lr, alpha, reg_bias,
   * lr_decay, cg_steps, log_confidence, eps, seed, init_std */
  double hy[12] = {K, 10, 0.3, 0, 2.0, 0, 0, 0, 0, 1, 1, 0.1};
  memcpy(m->hyper, hy, sizeof hy);
  m->n_hyper = 12;
  return m;
}

/* Set each user's vector to the exact solution of its normal equations. */
static void solve_users(mx_model *m) {
  int als = m->kind == MX_MODEL_ALS, d = K + als;
  double reg = m->hyper[2], alpha = m->hyper[4];
  for (int u = 0; u < NU; u++) {
    double A[(K + 1) * (K + 1)] = {0}, b[K + 1] = {0};
    uint64_t a0 = m->seen.indptr[u], a1 = m->seen.indptr[u + 1];
    for (int i = 0; i < NI; i++) {
      double y[K + 1];
      for (int f = 0; f < K; f++) y[f] = m->item_factors[i * K + f];
      y[K] = 1;
      double c = 1, p = 0, in = 0;
      for (uint64_t s = a0; s < a1; s++)
        if (m->seen.indices[s] == (uint32_t)i) {
          in = 1;
          c = 1 + alpha * m->seen.values[s];
          p = als ? m->seen.values[s] - m->global_mean - m->item_bias[i] : 1;
        }
      if (als && !in) continue; /* explicit: only rated items */
      if (als) c = 1;
      for (int f = 0; f < d; f++) {
        b[f] += c * p * y[f];
        for (int g = 0; g < d; g++) A[f * d + g] += c * y[f] * y[g];
      }
    }
    double lam = als ? reg * (double)(a1 - a0) : reg;
    for (int f = 0; f < d; f++) A[f * d + f] += lam;
    gauss(A, b, d);
    for (int f = 0; f < K; f++) m->user_factors[u * K + f] = (float)b[f];
    if (als) m->user_bias[u] = (float)b[K];
  }
}

static void check_sums(mx_model *m) {
  mx_error err;
  uint32_t users[NU * 3], items[NU * 3];
  for (int p = 0; p < NU * 3; p++) {
    users[p] = (uint32_t)(p / 3);
    items[p] = (uint32_t)(7 * p + 3) % NI;
  }
  uint32_t top = NI, ids[NU * 3 * NI], cnt[NU * 3];
  float w[NU * 3 * NI], score[NU * 3];
  assert_int_equal(mx_explain(m, users, items, NU * 3, top, ids, w, cnt, &err), MX_OK);
  assert_int_equal(mx_score_pairs(m, users, items, NU * 3, score, &err), MX_OK);
  for (int p = 0; p < NU * 3; p++) {
    uint32_t u = users[p];
    assert_int_equal(cnt[p], m->seen.indptr[u + 1] - m->seen.indptr[u]);
    double sum = 0;
    for (uint32_t x = 0; x < cnt[p]; x++) {
      sum += w[p * top + x];
      if (x) assert_true(w[p * top + x - 1] >= w[p * top + x]);
    }
    double want = score[p];
    if (m->kind == MX_MODEL_ALS) want -= m->global_mean + m->item_bias[items[p]];
    if (fabs(sum - want) > 1e-3 * (1 + fabs(want)))
      fail_msg("pair %d: contributions sum to %g, score part is %g", p, sum, want);
  }
}

static void test_ials_contributions_sum_to_score(void **state) {
  mx_model *m = make_model(MX_MODEL_IALS, 0, 1);
  solve_users(m);
  check_sums(m);
  /* a user vector that is not the solution does not add up: the test bites */
  m->user_factors[0] += 1.0f;
  mx_error err;
  uint32_t u = 0, i = 5, ids[NI], cnt;
  float w[NI], s;
  assert_int_equal(mx_explain(m, &u, &i, 1, NI, ids, w, &cnt, &err), MX_OK);
  assert_int_equal(mx_score_pairs(m, &u, &i, 1, &s, &err), MX_OK);
  double sum = 0;
  for (uint32_t x = 0; x < cnt; x++) sum += w[x];
  assert_true(fabs(sum - s) > 1e-3);
  mx_model_free(m);
}

static void test_als_contributions_sum_to_score(void **state) {
  mx_model *m = make_model(MX_MODEL_ALS, 1, 2);
  solve_users(m);
  check_sums(m);
  mx_model_free(m);
}

static void test_ease_contributions(void **state) {
  mx_model *m = make_model(MX_MODEL_EASE, 0, 3);
  check_sums(m);
  mx_model_free(m);
}

static void test_cosine_for_other_models(void **state) {
  mx_model *m = make_model(MX_MODEL_BPR, 0, 4);
  mx_error err;
  uint32_t u = 2, i = 11, ids[3], cnt;
  float w[3];
  assert_int_equal(mx_explain(m, &u, &i, 1, 3, ids, w, &cnt, &err), MX_OK);
  assert_int_equal(cnt, 3);
  /* the best is the history item with the largest cosine to item 11 */
  double best = -2;
  uint32_t best_id = 0;
  for (uint64_t s = m->seen.indptr[u]; s < m->seen.indptr[u + 1]; s++) {
    uint32_t j = m->seen.indices[s];
    double d = 0, a = 0, b = 0;
    for (int f = 0; f < K; f++) {
      d += (double)m->item_factors[i * K + f] * m->item_factors[j * K + f];
      a += (double)m->item_factors[i * K + f] * m->item_factors[i * K + f];
      b += (double)m->item_factors[j * K + f] * m->item_factors[j * K + f];
    }
    if (d / sqrt(a * b) > best) {
      best = d / sqrt(a * b);
      best_id = j;
    }
  }
  assert_int_equal(ids[0], best_id);
  assert_true(fabs(w[0] - best) < 1e-5);
  uint32_t bad = NU;
  assert_int_equal(mx_explain(m, &bad, &i, 1, 3, ids, w, &cnt, &err), MX_EINVAL);
  mx_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ials_contributions_sum_to_score),
      cmocka_unit_test(test_als_contributions_sum_to_score),
      cmocka_unit_test(test_ease_contributions),
      cmocka_unit_test(test_cosine_for_other_models),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
