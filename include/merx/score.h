/* merx — scoring and retrieval: top-K for many users at once, filters,
 * similar items and users, score matrices, explanations.
 *
 * Scores follow the formulas in merx/model.h:
 *     factor models:  global_mean + user_bias[u] + item_bias[i] + <P_u, Q_i>
 *                     (each term present only when the model has it)
 *     ease:           sum over the user's seen items j of B[j, i]
 * Rankings and reported scores are the full score, so the item bias of an
 * explicit model changes the order and the user bias / global mean only the
 * reported value. Explicit models report scores clipped to the training
 * rating range (m->rating_min..rating_max, as mx_model_predict does); the
 * ranking uses the unclipped value, so items at the cap keep their order.
 *
 * Top-K never materialises the users x items matrix: scores are produced tile
 * by tile (cblas_sgemm of a block of user vectors against a block of item
 * vectors, tiles sized for the L2 cache), and each tile is reduced at once
 * into per-user bounded heaps. Threads take blocks of users; OpenBLAS is kept
 * at one thread inside them.
 *
 * Determinism: results depend only on the scores. Equal scores are ordered by
 * item index (smaller first), so a given model, query and option set always
 * returns the same lists for any thread count. (A different tile shape may
 * change the last bit of a score, as BLAS kernels differ at the edges.) Items
 * whose score is NaN or -infinity are never returned.
 *
 * Indices: users and items are the model's dense indices (mx_idmap_find on
 * m->users / m->items maps string ids). */
#ifndef MERX_SCORE_H
#define MERX_SCORE_H

#include <stdint.h>
#include "merx/error.h"
#include "merx/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a top-K list has fewer than k entries (not enough eligible items). */
#define MX_TOPK_NONE UINT32_MAX

typedef struct mx_topk_options {
  uint32_t k;                 /* results per user; default 10 */
  int include_seen;           /* 0 (default): skip the user's training items (m->seen) */
  /* Candidate set: only these items (model indices; any order; duplicates
   * ignored). NULL: every item. A non-NULL list with n_candidates == 0 is
   * an empty set and an error (MX_EEMPTY). */
  const uint32_t *candidates;
  uint32_t n_candidates;
  /* Attribute filter: a bitset over the model's items (bit i of word i/64);
   * only items whose bit is set are eligible. NULL: no filter. Combined with
   * the candidate set by intersection. */
  const uint64_t *item_mask;
  int threads;                /* <= 0: all cores */
  /* Tile shape (users x items); 0 picks one that fits the L2 cache. Exposed
   * so tests can force tiles that do not divide the sizes. */
  uint32_t tile_users;
  uint32_t tile_items;
  /* Optional progress report, called from one thread with the number of
   * users finished so far (not every user; roughly per block). */
  void (*progress)(void *ctx, uint64_t done);
  void *progress_ctx;
  const mx_cancel *cancel;    /* polled per block of users; NULL = none */
  /* Quantised first pass (mx_item_bf16_build over this model's item
   * factors; NULL = the exact float scan). Used by the factor path when no
   * candidate set or item filter is given: a bf16 scan keeps the best
   * k·candidate_factor items per user, those are rescored exactly, and a
   * row is kept only when the bf16 error bound proves nothing outside them
   * can enter its top k; other rows are rescanned exactly. So the lists are
   * the exact ones, and the scores exact floats (a dot product accumulated
   * in double, which may differ from the sgemm's in the last bit). */
  const struct mx_item_bf16 *approx;
  uint32_t approx_factor;     /* candidates per result in the first pass; 0 = 4 */
} mx_topk_options;

/* Defaults: k = 10, exclude seen, no filters, all cores, automatic tiles. */
MX_API mx_topk_options mx_topk_defaults(void);

/* Top-K lists for n queries. Row r holds entries [r*k, r*k + count[r]) in
 * rank order (best first); the rest of the row is MX_TOPK_NONE / NaN. k is
 * the requested K clamped to the number of eligible items (so a K larger
 * than the catalogue costs no memory). All arrays owned; free with
 * mx_topk_result_free. */
typedef struct mx_topk_result {
  uint32_t n;        /* queries (users, or items for similar items) */
  uint32_t k;        /* row length */
  uint32_t *ids;     /* n x k item (or user) indices */
  float *scores;     /* n x k scores */
  uint32_t *count;   /* n: valid entries per row */
  uint32_t eligible; /* items that passed the candidate set and filters */
  uint32_t approx_rows; /* rows answered by the quantised first pass (opt->approx) */
  uint32_t exact_rows;  /* rows the exact scan answered (all without opt->approx) */
} mx_topk_result;

/* A bf16 copy of a model's item factors laid out for the quantised first
 * pass of top-K (mx_topk_options.approx): half the memory traffic of the
 * float matrix, and AVX-512 BF16 dot products where the CPU has them (a
 * portable loop elsewhere). Built once per model (merx serve does at load);
 * borrows nothing: the model may be freed first, but the copy is only valid
 * for that model. NULL: no item factors (EASE), or out of memory. */
typedef struct mx_item_bf16 mx_item_bf16;
MX_API mx_item_bf16 *mx_item_bf16_build(const mx_model *m);
MX_API void mx_item_bf16_free(mx_item_bf16 *q); /* accepts NULL */
/* 1 when the AVX-512 BF16 kernel is used (MERX_NO_AVX512 set: never). */
MX_API int mx_item_bf16_native(void);

MX_API void mx_topk_result_free(mx_topk_result *r); /* accepts NULL; frees r too */

/* Top-K items for each of the n users (model indices; NULL users = all
 * m->n_users users in order, n ignored). Errors: MX_EINVAL (index out of
 * range, k = 0), MX_EEMPTY (empty candidate set or nothing eligible after
 * filtering), MX_ENOMEM. *out is NULL on error. */
