/* The design matrix of the uplift learners: an intercept, each numeric
 * feature standardised on the training rows ((x - mean) / sd, so one L2
 * penalty treats them alike), one 0/1 column per level of a categorical
 * feature seen in training (every level kept: with the ridge penalty the
 * coding needs no reference level, and an unseen level codes as all zeros),
 * and optionally the user's factors from an embedding model, standardised
 * like numeric features. */
#include "core/uplift/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 1000

int mx__uplift_user_factors(const mx_uplift_table *t, int user_col, const mx_model *emb,
                            float **out, size_t *unknown, mx_error *err) {
  *out = NULL;
  *unknown = 0;
  uint32_t k = emb->factors;
  if (k == 0 || !emb->user_factors)
    return mx_error_set(err, MX_EINVAL, "the embedding model has no user factors (kind %s)",
                        mx_model_kind_name(emb->kind));
  float *f = malloc((t->rows ? t->rows : 1) * k * sizeof *f);
  if (!f) return mx_error_set(err, MX_ENOMEM, "out of memory");
  char buf[40];
  for (size_t i = 0; i < t->rows; i++) {
    const char *id = mx_uplift_table_text(t, user_col, i, buf, sizeof buf);
    int64_t u = mx_idmap_find(emb->users, id, strlen(id));
    if (u < 0) {
      for (uint32_t d = 0; d < k; d++) f[i * k + d] = NAN;
      (*unknown)++;
    } else {
      memcpy(f + i * k, emb->user_factors + (size_t)u * k, k * sizeof *f);
    }
  }
  *out = f;
  return MX_OK;
}

static size_t row_at(const size_t *rows, size_t r) { return rows ? rows[r] : r; }

int mx__uplift_design_fit(mx_uplift_model *m, const mx_uplift_table *t, const char *const *names,
                          int n_names, const float *emb, const size_t *rows, size_t n,
                          mx_error *err) {
  uint32_t total = (uint32_t)n_names + m->embed_dims;
  m->features = calloc(total ? total : 1, sizeof *m->features);
  if (!m->features) return mx_error_set(err, MX_ENOMEM, "out of memory");
  m->n_features = 0;
  uint32_t width = 1;
  uint8_t *seen = NULL;
  int rc = MX_OK;
  for (int q = 0; q < n_names; q++) {
    int c = mx_uplift_table_find(t, names[q]);
    if (c < 0) return mx_error_set(err, MX_ENOTFOUND, "no feature column '%s'", names[q]);
    const mx__uplift_column *col = &t->col[c];
    mx_uplift_feature *ft = &m->features[m->n_features++];
    if (!(ft->name = mx__strdup(names[q]))) return mx_error_set(err, MX_ENOMEM, "out of memory");
    if (col->num) {
      ft->kind = MX_UPLIFT_NUMERIC;
      double s = 0, ss = 0;
      for (size_t r = 0; r < n; r++) s += col->num[row_at(rows, r)];
      double mean = n ? s / (double)n : 0;
      for (size_t r = 0; r < n; r++) {
        double d = col->num[row_at(rows, r)] - mean;
        ss += d * d;
      }
      double sd = n > 1 ? sqrt(ss / (double)n) : 0;
      ft->mean = mean;
      ft->scale = sd > 1e-12 * (1 + fabs(mean)) ? sd : 1;
      width++;
      continue;
    }
    ft->kind = MX_UPLIFT_CATEGORICAL;
    uint32_t nl = mx_idmap_size(col->levels);
    free(seen);
    seen = calloc(nl ? nl : 1, 1);
    if (!seen) return mx_error_set(err, MX_ENOMEM, "out of memory");
    for (size_t r = 0; r < n; r++) seen[col->code[row_at(rows, r)]] = 1;
    uint32_t used = 0;
    for (uint32_t l = 0; l < nl; l++) used += seen[l];
    if (used > MAX_LEVELS) {
      rc = mx_error_set(err, MX_ELIMIT,
                        "feature '%s' has %u distinct values, too many to one-hot code (at most %d; "
                        "leave it out of the features, or make it numeric)",
                        names[q], used, MAX_LEVELS);
      break;
    }
    ft->levels = calloc(used ? used : 1, sizeof *ft->levels);
    if (!ft->levels) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    /* levels in order of first appearance in the table: deterministic */
    for (uint32_t l = 0; l < nl; l++)
      if (seen[l]) {
        if (!(ft->levels[ft->n_levels++] = mx__strdup(mx_idmap_name(col->levels, l)))) {
          rc = mx_error_set(err, MX_ENOMEM, "out of memory");
          break;
        }
      }
    if (rc) break;
    ft->scale = 1;
    width += ft->n_levels;
  }
  free(seen);
  if (rc) return rc;
  for (uint32_t d = 0; d < m->embed_dims; d++) {
    mx_uplift_feature *ft = &m->features[m->n_features++];
    char name[32];
    snprintf(name, sizeof name, "embedding:%u", d + 1);
    if (!(ft->name = mx__strdup(name))) return mx_error_set(err, MX_ENOMEM, "out of memory");
    ft->kind = MX_UPLIFT_EMBEDDING;
    ft->dim = d;
    double s = 0, ss = 0;
    size_t known = 0;
    for (size_t r = 0; r < n; r++) {
      float v = emb[row_at(rows, r) * m->embed_dims + d];
      if (isnan(v)) continue;
      s += v;
      known++;
    }
    double mean = known ? s / (double)known : 0;
    for (size_t r = 0; r < n; r++) {
      float v = emb[row_at(rows, r) * m->embed_dims + d];
      if (!isnan(v)) ss += (v - mean) * (v - mean);
    }
    double sd = known > 1 ? sqrt(ss / (double)known) : 0;
    ft->mean = mean;
    ft->scale = sd > 1e-12 ? sd : 1;
    width++;
  }
  m->width = width;
  return MX_OK;
}

