/* Internals shared by the files of src/core/uplift/. */
#ifndef MERX_CORE_UPLIFT_INTERNAL_H
#define MERX_CORE_UPLIFT_INTERNAL_H

#include "merx/uplift.h"

typedef struct mx__uplift_column {
  char *name;
  double *num;      /* numeric: rows values; NULL when categorical */
  uint32_t *code;   /* categorical: rows codes into levels; NULL when numeric */
  mx_idmap *levels; /* categorical */
} mx__uplift_column;

struct mx_uplift_table {
  size_t rows;
  int ncols;
  mx__uplift_column *col;
};

/* Design matrix (design.c). Fill the model's features (names, kinds, scaling
 * fitted on rows[0..n) of t, levels seen there) and width. */
int mx__uplift_design_fit(mx_uplift_model *m, const mx_uplift_table *t, const char *const *names,
                          int n_names, const float *emb, const size_t *rows, size_t n,
                          mx_error *err);
/* Rows rows[0..n) of t (all rows when rows is NULL) as a row-major n x width
 * matrix, intercept first. emb: t->rows x m->embed_dims user factors (NaN
 * rows: unknown user, coded as the training mean), or NULL. */
int mx__uplift_design_rows(const mx_uplift_model *m, const mx_uplift_table *t, const float *emb,
                           const size_t *rows, size_t n, double *X, mx_error *err);
/* User factors of every row of t (t->rows x k, NaN for users the embedding
 * model lacks) into a new array; *unknown counts them. */
int mx__uplift_user_factors(const mx_uplift_table *t, int user_col, const mx_model *emb,
                            float **out, size_t *unknown, mx_error *err);

#endif
