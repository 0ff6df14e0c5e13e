/* merx — embedding models: training, fold-in, model files, evaluation.
 *
 * A model maps users and items (by the string ids of the training data) to
 * dense vectors. Scores are
 *     explicit models (mf, als, bpmf):  global_mean + user_bias[u] + item_bias[i] + <P_u, Q_i>
 *     implicit models (ials, bpr):      <P_u, Q_i> (+ item_bias[i] when present, bpr)
 *     ease:                             sum over the user's seen items j of B[j, i]
 * The model keeps each user's training items (seen), so recommendations can
 * exclude them.
 *
 * Memory: factor matrices are row-major float, 64-byte aligned, either owned
 * (allocated with mx_alloc_aligned) or pointing into an mmap'd .mxm file. */
#ifndef MERX_MODEL_H
#define MERX_MODEL_H

#include <stdint.h>
#include "merx/error.h"
#include "merx/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mx_model_kind {
  MX_MODEL_MF = 1,   /* biased MF trained by SGD (explicit) */
  MX_MODEL_ALS = 2,  /* explicit ALS with biases */
  MX_MODEL_IALS = 3, /* implicit ALS, confidence weighting */
  MX_MODEL_BPR = 4,  /* BPR-MF (implicit) */
  MX_MODEL_EASE = 5, /* EASE item-item (implicit) */
  MX_MODEL_BPMF = 6, /* Bayesian MF, Gibbs sampling (explicit) */
  MX_MODEL_IMPORTED = 7 /* factors imported from .npy (dot product scores) */
} mx_model_kind;

typedef struct mx_model {
  mx_model_kind kind;
  int implicit;      /* 1: ranking model (ials, bpr, ease, imported); 0: rating model */
  uint32_t n_users;
  uint32_t n_items;
  uint32_t factors;  /* k; 0 for ease */
  float *user_factors; /* n_users x factors, row-major; NULL for ease */
  float *item_factors; /* n_items x factors, row-major; NULL for ease */
  float *user_bias;    /* n_users or NULL */
  float *item_bias;    /* n_items or NULL */
  float global_mean;   /* 0 for implicit models */
  float *ease_b;       /* n_items x n_items (EASE), NULL otherwise */
  mx_idmap *users;     /* owned */
  mx_idmap *items;     /* owned */
  mx_csr seen;         /* rows = users, indices = items seen in training (values: train value) */
  /* training record */
  uint64_t data_fingerprint;
  double hyper[16];    /* algorithm-specific hyper-parameters, see model.c */
  int n_hyper;
  /* storage */
  void *mapping;       /* mmap'd file when loaded, else NULL */
  size_t mapping_size;
  int owns_arrays;     /* 1: arrays allocated, freed by mx_model_free */
  /* explicit models: the range of the training ratings; predictions are
   * clipped to it when rating_max > rating_min (0, 0: no clipping) */
  float rating_min, rating_max;
  int seen_borrowed;   /* 1: seen points into a dataset (mx_train_options.borrow_seen) */
  /* 0: user ids are as read. Otherwise they are a store's pseudonyms
   * (PRIVACY.md) and this is that key's check value (never 0): a caller with
   * a real id hashes it with the key whose check value this is before looking
   * it up, and refuses without one. Set by training with a store key; kept
   * by clone, erasure and retraining. */
  uint64_t pseudonym_key;
} mx_model;

/* Allocate an empty model of the given shape with owned, zeroed arrays
 * (factors when factors > 0; biases when with_bias; ease_b for MX_MODEL_EASE).
 * Id maps are created empty; seen is empty (all rows zero). Used by the
 * trainers, the importer and tests. */
MX_API int mx_model_create(mx_model_kind kind, uint32_t n_users, uint32_t n_items,
                           uint32_t factors, int with_bias, mx_model **out, mx_error *err);
/* Accepts NULL. Unmaps or frees arrays, frees id maps and seen. */
MX_API void mx_model_free(mx_model *m);
MX_API const char *mx_model_kind_name(mx_model_kind kind);

/* ------------------------------------------------------------ model files
 * .mxm layout (little-endian, version 1 or 2): a 512-byte header (magic
 * "MERXMDL\0", version, kind, dims, flags, global mean, hyper-parameters,
 * data fingerprint, a table of sections as (offset, size), file size, a
 * checksum of the header and one of the payload), then the sections, each
 * starting on a 64-byte boundary so mmap'd arrays keep the alignment of
 * owned ones: user ids, item ids (NUL-separated strings), user factors, item
 * factors, user bias, item bias, EASE matrix, seen indptr (u64), seen
 * indices (u32), seen values (f32). */