int mx__uplift_design_rows(const mx_uplift_model *m, const mx_uplift_table *t, const float *emb,
                           const size_t *rows, size_t n, double *X, mx_error *err) {
  uint32_t w = m->width;
  for (size_t r = 0; r < n; r++) X[r * w] = 1;
  uint32_t at = 1;
  mx_idmap *lookup = NULL;
  int32_t *level_col = NULL;
  int rc = MX_OK;
  for (uint32_t q = 0; q < m->n_features; q++) {
    const mx_uplift_feature *ft = &m->features[q];
    if (ft->kind == MX_UPLIFT_EMBEDDING) {
      for (size_t r = 0; r < n; r++) {
        float v = emb[row_at(rows, r) * m->embed_dims + ft->dim];
        X[r * w + at] = isnan(v) ? 0 : (v - ft->mean) / ft->scale;
      }
      at++;
      continue;
    }
    int c = mx_uplift_table_find(t, ft->name);
    if (c < 0) {
      rc = mx_error_set(err, MX_ENOTFOUND, "the data has no column '%s' (a feature of the model)",
                        ft->name);
      break;
    }
    const mx__uplift_column *col = &t->col[c];
    if (ft->kind == MX_UPLIFT_NUMERIC) {
      if (!col->num) {
        rc = mx_error_set(err, MX_EINVAL,
                          "column '%s' is text here but numeric in the model's training data",
                          ft->name);
        break;
      }
      for (size_t r = 0; r < n; r++) X[r * w + at] = (col->num[row_at(rows, r)] - ft->mean) / ft->scale;
      at++;
      continue;
    }
    /* categorical: map the table's codes to the model's level columns */
    uint32_t nl = col->code ? mx_idmap_size(col->levels) : 0;
    mx_idmap_free(lookup);
    free(level_col);
    lookup = mx_idmap_create();
    level_col = malloc((nl ? nl : 1) * sizeof *level_col);
    if (!lookup || !level_col) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    for (uint32_t l = 0; l < ft->n_levels; l++)
      if (mx_idmap_intern(lookup, ft->levels[l], strlen(ft->levels[l])) < 0) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
    if (rc) break;
    for (uint32_t l = 0; l < nl; l++) {
      const char *s = mx_idmap_name(col->levels, l);
      level_col[l] = (int32_t)mx_idmap_find(lookup, s, strlen(s));
    }
    for (size_t r = 0; r < n; r++) {
      double *x = X + r * w + at;
      memset(x, 0, ft->n_levels * sizeof *x);
      if (col->code) {
        int32_t l = level_col[col->code[row_at(rows, r)]];
        if (l >= 0) x[l] = 1;
      } else {
        /* numbers in the data for a categorical feature: match their text */
        char buf[40];
        const char *s = mx_uplift_table_text(t, c, row_at(rows, r), buf, sizeof buf);
        int64_t l = mx_idmap_find(lookup, s, strlen(s));
        if (l >= 0) x[l] = 1;
      }
    }
    at += ft->n_levels;
  }
  mx_idmap_free(lookup);
  free(level_col);
  return rc;
}
