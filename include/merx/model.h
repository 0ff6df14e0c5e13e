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

#ifdef __cplusplus
}
#endif
#endif
