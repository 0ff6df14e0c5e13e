/* merx — uplift models: who is persuadable.
 *
 * From a randomised campaign (each row: treatment arm, outcome, features)
 * learn each customer's *incremental* response tau(x) = E[Y | x, treated] -
 * E[Y | x, control], so budgets go to persuadables rather than to sure things
 * (who buy anyway) or lost causes.
 *
 * Learners (on merx/glm.h models over standardised numeric features, one-hot
 * categoricals and optional user factors of an embedding model):
 *  - T-learner ("two models"): one model on treated rows, one on control
 *    rows; tau(x) = mu1(x) - mu0(x). Logistic models for a 0/1 outcome,
 *    ridge otherwise. Künzel, Sekhon, Bickel & Yu, "Metalearners for
 *    estimating heterogeneous treatment effects using machine learning",
 *    PNAS 116(10), 2019.
 *  - transformed outcome: Z = Y (T - e) / (e (1 - e)), e the treated share of
 *    the training rows, has E[Z | x] = tau(x) in a randomised experiment, so
 *    a ridge regression of Z on x estimates tau directly. Athey & Imbens,
 *    "Recursive partitioning for heterogeneous causal effects", PNAS 113(27),
 *    2016, section 2.3 (transformed outcome).
 *
 * Evaluation on held-out rows (mx_uplift_evaluate): the Qini curve of
 * Radcliffe, "Using control groups to target on predicted lift", Direct
 * Marketing Analytics Journal, 2007, and the uplift curve (Rzepakowski &
 * Jaroszewicz, 2012), both against random targeting, with stratified
 * bootstrap intervals. */
#ifndef MERX_UPLIFT_H
#define MERX_UPLIFT_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"
#include "merx/data.h"
#include "merx/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- table
 * Rows with named columns, each numeric (double) or categorical (strings,
 * coded by first appearance). What the learners read, from a CSV file or
 * built column by column (the Lua binding). */
typedef struct mx_uplift_table mx_uplift_table;

MX_API int mx_uplift_table_create(size_t rows, mx_uplift_table **out, mx_error *err);
MX_API void mx_uplift_table_free(mx_uplift_table *t);
MX_API size_t mx_uplift_table_rows(const mx_uplift_table *t);
/* Add a column (values copied). A name given twice is MX_EINVAL. v must hold
 * `rows` finite numbers / strings (len NULL: NUL-terminated). */
MX_API int mx_uplift_table_add_numbers(mx_uplift_table *t, const char *name, const double *v,
                                       mx_error *err);
MX_API int mx_uplift_table_add_strings(mx_uplift_table *t, const char *name,
                                       const char *const *v, const size_t *len, mx_error *err);

typedef struct mx_uplift_read_options {
  mx_csv_options csv;
  const char *const *columns;     /* columns to read (NULL: all of the header) */
  int n_columns;
  const char *const *categorical; /* columns read as categories even when numeric */
  int n_categorical;
} mx_uplift_read_options;

/* Read a CSV with a header. A column is numeric when its value in the first
 * data row is a number (and it is not listed as categorical); a later value
 * that is not a number is an error naming file, line and column. */
MX_API int mx_uplift_table_read_csv(const char *path, const mx_uplift_read_options *o,
                                    mx_uplift_table **out, mx_error *err);
/* Index of a column by name, -1 when absent; whether it is categorical. */
MX_API int mx_uplift_table_find(const mx_uplift_table *t, const char *name);
MX_API int mx_uplift_table_is_categorical(const mx_uplift_table *t, int col);
/* The number in row i of a numeric column (NaN for a categorical one). */
MX_API double mx_uplift_table_number(const mx_uplift_table *t, int col, size_t i);
/* The value of row i as text: the category, or the number printed with %.17g
 * (integers without a decimal point). buf holds at least 32 bytes. */
MX_API const char *mx_uplift_table_text(const mx_uplift_table *t, int col, size_t i, char *buf,
                                        size_t size);

