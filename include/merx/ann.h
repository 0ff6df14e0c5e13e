/* merx — approximate nearest neighbours: an HNSW graph over a matrix of
 * vectors (a model's item or user factors, text embeddings), for similar
 * items and search in catalogues where the exact scan (merx/score.h) is too
 * slow per query.
 *
 * Algorithm: Malkov & Yashunin, "Efficient and robust approximate nearest
 * neighbor search using Hierarchical Navigable Small World graphs", IEEE
 * TPAMI 2018 (arXiv:1603.09320). Node levels are drawn as
 * floor(-ln(U) * mL) with mL = 1/ln(M); insertion is Algorithm 1 (greedy
 * descent with ef = 1 through the levels above the node's, then a beam of
 * ef_construction per level, Algorithm 2), neighbours are chosen with the
 * heuristic of Algorithm 4 (no extended candidates, pruned ones not kept),
 * and queries are Algorithm 5 (greedy descent, then a beam of ef on level 0).
 * Nodes keep at most M links on levels >= 1 and 2M on level 0.
 *
 * Metrics: cosine (text embeddings, similar items by cosine) and inner
 * product (recommendation factors). Inner product is not a metric; the graph
 * is built and searched with the inner product itself, as ip-NSW does
 * (Morozov & Babenko, "Non-metric similarity graphs for maximum inner
 * product search", NeurIPS 2018), heuristic included. The usual reduction to
 * cosine (Bachrach et al., RecSys 2014: one extra coordinate
 * sqrt(Phi^2 - |x|^2)) was measured here and rejected: on 20k clustered
 * 64-d vectors with lengths 0.2..2.2 it reached recall@10 0.55 at ef 20 and
 * 0.98 only at ef 160, against 0.986 at ef 20 for the direct graph. Reported
 * scores are the exact metric of the original vectors.
 *
 * Build: batches of nodes are inserted in parallel (ParlayANN's batch
 * insertion, Manohar et al., PPoPP 2024): every node of a batch searches the
 * graph as it was before the batch, then the new nodes' links are written and
 * the reverse links are added target by target (one thread per target, new
 * sources in insertion order). Batch sizes depend only on how many nodes are
 * already in the graph (1, then 1/8 of it, at most 1024), so the index is the
 * same bytes for a given seed, whatever the thread count. Nodes are inserted
 * in a seed-shuffled order. (The AVX2 and portable dot products may differ
 * in the last bit, so machines with and without AVX2 can build different
 * graphs from one seed.)
 *
 * The index refers to the vectors, it does not copy them: it keeps a
 * fingerprint of them (mx_ann_fingerprint) and the caller hands the same
 * vectors to mx_ann_load, which refuses others. */
#ifndef MERX_ANN_H
#define MERX_ANN_H

#include <stdint.h>
#include "merx/error.h"
#include "merx/model.h"
#include "merx/score.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mx_ann_metric { MX_ANN_COSINE = 0, MX_ANN_DOT = 1 } mx_ann_metric;

typedef struct mx_ann_options {
  uint32_t M;               /* links per node on levels >= 1; 2M on level 0 (default 16, 2..128) */
  uint32_t ef_construction; /* beam width while inserting (default 200, >= M) */
  mx_ann_metric metric;     /* default cosine */
  uint64_t seed;            /* levels and insertion order (default 1) */
  int threads;              /* <= 0: all cores */
  const char *source;       /* a label kept in the file for messages ("shop.mxm items"); may be NULL */
  void (*progress)(void *ctx, uint64_t done); /* nodes inserted so far, per batch; may be NULL */
  void *progress_ctx;
  const mx_cancel *cancel;  /* polled per batch; NULL = none */
} mx_ann_options;

MX_API mx_ann_options mx_ann_defaults(void);

typedef struct mx_ann mx_ann; /* opaque */

/* Build an index over n rows of vectors (n x dim, row-major). The vectors
 * are borrowed: they must outlive *out (searches read them). Errors:
 * MX_EINVAL (bad options, n = 0 or dim = 0, a non-finite value),
 * MX_EINTERRUPTED / MX_ELIMIT (cancelled), MX_ENOMEM. */
MX_API int mx_ann_build(const float *vectors, uint32_t n, uint32_t dim, const mx_ann_options *opt,
                        mx_ann **out, mx_error *err);

/* Fingerprint of a matrix of vectors as the index file records it. */
MX_API uint64_t mx_ann_fingerprint(const float *vectors, uint32_t n, uint32_t dim);