#define MX_MODEL_FORMAT_VERSION 2
/* Version 2 adds pseudonym_key after the header checksum (covered by it); a
 * model without pseudonyms is still written as version 1, byte for byte,
 * so merx versions before it read it. */

/* Write m to path atomically (temporary file + rename). */
MX_API int mx_model_save(const mx_model *m, const char *path, mx_error *err);
/* Map path and build *out whose arrays point into the mapping
 * (owns_arrays = 0; id maps are built and owned). A missing, truncated,
 * corrupt (checksum) or foreign file, or an unsupported version, fails with
 * MX_EFORMAT/MX_EIO and a message naming the file. Free with mx_model_free. */
MX_API int mx_model_load(const char *path, mx_model **out, mx_error *err);
/* Copy a model into a new one with owned arrays (for warm starts and for
 * changing a loaded model). */
MX_API int mx_model_clone(const mx_model *src, mx_model **out, mx_error *err);
/* Set the model's seen CSR from a user x item CSR (copies). */
MX_API int mx_model_set_seen(mx_model *m, const mx_csr *by_user, mx_error *err);
/* Copy id maps (strings) of a dataset into the model. */
MX_API int mx_model_set_ids(mx_model *m, const mx_idmap *users, const mx_idmap *items,
                            mx_error *err);
/* Erasure (PRIVACY.md): remove the users u with drop[u] != 0 (n_users flags)
 * from m, which must own its arrays (mx_model_clone): factor rows, biases,
 * ids and stored interactions. Item factors are left as learnt. */
MX_API int mx_model_remove_users(mx_model *m, const unsigned char *drop, mx_error *err);
/* Train a new *out of m's kind on m's stored interactions with m's
 * hyper-parameters (the model after an erasure); MX_EINVAL for a model that
 * keeps neither (imported factors). */
MX_API int mx_model_retrain(const mx_model *m, int threads, mx_model **out, mx_error *err);
/* Predicted score of dense user u and item i (explicit: rating; implicit:
 * ranking score). u or i may be UINT32_MAX (unknown): explicit models fall
 * back to global mean + the known bias; implicit models give 0. Explicit
 * predictions are clipped to [rating_min, rating_max]. */
MX_API float mx_model_predict(const mx_model *m, uint32_t u, uint32_t i);
/* Kind from its name ("mf", "als", ...); -1 when unknown. */
MX_API int mx_model_kind_parse(const char *name);

/* ---------------------------------------------------------- rated pairs
 * Rows of a test (or any) interaction file mapped to a model's dense
 * indices. A user or item the model never saw is UINT32_MAX and counted in
 * unknown. Arrays owned; free with mx_pairs_free. */
typedef struct mx_pairs {
  size_t n;
  uint32_t *user;
  uint32_t *item;
  float *value; /* 1 for rows without a value column */
  size_t unknown;
} mx_pairs;

MX_API int mx_pairs_read(const char *path, const mx_ingest_options *opt, const mx_idmap *users,
                         const mx_idmap *items, mx_pairs *out, mx_error *err);
MX_API void mx_pairs_free(mx_pairs *p);

/* ------------------------------------------------------------- training */

/* What a trainer reports after each epoch (sweep for ALS/iALS). */
typedef struct mx_epoch_report {
  int epoch;          /* 1-based */
  int epochs;
  double loss;        /* training objective (regularised), NaN when not computed */
  double test_rmse;   /* explicit models with a test set, else NaN */
  double test_mae;
  double seconds;     /* since training started */
  double cpu_seconds; /* CPU time of the whole process so far (all threads) */
} mx_epoch_report;