/* Mark each row of t treated (1), control (0) or of another arm (2) by its
 * value in column `treatment`, the arms chosen as in mx_uplift_options
 * (treated_arm, control_arm may be NULL). The names of the chosen arms are
 * borrowed from t (may be NULL). flag holds mx_uplift_table_rows(t) bytes. */
MX_API int mx_uplift_table_arms(const mx_uplift_table *t, const char *treatment,
                                const char *treated_arm, const char *control_arm,
                                unsigned char *flag, const char **treated_name,
                                const char **control_name, mx_error *err);

/* ----------------------------------------------------------- evaluation */

#define MX_UPLIFT_CURVE_POINTS 101 /* x = 0, 0.01, ..., 1 */

typedef struct mx_uplift_eval {
  size_t n, n_treated, n_control;
  double ate;          /* mean(y | treated) - mean(y | control) */
  /* Qini curve Q(k) = (Yt(k) - Yc(k) Nt(k) / Nc(k)) / Nt, the uplift curve
   * U(k) = (Yt(k) / Nt(k) - Yc(k) / Nc(k)) k / N, over the k best-scored rows
   * (Yt(k): outcome sum of treated rows among them; Nt the treated total).
   * Both end at the ate; random targeting is the line from 0 to the ate,
   * whose area is ate / 2. x = k / N; rows with equal scores enter together
   * (the curve is straight across a tie). Areas by the trapezoid rule. */
  double qini;         /* area between the Qini curve and random targeting */
  double auuc;         /* area under the uplift curve */
  double random_area;  /* ate / 2 */
  double qini_lo, qini_hi, auuc_lo, auuc_hi; /* 95% percentile bootstrap (NaN without) */
  double gain_lo, gain_hi; /* auuc - random_area, 95% bootstrap interval */
  int bootstrap;       /* replicates drawn */
  double x[MX_UPLIFT_CURVE_POINTS];
  double qini_curve[MX_UPLIFT_CURVE_POINTS];
  double uplift_curve[MX_UPLIFT_CURVE_POINTS];
} mx_uplift_eval;

/* Evaluate uplift scores (higher = target first) of n rows with treated[i]
 * in {0, 1} and outcomes y. bootstrap: replicates (0: no intervals), each
 * resampling treated and control rows separately with replacement (sizes
 * kept), seeded. Errors: MX_EEMPTY when an arm has no rows, MX_EINVAL for a
 * non-finite score or outcome. */
MX_API int mx_uplift_evaluate(const double *score, const unsigned char *treated, const double *y,
                              size_t n, int bootstrap, uint64_t seed, mx_uplift_eval *out,
                              mx_error *err);

/* ------------------------------------------------------------ learners */

typedef enum mx_uplift_learner {
  MX_UPLIFT_T_LEARNER = 1,   /* two models: treated and control */
  MX_UPLIFT_TRANSFORMED = 2  /* ridge regression on the transformed outcome */
} mx_uplift_learner;

/* Name ("t", "transformed") and parse (-1 when unknown). */
MX_API const char *mx_uplift_learner_name(mx_uplift_learner l);
MX_API int mx_uplift_learner_parse(const char *name);

typedef enum mx_uplift_feature_kind {
  MX_UPLIFT_NUMERIC = 0,     /* (x - mean) / scale */
  MX_UPLIFT_CATEGORICAL = 1, /* one 0/1 column per level seen in training */
  MX_UPLIFT_EMBEDDING = 2    /* factor `dim` of the row's user, standardised */
} mx_uplift_feature_kind;

typedef struct mx_uplift_feature {
  char *name;        /* column name; "embedding:D" (1-based D) for factors */
  mx_uplift_feature_kind kind;
  double mean, scale;
  uint32_t n_levels;
  char **levels;     /* categorical: level strings, in model column order */
  uint32_t dim;      /* embedding: 0-based factor */
} mx_uplift_feature;

