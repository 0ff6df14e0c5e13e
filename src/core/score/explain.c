/* Explanations: which of the user's training items make an item's score.
 *
 * ALS-family models (Hu, Koren & Volinsky 2008, §5 "Explaining
 * recommendations"): the user step solves x_u = W_u Yᵀ C^u p(u) with
 * W_u = (YᵀC^uY + λI)^-1, so
 *     ŷ_ui = y_iᵀ x_u = Σ_{j: r_uj > 0} (y_iᵀ W_u y_j) c_uj p_uj,
 * a sum over the user's items; the term of item j is its contribution.
 *   - iALS: p_uj = 1, c_uj = 1 + α r_uj (or 1 + α log(1 + r_uj/ε)), and
 *     YᵀC^uY = YᵀY + Σ_j (c_uj - 1) y_j y_jᵀ, so YᵀY is computed once.
 *   - explicit ALS with biases (weighted-λ, as trained in als.c): the user
 *     solves [x_u; b_u] = W_u Σ_j t_j ỹ_j with ỹ_j = [y_j; 1],
 *     t_j = r_uj - μ - b_j and W_u = (Σ_j ỹ_j ỹ_jᵀ + λ n_u I)^-1, so
 *     score - μ - b_i = Σ_j (ỹ_iᵀ W_u ỹ_j) t_j.
 *   The hyper-parameters come from the model (hyper[] as written by
 *   train.c: 2 = reg, 4 = alpha, 8 = log confidence, 9 = eps).
 * EASE: ŷ_ui = Σ_j B[j, i] exactly, so B[j, i] is the contribution.
 * Other models: the cosine similarity of Q_i and Q_j ("the most similar items
 * you bought"), which explains without decomposing the score. */
#include "core/score/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { H_REG = 2, H_ALPHA = 4, H_LOGCONF = 8, H_EPS = 9 };

typedef struct {
  double w;
  uint32_t id;
} contrib;

static int contrib_cmp(const void *a, const void *b) {
  const contrib *x = a, *y = b;
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* In-place Cholesky A = L Lᵀ (lower triangle); 0 or -1 when not positive
 * definite. */
static int cholesky(double *A, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    double d = A[(size_t)j * n + j];
    for (uint32_t k = 0; k < j; k++) d -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
    if (!(d > 0)) return -1;
    d = sqrt(d);
    A[(size_t)j * n + j] = d;
    for (uint32_t i = j + 1; i < n; i++) {
      double s = A[(size_t)i * n + j];
      for (uint32_t k = 0; k < j; k++) s -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
      A[(size_t)i * n + j] = s / d;
    }
  }
  return 0;
}

/* Solve L Lᵀ x = b in place. */
static void chol_solve(const double *L, uint32_t n, double *x) {
  for (uint32_t i = 0; i < n; i++) {
    double s = x[i];
    for (uint32_t k = 0; k < i; k++) s -= L[(size_t)i * n + k] * x[k];
    x[i] = s / L[(size_t)i * n + i];
  }
  for (uint32_t i = n; i-- > 0;) {
    double s = x[i];
    for (uint32_t k = i + 1; k < n; k++) s -= L[(size_t)k * n + i] * x[k];
    x[i] = s / L[(size_t)i * n + i];
  }
}

typedef enum { EXPLAIN_IALS, EXPLAIN_ALS, EXPLAIN_EASE, EXPLAIN_COSINE } explain_kind;

static explain_kind kind_of(const mx_model *m) {
  if (m->kind == MX_MODEL_EASE) return EXPLAIN_EASE;
  if (m->factors && m->kind == MX_MODEL_IALS && m->n_hyper > H_EPS) return EXPLAIN_IALS;
  if (m->factors && m->kind == MX_MODEL_ALS && m->n_hyper > H_REG && m->item_bias)
    return EXPLAIN_ALS;
  return EXPLAIN_COSINE;
}

static double confidence(const mx_model *m, float r) {
  double alpha = m->hyper[H_ALPHA];
  if (m->hyper[H_LOGCONF] != 0) return 1.0 + alpha * log(1.0 + r / m->hyper[H_EPS]);
  return 1.0 + alpha * r;
}

/* Factor j of the (possibly bias-augmented) item vector ỹ. */
static inline double yv(const mx_model *m, uint32_t item, uint32_t f, int aug) {
  return (aug && f == m->factors) ? 1.0 : (double)m->item_factors[(size_t)item * m->factors + f];
}

/* A = the user's normal matrix (see the file comment), dim d = k or k + 1. */
static void user_matrix(const mx_model *m, explain_kind ek, const double *gram, uint32_t u,
                        double *A, double *y) {
  uint32_t k = m->factors, aug = ek == EXPLAIN_ALS, d = k + aug;
  uint64_t a = m->seen.indptr[u], b = m->seen.indptr[u + 1];
  double reg = m->hyper[H_REG];
  if (ek == EXPLAIN_IALS) {
    memcpy(A, gram, (size_t)d * d * sizeof *A);
    for (uint32_t f = 0; f < d; f++) A[(size_t)f * d + f] += reg;
  } else {
    memset(A, 0, (size_t)d * d * sizeof *A);
    double lam = reg * (double)(b - a);
    for (uint32_t f = 0; f < d; f++) A[(size_t)f * d + f] = lam > 0 ? lam : 1e-6;
  }
  for (uint64_t s = a; s < b; s++) {
    uint32_t j = m->seen.indices[s];
    double w = ek == EXPLAIN_IALS ? confidence(m, m->seen.values[s]) - 1.0 : 1.0;
    if (w == 0) continue;
    for (uint32_t f = 0; f < d; f++) y[f] = yv(m, j, f, aug);
    /* rank-one update of the lower triangle: A += w ỹ_j ỹ_jᵀ */
    for (uint32_t f = 0; f < d; f++) {
      double yf = w * y[f];
      double *row = A + (size_t)f * d;
      for (uint32_t g = 0; g <= f; g++) row[g] += yf * y[g];
    }
  }
  for (uint32_t f = 0; f < d; f++)
    for (uint32_t g = f + 1; g < d; g++) A[(size_t)f * d + g] = A[(size_t)g * d + f];
}