typedef struct mx_train_options {
  mx_model_kind algo;
  uint32_t factors;   /* k (ignored by ease) */
  int epochs;         /* SGD epochs or ALS sweeps (ignored by ease) */
  double reg;         /* L2 strength (lambda); for ease the diagonal added to X'X */
  double reg_bias;    /* L2 on biases (mf) */
  double lr;          /* SGD learning rate (mf, bpr) */
  double lr_decay;    /* per-epoch multiplicative decay of lr (mf, bpr) */
  double alpha;       /* iALS confidence slope: c = 1 + alpha * r */
  int log_confidence; /* iALS: c = 1 + alpha * log(1 + r / eps) instead */
  double eps;
  int cg_steps;       /* iALS conjugate-gradient steps per solve; 0 = exact Cholesky */
  double init_std;    /* std of the initial factors (scaled by 1/sqrt(k)) */
  int burn_in;        /* bpmf: Gibbs samples discarded before averaging */
  int samples;        /* bpmf: samples stored in the model (evenly spaced; default 48) */
  uint64_t seed;
  int threads;        /* <= 0: all cores */
  const mx_pairs *test;   /* optional: evaluated after each epoch (explicit models) */
  int early_stop;         /* mf: stop when test RMSE rises (needs test) */
  const mx_model *init;   /* optional warm start: factors of ids present in both */
  int (*on_epoch)(void *ctx, const mx_epoch_report *r); /* non-zero stops training */
  int report_loss;        /* als/ials: compute the objective for on_epoch (one extra pass) */
  int borrow_seen;        /* the model's seen CSR points into d->by_user instead of a copy:
                           * saves nnz x 8 bytes; free the model before the dataset */
  void *ctx;
  const mx_cancel *cancel; /* polled every epoch; NULL = none (merx/error.h) */
  /* Recency (implicit models; needs the dataset's times). half_life_days > 0:
   * each stored pair gets the weight 2^(-age / half_life), age = now - the
   * pair's latest event (0 for events after now): ials multiplies the value
   * (the confidence), ease builds X'X from the weights, bpr draws positives
   * in proportion to them. now is now_seconds (Unix seconds) when now_set,
   * else the newest event in the data. */
  double half_life_days;
  int64_t now_seconds;
  int now_set;
  /* recent_popular_days > 0 (ials, bpr): blend in the popularity of the last
   * N days (distinct users whose latest event with an item falls in
   * (now - N days, now]), with weight h / (h + n_u) for a user with n_u
   * training items, h = recent_popular_users (default 5): the model
   * gets one more factor (user: weight x score scale, item: popularity / max). */
  double recent_popular_days;
  double recent_popular_users;
} mx_train_options;

/* The decay weights 2^(-age / half_life_days) of d's stored pairs, in
 * by_user order (out: mx_dataset_nnz(d) floats); age is measured from now
 * (Unix seconds) or, when now_set is 0, from the newest event in d, and
 * events after now count as age 0. MX_EINVAL when d has no times or
 * half_life_days is not a finite number > 0. */
MX_API int mx_train_decay_weights(const mx_dataset *d, double half_life_days, int64_t now,
                                  int now_set, float *out, mx_error *err);

/* Defaults chosen on validation splits carved from training data (see the
 * docs/benchmarks.md). */
MX_API mx_train_options mx_train_defaults(mx_model_kind algo);
/* Train a model of o->algo on d. *out is owned by the caller. Errors:
 * MX_EINVAL for bad options (zero factors, negative reg/lr, explicit algo on
 * data without values), MX_EEMPTY for an empty dataset. */
MX_API int mx_model_train(const mx_dataset *d, const mx_train_options *o, mx_model **out,
                          mx_error *err);
/* Test RMSE / MAE of an explicit model on pairs (unknown users/items scored
 * by global mean + known biases). */
MX_API void mx_model_rmse(const mx_model *m, const mx_pairs *p, double *rmse, double *mae);

/* ----------------------------------------------------------- evaluation */
typedef struct mx_eval_result {
  int implicit;
  int k;
  /* explicit models */
  double rmse, mae;
  size_t n;        /* test rows scored (explicit) */
  size_t unknown;  /* test rows whose user or item the model never saw */
  /* implicit models: means over users with at least one test item that
   * is not among their training items, ranking all items except those */
  double precision, recall, ndcg, map, hit_rate, auc;
  size_t users;
  size_t test_pairs;    /* distinct known (user, item) test pairs ranked */
  size_t seen_dropped;  /* test pairs already among the user's training items */
} mx_eval_result;

/* Evaluate m on test pairs (mapped with m's id maps). Explicit: RMSE/MAE
 * over all rows, unknown users/items scored by global mean + known biases.
 * Implicit: ranking metrics at k, AUC over all non-training items. */
MX_API int mx_model_evaluate(const mx_model *m, const mx_pairs *test, int k, int threads,
                             mx_eval_result *out, mx_error *err);
/* Scores of every item for users[0..n) into out (n x n_items, row-major):
 * dot products (+ item bias) for factor models, x_u'B for ease, full
 * rating predictions for explicit models. */
MX_API int mx_model_score_users(const mx_model *m, const uint32_t *users, size_t n, float *out);

/* ---------------------------------------------------------------- split */
typedef struct mx_split_options {
  int mode;        /* MX_SPLIT_RANDOM, MX_SPLIT_USER_TIME, MX_SPLIT_CUT */
  double fraction; /* test share (random, user_time) */
  int64_t cut;     /* MX_SPLIT_CUT: rows at or after this time go to test */
  uint64_t seed;
} mx_split_options;
enum { MX_SPLIT_RANDOM = 0, MX_SPLIT_USER_TIME = 1, MX_SPLIT_CUT = 2 };

/* Split the rows of an interaction file into two files (original fields,
 * header repeated, same separator; written atomically). Random: each
 * (user, item) pair goes to test with probability fraction, decided by a
 * hash of (seed, user, item), so repeated rows of a pair stay together.
 * User time: the last round(fraction * n_u) rows of each user by time.
 * Cut: rows at or after opts->cut. Needs a time column for the two time
 * modes. Counts of rows written in *n_train and *n_test. */