/* File (.hnsw, little-endian): a 512-byte header (magic "MERXHNSW", format
 * version, metric, counts, M, ef_construction, entry point, the fingerprint
 * of the vectors, the source label, a section table, a payload checksum and
 * a header checksum), then 64-byte aligned flat arrays: per-node scale (1/|x|
 * for cosine, 1 for inner product), per-node level, per-node first
 * upper-level block, level-0 links (n x (2M + 1) u32: count, ids) and
 * upper-level links (blocks of M + 1 u32). Written atomically. */
#define MX_ANN_FORMAT_VERSION 1
MX_API int mx_ann_save(const mx_ann *ix, const char *path, mx_error *err);

/* Map path (mmap, no parse step) and bind it to vectors (n x dim, borrowed:
 * must outlive *out). A missing, truncated, corrupt (checksums, links out of
 * range) or foreign file, an unsupported version, or an index built for
 * other vectors (fingerprint, count or dimension differ: a stale index) fails
 * with MX_EFORMAT / MX_EIO and a message naming path and, for a stale index,
 * vectors_name (e.g. "shop.mxm (items)") and the source the index was built
 * from. vectors NULL maps the file for mx_ann_get_info only (searches then
 * fail with MX_ESTATE). */
MX_API int mx_ann_load(const char *path, const float *vectors, uint32_t n, uint32_t dim,
                       const char *vectors_name, mx_ann **out, mx_error *err);
/* Accepts NULL. Unmaps or frees; never touches the vectors. */
MX_API void mx_ann_free(mx_ann *ix);

typedef struct mx_ann_info {
  mx_ann_metric metric;
  uint32_t n, dim, M, ef_construction;
  int max_level;
  uint64_t fingerprint;
  uint64_t bytes;      /* size of the graph (the file size once saved) */
  uint64_t links;      /* directed links on all levels */
  char source[200];
} mx_ann_info;
MX_API void mx_ann_get_info(const mx_ann *ix, mx_ann_info *out);
MX_API mx_ann_metric mx_ann_get_metric(const mx_ann *ix);
MX_API const char *mx_ann_metric_name(mx_ann_metric m);

/* The k nearest rows to one query vector (dim floats; any length: cosine
 * and inner product rankings do not depend on it), searching with a beam of
 * ef (raised to k when smaller; larger ef: better recall, slower).
 * item_mask (bit i = row i may be returned, NULL = all) and exclude (a row
 * never returned, e.g. the query item itself; UINT32_MAX = none) filter the
 * results, not the walk, so a mask that keeps few rows costs many visits:
 * use the exact scan for small candidate sets. ids/scores receive up to k
 * entries, best first (ties by smaller row), scores in the index's metric;
 * *count how many. Thread-safe: any number of searches may run at once on
 * one index. Errors: MX_EINVAL (k = 0), MX_ENOMEM. */
MX_API int mx_ann_search(const mx_ann *ix, const float *query, uint32_t k, uint32_t ef,
                         const uint64_t *item_mask, uint32_t exclude, uint32_t *ids,
                         float *scores, uint32_t *count, mx_error *err);

/* Similar items (or users) of a model through an index built on its item
 * (user) factors: the approximate counterpart of mx_similar_items /
 * mx_similar_users, with the same result layout (merx/score.h) and the query
 * left out. The index must have been loaded or built on m's item_factors
 * (user_factors) and its metric must match metric (MX_SIM_COSINE /
 * MX_SIM_DOT), else MX_EINVAL. opt: k, candidates / item_mask (filters),
 * threads, cancel; tiles and include_seen are ignored. */
MX_API int mx_ann_similar(const mx_model *m, const mx_ann *ix, int of_users,
                          const uint32_t *queries, uint32_t n, mx_similarity metric, uint32_t ef,
                          const mx_topk_options *opt, mx_topk_result **out, mx_error *err);

/* Nearest rows for n query vectors (n x dim), in parallel: the batch form
 * of mx_ann_search with the layout of merx/score.h. exclude (n, or NULL)
 * gives a row to leave out per query. opt: k, candidates / item_mask,
 * threads, cancel. */
MX_API int mx_ann_search_batch(const mx_ann *ix, const float *queries, uint32_t n, uint32_t ef,
                               const uint32_t *exclude, const mx_topk_options *opt,
                               mx_topk_result **out, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
