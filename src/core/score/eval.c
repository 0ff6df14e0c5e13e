/* Evaluation of a model on held-out interactions.
 *
 * Explicit models: RMSE and MAE over every test row. Implicit models: for
 * each user with test items, score all items (one sgemm per block of users),
 * drop the user's training items, and measure the top k against the test
 * items: precision, recall (hits / test items), NDCG (binary gains, ideal
 * DCG over min(k, test items)), MAP@k (average precision normalised by
 * min(k, test items)), hit rate, and AUC (probability that a test item
 * outranks an item the user never interacted with). */
#include "merx/model.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define USER_BLOCK 64

int mx_model_score_users(const mx_model *m, const uint32_t *users, size_t n, float *out) {
  uint32_t ni = m->n_items, k = m->factors;
  if (m->kind == MX_MODEL_EASE) {
    memset(out, 0, n * ni * sizeof(float));
    for (size_t a = 0; a < n; a++) {
      float *row = out + a * ni;
      uint32_t u = users[a];
      for (uint64_t q = m->seen.indptr[u]; q < m->seen.indptr[u + 1]; q++)
        cblas_saxpy((int)ni, 1.0f, m->ease_b + (size_t)m->seen.indices[q] * ni, 1, row, 1);
    }
    return MX_OK;
  }
  if (n == 0) return MX_OK;
  float *P = mx_alloc_aligned(n * k * sizeof(float) + 64, 0);
  if (!P) return MX_ENOMEM;
  for (size_t a = 0; a < n; a++)
    memcpy(P + a * k, m->user_factors + (size_t)users[a] * k, k * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)ni, (int)k, 1.0f, P, (int)k,
              m->item_factors, (int)k, 0.0f, out, (int)ni);
  mx_free_aligned(P);
  for (size_t a = 0; a < n; a++) {
    float *row = out + a * ni;
    float base = m->global_mean + (m->user_bias ? m->user_bias[users[a]] : 0.0f);
    if (m->item_bias)
      for (uint32_t i = 0; i < ni; i++) row[i] += base + m->item_bias[i];
    else if (base != 0.0f)
      for (uint32_t i = 0; i < ni; i++) row[i] += base;
  }
  return MX_OK;
}

typedef struct rank_ctx {
  const mx_model *m;
  const uint64_t *tptr; /* test CSR by user */
  const uint32_t *tidx;
  const uint32_t *eval_users; /* users with test items */
  size_t n_eval;
  int k;
  double sum[6]; /* per thread, filled into acc */
  double (*acc)[6];
  int failed;
} rank_ctx;

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int contains(const uint32_t *a, uint64_t n, uint32_t v) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && a[lo] == v;
}

static int rank_run(void *vctx, int t, int nthreads) {
  rank_ctx *c = vctx;
  const mx_model *m = c->m;
  uint32_t ni = m->n_items;
  int K = c->k;
  size_t lo = c->n_eval * (size_t)t / (size_t)nthreads, hi = c->n_eval * (size_t)(t + 1) / (size_t)nthreads;
  float *S = malloc((size_t)USER_BLOCK * ni * sizeof(float));
  uint32_t *top = malloc((size_t)K * sizeof(uint32_t));
  float *tops = malloc((size_t)K * sizeof(float));
  double *acc = c->acc[t];
  memset(acc, 0, 6 * sizeof(double));
  if (!S || !top || !tops) {
    c->failed = 1;
    free(S); free(top); free(tops);
    return 0;
  }
  for (size_t b0 = lo; b0 < hi; b0 += USER_BLOCK) {
    size_t nb = hi - b0 < USER_BLOCK ? hi - b0 : USER_BLOCK;
    if (mx_model_score_users(m, c->eval_users + b0, nb, S) != MX_OK) {
      c->failed = 1;
      break;
    }
    for (size_t a = 0; a < nb; a++) {
      uint32_t u = c->eval_users[b0 + a];
      float *s = S + a * ni;
      const uint32_t *seen = m->seen.indices + m->seen.indptr[u];
      uint64_t nseen = m->seen.indptr[u + 1] - m->seen.indptr[u];
      for (uint64_t q = 0; q < nseen; q++) s[seen[q]] = -INFINITY;
      const uint32_t *T = c->tidx + c->tptr[b0 + a];
      uint64_t nt = c->tptr[b0 + a + 1] - c->tptr[b0 + a];
      /* top K by insertion into a sorted list (K is small); ties by index */
      int filled = 0;
      for (uint32_t i = 0; i < ni; i++) {
        float v = s[i];
        if (v == -INFINITY) continue;
        if (filled == K && !(v > tops[K - 1])) continue;
        int p = filled < K ? filled++ : K - 1;
        while (p > 0 && v > tops[p - 1]) {
          tops[p] = tops[p - 1];
          top[p] = top[p - 1];
          p--;
        }
        tops[p] = v;
        top[p] = i;
      }
      double hits = 0, dcg = 0, idcg = 0, ap = 0;
      for (int r = 0; r < filled; r++)
        if (contains(T, nt, top[r])) {
          hits++;
          dcg += 1.0 / log2(r + 2.0);
          ap += hits / (r + 1.0);
        }
      uint64_t ideal = nt < (uint64_t)K ? nt : (uint64_t)K;
      for (uint64_t r = 0; r < ideal; r++) idcg += 1.0 / log2((double)r + 2.0);
      acc[0] += hits / K;
      acc[1] += hits / (double)nt;
      acc[2] += dcg / idcg;
      acc[3] += ap / (double)ideal;
      acc[4] += hits > 0;
      /* AUC: negatives = not seen, not test. Count, for each test item,
       * negatives scored strictly above it (ties count half). */
      uint64_t nneg = ni - nseen - nt;
      if (nneg > 0) {
        double above = 0;
        for (uint64_t q = 0; q < nt; q++) {
          float v = s[T[q]];
          uint64_t gt = 0, eq = 0;
          for (uint32_t i = 0; i < ni; i++) {
            gt += s[i] > v;
            eq += s[i] == v;
          }
          /* remove positives themselves from the counts */
          for (uint64_t q2 = 0; q2 < nt; q2++) {
            float w = s[T[q2]];
            gt -= w > v;
            eq -= w == v;
          }
          above += (double)gt + 0.5 * (double)eq;
        }
        acc[5] += 1.0 - above / ((double)nt * (double)nneg);
      } else {
        acc[5] += 1.0;
      }
    }
  }
  free(S); free(top); free(tops);
  return 0;
}