int mx_explain(const mx_model *m, const uint32_t *users, const uint32_t *items, uint32_t n,
               uint32_t top, uint32_t *items_out, float *weight_out, uint32_t *count,
               mx_error *err) {
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  for (uint32_t p = 0; p < n; p++)
    if (users[p] >= m->n_users || items[p] >= m->n_items)
      return mx_error_set(err, MX_EINVAL, "%s index out of range in pair %u",
                          users[p] >= m->n_users ? "user" : "item", p + 1);
  explain_kind ek = kind_of(m);
  uint32_t k = m->factors, d = k + (ek == EXPLAIN_ALS);
  uint32_t max_hist = 0;
  for (uint32_t u = 0; u < m->n_users; u++) {
    uint64_t h = m->seen.indptr[u + 1] - m->seen.indptr[u];
    if (h > max_hist) max_hist = (uint32_t)h;
  }
  double *gram = NULL, *A = NULL, *w = NULL, *y = NULL, *inorm = NULL;
  contrib *c = malloc(((size_t)max_hist + 1) * sizeof *c);
  int ok = c != NULL;
  if (ok && (ek == EXPLAIN_IALS || ek == EXPLAIN_ALS)) {
    A = malloc((size_t)d * d * sizeof *A);
    w = malloc((size_t)d * sizeof *w);
    y = malloc((size_t)d * sizeof *y);
    ok = A && w && y;
    if (ok && ek == EXPLAIN_IALS) {
      gram = calloc((size_t)d * d, sizeof *gram);
      ok = gram != NULL;
      /* YᵀY over all items, once (lower triangle, mirrored in user_matrix). */
      for (uint32_t i = 0; ok && i < m->n_items; i++) {
        const float *yi = m->item_factors + (size_t)i * k;
        for (uint32_t f = 0; f < k; f++)
          for (uint32_t g = 0; g <= f; g++) gram[(size_t)f * k + g] += (double)yi[f] * yi[g];
      }
    }
  }
  if (ok && ek == EXPLAIN_COSINE && k) {
    inorm = malloc((size_t)m->n_items * sizeof *inorm);
    ok = inorm != NULL;
    for (uint32_t i = 0; ok && i < m->n_items; i++) {
      double s = 0;
      for (uint32_t f = 0; f < k; f++) {
        double v = m->item_factors[(size_t)i * k + f];
        s += v * v;
      }
      inorm[i] = s > 0 ? 1.0 / sqrt(s) : 0.0;
    }
  }
  if (!ok) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  uint32_t cur_user = UINT32_MAX;
  for (uint32_t p = 0; p < n; p++) {
    uint32_t u = users[p], i = items[p];
    uint64_t a = m->seen.indptr[u], b = m->seen.indptr[u + 1];
    if ((ek == EXPLAIN_IALS || ek == EXPLAIN_ALS) && u != cur_user) {
      user_matrix(m, ek, gram, u, A, y);
      if (cholesky(A, d) != 0) {
        rc = mx_error_set(err, MX_ESTATE,
                          "cannot explain for user %u: normal matrix not positive definite", u);
        goto done;
      }
      cur_user = u;
    }
    if (ek == EXPLAIN_IALS || ek == EXPLAIN_ALS) {
      for (uint32_t f = 0; f < d; f++) w[f] = yv(m, i, f, ek == EXPLAIN_ALS);
      chol_solve(A, d, w); /* w = W_u ỹ_i (W_u symmetric) */
    }
    uint32_t nc = 0;
    for (uint64_t s = a; s < b; s++) {
      uint32_t j = m->seen.indices[s];
      double v;
      if (ek == EXPLAIN_EASE) {
        v = m->ease_b[(size_t)j * m->n_items + i];
      } else if (ek == EXPLAIN_COSINE) {
        double dot = 0;
        for (uint32_t f = 0; f < k; f++)
          dot += (double)m->item_factors[(size_t)i * k + f] * m->item_factors[(size_t)j * k + f];
        v = k ? dot * inorm[i] * inorm[j] : 0.0;
      } else {
        double sij = 0;
        for (uint32_t f = 0; f < d; f++) sij += w[f] * yv(m, j, f, ek == EXPLAIN_ALS);
        double r = m->seen.values ? m->seen.values[s] : 1.0f;
        double weight = ek == EXPLAIN_IALS
                            ? confidence(m, (float)r)
                            : r - m->global_mean - (double)m->item_bias[j];
        v = sij * weight;
      }
      c[nc].w = v;
      c[nc++].id = j;
    }
    qsort(c, nc, sizeof *c, contrib_cmp);
    uint32_t t = nc < top ? nc : top;
    for (uint32_t x = 0; x < top; x++) {
      items_out[(size_t)p * top + x] = x < t ? c[x].id : MX_TOPK_NONE;
      weight_out[(size_t)p * top + x] = x < t ? (float)c[x].w : NAN;
    }
    count[p] = t;
  }
done:
  free(c);
  free(gram);
  free(A);
  free(w);
  free(y);
  free(inorm);
  return rc;
}