MX_API int mx_split_file(const char *path, const mx_ingest_options *opt,
                         const mx_split_options *s, const char *train_out, const char *test_out,
                         uint64_t *n_train, uint64_t *n_test, mx_error *err);

/* ---------------------------------------------------------------- fold-in */
/* A user vector from a list of (item, value) pairs, without retraining, with
 * the item side fixed and the model's own hyper-parameters:
 *   als, mf: the user's ridge problem (weighted lambda, with bias) solved
 *            exactly; for als this is the training update, so folding in a
 *            training user's items reproduces its vector;
 *   ials:    the closed-form solve of Hu et al. eq. 4 (exact Cholesky);
 *   bpr:     a few SGD epochs of the BPR loss on the user vector alone,
 *            negatives drawn with the model's seed (deterministic).
 * items are dense item indices (< n_items), values may be NULL (all 1).
 * x receives `factors` floats; *bias the user bias (0 for implicit models;
 * bias may be NULL). ease and bpmf models have no user vectors to fold in:
 * MX_EINVAL. */
MX_API int mx_model_fold_in(const mx_model *m, const uint32_t *items, const float *values,
                            size_t n, float *x, float *bias, mx_error *err);
/* The item Gram matrix YᵀY (factors x factors, column-major, upper triangle
 * filled) that every iALS fold-in starts from: 2·k²·items FLOPs, so a
 * service computes it once per model and passes it to mx_topk_history.
 * *out is malloc'd (caller frees). MX_EINVAL for models without factors. */
MX_API int mx_model_item_gram(const mx_model *m, float **out, mx_error *err);

/* ------------------------------------------------------------------ .npy
 * NumPy .npy files (format versions 1.0-3.0) of float32/float64 matrices,
 * C or Fortran order, so factors from Spark MLlib, implicit or PyTorch can be
 * served (merx model import) and merx factors used elsewhere (export). */
/* Write a rows x cols row-major float32 matrix (cols = 0: a 1-D array of
 * rows values), atomically. */
MX_API int mx_npy_write(const char *path, const float *data, uint64_t rows, uint64_t cols,
                        mx_error *err);
/* The same .npy bytes to an open stream (for a file published together with
 * others). 0, or -1 when a write failed (ferror(f) says so; errno is set). */
MX_API int mx_npy_write_stream(FILE *f, const float *data, uint64_t rows, uint64_t cols);
/* Read a 1-D or 2-D float32/float64 array as row-major float32 (64-byte
 * aligned, caller frees with mx_free_aligned). 1-D arrays give cols = 1. */
MX_API int mx_npy_read(const char *path, float **data, uint64_t *rows, uint64_t *cols,
                       mx_error *err);

/* Factor tables as Spark MLlib ALS writes them, so they can be imported
 * without Spark's libraries: path is a folder of part files (or one file):
 *   MX_SPARK_JSON: JSON Lines {"id": 12, "features": [0.1, ...]} from
 *                  model.userFactors.write.json(DIR) (.json or .json.gz parts)
 *   MX_SPARK_CSV:  a header with columns id and features, the features one
 *                  field: "0.1 0.2 ..." (array_join), "[0.1,0.2,...]" (to_json)
 * Bookkeeping files (_SUCCESS, names starting with _ or ., *.crc) are
 * skipped; parts are read in name order. Ids (JSON: all integers or all
 * strings) are interned into ids in row order (a repeated id is an error);
 * every row must have the same number of features (the rank, *cols). *data
 * is rows x cols float32, 64-byte aligned (free with mx_free_aligned).
 * Errors name the part file, line and field. */
enum { MX_SPARK_JSON = 1, MX_SPARK_CSV = 2 };
MX_API int mx_spark_factors_read(const char *path, int format, mx_idmap *ids, float **data,
                                 uint64_t *rows, uint64_t *cols, mx_error *err);

/* ----------------------------------------------------------------- tune */
/* Choose hyper-parameters on a validation slice of d: a share `holdout` of
 * the (user, item) pairs (by a hash of the seed and both ids) is held out,
 * a small grid around o's values is trained on the rest and scored (RMSE
 * for explicit models, NDCG@10 for implicit ones), and the best values are
 * written back into o. Grid: ials reg x alpha, mf reg x lr, bpr reg x lr,
 * als reg, bpmf alpha, ease reg (3 to 9 trainings). The test set is never
 * used. *best receives the validation score of the choice. */
MX_API int mx_train_tune(const mx_dataset *d, mx_train_options *o, double holdout, double *best,
                         mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