int mx_model_evaluate(const mx_model *m, const mx_pairs *test, int k, int threads,
                      mx_eval_result *out, mx_error *err) {
  memset(out, 0, sizeof *out);
  out->implicit = m->implicit;
  out->k = k;
  out->unknown = test->unknown;
  if (!m->implicit) {
    mx_model_rmse(m, test, &out->rmse, &out->mae);
    out->n = test->n;
    if (test->n == 0) return mx_error_set(err, MX_EEMPTY, "the test data has no rows");
    return MX_OK;
  }
  if (k < 1) return mx_error_set(err, MX_EINVAL, "--k must be at least 1");
  /* Test CSR by user: count, fill, sort, dedupe, drop training items. */
  uint32_t nu = m->n_users;
  uint64_t *cnt = calloc((size_t)nu + 1, sizeof *cnt);
  uint32_t *idx = malloc((test->n ? test->n : 1) * sizeof *idx);
  if (!cnt || !idx) {
    free(cnt); free(idx);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t q = 0; q < test->n; q++)
    if (test->user[q] < nu && test->item[q] < m->n_items) cnt[test->user[q] + 1]++;
  for (uint32_t u = 0; u < nu; u++) cnt[u + 1] += cnt[u];
  uint64_t *fill = malloc(((size_t)nu + 1) * sizeof *fill);
  if (!fill) {
    free(cnt); free(idx);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  memcpy(fill, cnt, ((size_t)nu + 1) * sizeof *fill);
  for (size_t q = 0; q < test->n; q++)
    if (test->user[q] < nu && test->item[q] < m->n_items) idx[fill[test->user[q]]++] = test->item[q];
  /* compact per user into eval lists */
  uint32_t *eval_users = malloc((nu ? nu : 1) * sizeof *eval_users);
  uint64_t *tptr = malloc(((size_t)nu + 1) * sizeof *tptr);
  if (!eval_users || !tptr) {
    free(cnt); free(idx); free(fill); free(eval_users); free(tptr);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  size_t ne = 0;
  uint64_t w = 0;
  tptr[0] = 0;
  for (uint32_t u = 0; u < nu; u++) {
    uint32_t *a = idx + cnt[u];
    uint64_t n = cnt[u + 1] - cnt[u];
    qsort(a, n, sizeof *a, cmp_u32);
    uint64_t start = w;
    const uint32_t *seen = m->seen.indices + m->seen.indptr[u];
    uint64_t nseen = m->seen.indptr[u + 1] - m->seen.indptr[u];
    for (uint64_t q = 0; q < n; q++) {
      if (q > 0 && a[q] == a[q - 1]) continue;
      if (contains(seen, nseen, a[q])) {
        out->seen_dropped++;
        continue;
      }
      idx[w++] = a[q];
    }
    if (w > start) {
      eval_users[ne++] = u;
      tptr[ne] = w;
    }
  }
  out->test_pairs = w;
  out->users = ne;
  int rc = MX_OK;
  if (ne == 0) {
    rc = mx_error_set(err, MX_EEMPTY, "no test user is known to the model with a new item "
                      "(%zu rows, %zu unknown)", test->n, test->unknown);
  } else {
    int T = mx__threads_resolve(threads);
    if ((size_t)T > ne) T = (int)ne;
    double (*acc)[6] = calloc((size_t)T, sizeof *acc);
    rank_ctx c = {m, tptr, idx, eval_users, ne, k, {0}, acc, 0};
    mx__blas_begin(1);
    if (acc) mx__parallel_run(T, rank_run, &c);
    mx__blas_end();
    if (!acc || c.failed) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    } else {
      double s[6] = {0};
      for (int t = 0; t < T; t++)
        for (int j = 0; j < 6; j++) s[j] += acc[t][j];
      out->precision = s[0] / (double)ne;
      out->recall = s[1] / (double)ne;
      out->ndcg = s[2] / (double)ne;
      out->map = s[3] / (double)ne;
      out->hit_rate = s[4] / (double)ne;
      out->auc = s[5] / (double)ne;
    }
    free(acc);
  }
  free(cnt); free(idx); free(fill); free(eval_users); free(tptr);
  return rc;
}