MX_API int mx_topk_batch(const mx_model *m, const uint32_t *users, uint32_t n,
                         const mx_topk_options *opt, mx_topk_result **out, mx_error *err);

/* Top-K for users who are not rows of the model (fold-in vectors, imported
 * vectors): vectors is n x m->factors row-major; user_bias (n, or NULL) is
 * added like a trained user bias; history (rows = n, indices = model items,
 * or NULL) is excluded unless opt->include_seen. For an EASE model vectors
 * must be NULL and history gives each user's items (the scores). */
MX_API int mx_topk_vectors(const mx_model *m, const float *vectors, const float *user_bias,
                           const mx_csr *history, uint32_t n, const mx_topk_options *opt,
                           mx_topk_result **out, mx_error *err);

/* Top-K for one user who is not a row of the model, from the items they
 * interacted with (model indices, in any order, repeats summed; values NULL
 * = all 1): folded in (mx_model_fold_in) and scored like a model user, the
 * history excluded unless opt->include_seen. EASE models score the history
 * directly. An empty history gives a zero vector (biases only). gram: the
 * model's mx_model_item_gram, or NULL to compute it (iALS only). */
MX_API int mx_topk_history(const mx_model *m, const uint32_t *items, const float *values, size_t n,
                           const float *gram, const mx_topk_options *opt, mx_topk_result **out,
                           mx_error *err);

/* Full scores of n users against n_items items: out is n x n_items
 * row-major (caller-allocated). users / items NULL mean all, in order (the
 * matching count is then ignored and taken from the model). One sgemm for
 * factor models. For the Lua layer's model:score(users, items). */
MX_API int mx_score_matrix(const mx_model *m, const uint32_t *users, uint32_t n_users,
                           const uint32_t *items, uint32_t n_items, int threads, float *out,
                           mx_error *err);

/* Scores of n (user, item) pairs: out[p] = score(users[p], items[p]). */
MX_API int mx_score_pairs(const mx_model *m, const uint32_t *users, const uint32_t *items,
                          uint64_t n, float *out, mx_error *err);

/* Similar items / users. Cosine (default) divides by the vector norms; dot
 * uses the raw inner product. The query itself is excluded. For EASE models
 * similar items are the largest B[q, i] (the learned item-item weights) and
 * the metric is ignored; similar users is not defined for EASE (MX_EINVAL).
 * opt: k, candidates / item_mask (for similar items; for similar users they
 * filter users), threads, tiles; include_seen is ignored. */
typedef enum mx_similarity { MX_SIM_COSINE = 0, MX_SIM_DOT = 1 } mx_similarity;
MX_API int mx_similar_items(const mx_model *m, const uint32_t *items, uint32_t n,
                            mx_similarity metric, const mx_topk_options *opt,
                            mx_topk_result **out, mx_error *err);
MX_API int mx_similar_users(const mx_model *m, const uint32_t *users, uint32_t n,
                            mx_similarity metric, const mx_topk_options *opt,
                            mx_topk_result **out, mx_error *err);
/* Rows of v (n x k) scaled to unit length (zero rows stay zero): the
 * vectors cosine similarity scans, for callers that keep them between
 * calls (merx serve, once per model). A model view whose item_factors are
 * these rows gives with MX_SIM_DOT exactly what MX_SIM_COSINE gives on the
 * model. 64-byte aligned; NULL when out of memory; free with
 * mx_unit_rows_free. */
MX_API float *mx_unit_rows(const float *v, uint32_t n, uint32_t k);
MX_API void mx_unit_rows_free(float *rows);
/* The similarity of given pairs (a[p], b[p]) under metric, items or users. */
MX_API int mx_similarity_pairs(const mx_model *m, int of_users, const uint32_t *a,
                               const uint32_t *b, uint64_t n, mx_similarity metric, float *out,
                               mx_error *err);

/* Explanations: why item i is recommended to user u, as the user's training
 * items that contribute most to the score.
 *  - ials / als: Hu, Koren & Volinsky (2008) §5. The user factor solves
 *    x_u = W_u Σ_j c_uj p_uj y_j with W_u = (YᵀC^uY + λI)^-1, so the score
 *    splits as ŷ_ui = Σ_j (y_iᵀ W_u y_j) c_uj p_uj: contribution of j =
 *    s_ij^u c_uj p_uj (for explicit ALS, c = 1 and p is the rating minus the
 *    biases). W_u is computed per user on demand (k x k Cholesky in double).
 *    The contributions add up to the score when the user vector is the exact
 *    solution for the final item factors (a user half-step last).
 *  - ease: contribution of j = B[j, i], which adds up to the score exactly.
 *  - other factor models: cosine similarity between Q_i and Q_j.
 * For each of n (user, item) pairs, up to top contributions (largest first)
 * are written to items_out[p*top ..] / weight_out[p*top ..] and their number
 * to count[p]. Pairs with the same user next to each other share W_u. */
MX_API int mx_explain(const mx_model *m, const uint32_t *users, const uint32_t *items, uint32_t n,
                      uint32_t top, uint32_t *items_out, float *weight_out, uint32_t *count,
                      mx_error *err);

/* Bitset helpers for item_mask: words needed for n bits, set bit i. */
static inline uint64_t mx_bitset_words(uint32_t n) { return ((uint64_t)n + 63) / 64; }
static inline void mx_bitset_set(uint64_t *b, uint32_t i) { b[i >> 6] |= (uint64_t)1 << (i & 63); }
static inline int mx_bitset_test(const uint64_t *b, uint32_t i) {
  return (int)((b[i >> 6] >> (i & 63)) & 1u);
}

#ifdef __cplusplus
}
#endif
#endif