/* A trained model. All memory owned; free with mx_uplift_free. */
typedef struct mx_uplift_model {
  mx_uplift_learner learner;
  int binary;              /* the outcome was 0/1 (logistic models) */
  char *treatment, *outcome, *user; /* column names (user may be NULL) */
  char *treated_arm, *control_arm;
  uint32_t n_features;
  mx_uplift_feature *features;
  uint32_t width;          /* design columns, the intercept included */
  int n_coef;              /* 2 (T-learner: treated, control) or 1 */
  double *coef[2];         /* width each */
  double reg, propensity;  /* propensity: treated share of the training rows */
  double test_share;
  uint64_t seed;
  uint64_t train_rows;
  uint32_t embed_dims;     /* user factors used as features (0: none) */
  uint64_t embed_fingerprint; /* training-data fingerprint of that model */
} mx_uplift_model;

typedef struct mx_uplift_options {
  mx_uplift_learner learner;  /* default T-learner */
  const char *user;           /* column of user ids (NULL: none; needed for embeddings) */
  const char *treatment;      /* column of arms (required) */
  const char *outcome;        /* numeric column (required) */
  /* The arms compared. Both NULL: the arms "1" and "0" when those are the
   * only two; one NULL: the other arm when there are exactly two. Rows of
   * other arms are left out (counted). */
  const char *treated_arm, *control_arm;
  const char *const *features; /* NULL: every column but user, treatment, outcome */
  int n_features;
  const mx_model *embeddings; /* optional: its user factors become features */
  double reg;                 /* L2 strength (default 1, merx/glm.h) */
  double test_share;          /* held-out share per arm (default 0.3; 0: no evaluation) */
  uint64_t seed;              /* split and bootstrap (default 1) */
  int bootstrap;              /* default 200 */
  int max_iter;               /* Newton steps (default 50) */
  const mx_cancel *cancel;    /* polled between stages */
} mx_uplift_options;

MX_API mx_uplift_options mx_uplift_defaults(void);

typedef struct mx_uplift_report {
  size_t rows;              /* rows of the two arms */
  size_t rows_other_arms;   /* rows of other arms, left out */
  size_t train_treated, train_control, test_treated, test_control;
  size_t embed_unknown;     /* rows whose user the embedding model lacks (factors = mean) */
  int iterations[2];        /* Newton steps of each logistic model (0: ridge) */
  int evaluated;            /* test_share > 0: `test` is filled */
  mx_uplift_eval test;      /* on the held-out rows */
} mx_uplift_report;

/* Split the table (per arm, seeded), fit on the training part, evaluate on
 * the held-out part. *out owned by the caller. report may be NULL. */
MX_API int mx_uplift_train(const mx_uplift_table *t, const mx_uplift_options *o,
                           mx_uplift_model **out, mx_uplift_report *report, mx_error *err);

/* An upper estimate of the bytes mx_uplift_train allocates for t and o
 * (design matrices, work vectors, bootstrap), so a caller with a memory
 * budget (the Lua sandbox) can refuse before training. */
MX_API double mx_uplift_train_bytes(const mx_uplift_table *t, const mx_uplift_options *o);

/* Score every row of t: uplift[i], and (T-learner; NULL to skip, NaN for the
 * transformed learner) the predicted outcome under treatment and under
 * control. t needs the model's feature columns (a categorical level unseen
 * in training codes as all zeros; a numeric feature must be numeric).
 * embeddings: the model whose factors were used in training (same
 * fingerprint and dimensions), else NULL. */
MX_API int mx_uplift_score(const mx_uplift_model *m, const mx_uplift_table *t,
                           const mx_model *embeddings, double *uplift, double *treated,
                           double *control, size_t *embed_unknown, mx_error *err);

MX_API void mx_uplift_free(mx_uplift_model *m);

/* ---------------------------------------------------------- model files
 * ".mxu", little-endian: magic "MERXUPL\0", u32 version, u32 zero, u64
 * payload size, the payload (learner, outcome kind, column and arm names,
 * features with their scaling and levels, coefficients), u64 mx_hash64 of
 * the payload. A foreign, truncated or corrupt file, or another version, is
 * refused with MX_EFORMAT and a message naming the file. */
#define MX_UPLIFT_FORMAT_VERSION 1
MX_API int mx_uplift_save(const mx_uplift_model *m, const char *path, mx_error *err);
MX_API int mx_uplift_load(const char *path, mx_uplift_model **out, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
