/* merx — content vectors: the built-in text embedder, .npy matrices, and the
 * cold-start map from text embeddings to collaborative item factors.
 * Core only (no network): remote embeddings are in merx/http.h. */
#ifndef MERX_EMBED_H
#define MERX_EMBED_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"
#include "merx/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------- built-in embedder
 * Feature hashing ("the hashing trick", Weinberger et al., ICML 2009) of
 * word unigrams, word bigrams and character n-grams of each word padded with
 * boundary marks ("<lantern>" -> "<la", "lan", ...; fastText's subwords,
 * Bojanowski et al., TACL 2017). Each feature adds ±weight at a hashed
 * coordinate (the sign from a second hash keeps inner products unbiased).
 * Word and subword parts are each L2-normalised, mixed, and the sum
 * L2-normalised, so the cosine of two texts is their blended overlap. Text is
 * lower-cased (ASCII) and split on anything that is not a letter, digit or a
 * byte >= 0x80. Deterministic: same text, options -> same vector, anywhere. */
typedef struct mx_builtin_embed_options {
  uint32_t dim;        /* output dimension (default 256) */
  int char_min;        /* smallest character n-gram (default 3); 0 disables subwords */
  int char_max;        /* largest (default 5) */
  int word_bigrams;    /* 1 (default): add adjacent word pairs */
  float subword_weight;/* share of the subword part, 0..1 (default 0.5) */
  uint64_t seed;       /* hash seed (default 0) */
} mx_builtin_embed_options;

MX_API mx_builtin_embed_options mx_builtin_embed_defaults(void);
/* A stable name of the embedder and its options, e.g.
 * "builtin:d256:c3-5:b1:s0.50:h0"; written next to embeddings so a query is
 * embedded the same way. */
MX_API void mx_builtin_embed_name(const mx_builtin_embed_options *opt, char *buf, size_t size);
/* Parse such a name back (MX_EINVAL when it is not one). */
MX_API int mx_builtin_embed_parse(const char *name, mx_builtin_embed_options *opt, mx_error *err);
/* Embed n NUL-terminated texts into out (n x opt->dim floats, caller-owned).
 * A text without any word gets the zero vector. threads <= 0: all cores. */
MX_API int mx_builtin_embed(const char *const *texts, size_t n, const mx_builtin_embed_options *opt,
                            int threads, float *out, mx_error *err);

/* .npy files: mx_npy_write / mx_npy_read in merx/model.h. */

/* ----------------------------------------------------------- cold start
 * Ridge regression from content vectors x (dim d) to item factors q (dim k),
 * fitted on items that have both:
 *     W = argmin ||(X - 1 mx') W - (Q - 1 mq')||_F^2 + lambda ||W||_F^2
 *       = (Xc'Xc + lambda I)^-1 Xc'Qc,
 * with centred X and Q so the intercept q0 = mq - W'mx is not shrunk
 * (Hastie, Tibshirani & Friedman, ESL 2nd ed., §3.4.1). A new item's factors
 * are q = q0 + W'x. Solved in double precision with Cholesky (LAPACK dposv). */
typedef struct mx_coldstart {
  uint32_t in_dim;  /* d */
  uint32_t out_dim; /* k */
  double lambda;
  float *w;         /* d x k, row-major */
  float *bias;      /* k: q0 */
  double r2_train;  /* share of factor variance explained on the fitted items */
  size_t n_fit;
} mx_coldstart;

/* Fit on n rows: x (n x d) and q (n x k), row-major. *out owned by the caller. */
MX_API int mx_coldstart_fit(const float *x, const float *q, size_t n, uint32_t d, uint32_t k,
                            double lambda, mx_coldstart **out, mx_error *err);
/* Map n content vectors (n x d) to factors (n x k, caller-owned out). */
MX_API void mx_coldstart_apply(const mx_coldstart *m, const float *x, size_t n, float *out);
MX_API void mx_coldstart_free(mx_coldstart *m);

/* A copy of base with n_new items appended (ids[i], factors new_factors[i],
 * row-major n_new x base->factors; item bias 0). Users, seen items and
 * every other field are kept. base must have factors (not ease). An id that
 * base already knows is an error. *out owned by the caller. */
MX_API int mx_model_add_items(const mx_model *base, const char *const *ids,
                              const float *new_factors, size_t n_new, mx_model **out,
                              mx_error *err);

/* What `merx coldstart map` does with a model and an embedding index:
 * x (rows x d, row-major) with ids[r] the item id of row r. The map is
 * fitted (ridge penalty reg) on the rows whose item base knows, and every
 * other row is appended as a new item with mapped factors
 * (mx_model_add_items). With shrink N > 0 each fitted item's factors are
 * also pulled towards its mapped ones: q = (n q + N q_text) / (n + N), n
 * the item's training users (a content prior, as in Agarwal & Chen's RLFM,
 * KDD 2009). *out owned by the caller; st receives the counts and the fit's
 * R^2. A model without item factors (ease) is MX_EINVAL. */
typedef struct mx_coldstart_stats {
  size_t fit, added, shrunk;
  double r2_train;
} mx_coldstart_stats;

MX_API int mx_coldstart_extend(const mx_model *base, const float *x, uint64_t rows, uint32_t d,
                               const char *const *ids, double reg, double shrink, mx_model **out,
                               mx_coldstart_stats *st, mx_error *err);

/* Ranking quality when each test user is shown only the candidate items
 * (new items, for cold start): for every user of test with at least one test
 * item among the candidates, the candidates are ranked by the model's score
 * (the user's training items excluded) and compared with the user's test
 * items among the candidates. recall@K = hits / |T_u|; NDCG@K with binary
 * gains and the ideal DCG over min(|T_u|, K) (Jarvelin & Kekalainen 2002);
 * precision@K = hits / K; hit rate = share of users with a hit. Averages over
 * users. Pairs whose user or item the model does not know are skipped. */
typedef struct mx_rank_metrics {
  double precision, recall, ndcg, hit_rate;
  size_t users;      /* users evaluated */
  size_t pairs;      /* test pairs used */
} mx_rank_metrics;

MX_API int mx_rank_candidates_eval(const mx_model *m, const uint32_t *candidates, size_t nc,
                                   const mx_pairs *test, size_t k, mx_rank_metrics *out,
                                   mx_error *err);

/* ------------------------------------------------------------ ranking
 * Cosine top-K of one query against rows of a matrix (rows assumed
 * L2-normalised or not: scores are cosines either way). Fills idx/score with
 * up to k entries, best first, ties by lower index. Returns the count. */
MX_API size_t mx_cosine_topk(const float *rows, size_t n, uint32_t dim, const float *query,
                             size_t k, uint32_t *idx, float *score);

#ifdef __cplusplus
}
#endif
#endif
