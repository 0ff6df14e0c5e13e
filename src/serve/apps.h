/* What /v1/answer borrows from /v1/search (src/serve/search.c): the product
 * index of the generation and one ranked search. */
#ifndef MERX_SERVE_APPS_H
#define MERX_SERVE_APPS_H

#include "merx/ann.h"
#include "merx/http.h"
#include "merx/search.h"
#include "serve/serve.h"

typedef struct search_state search_state;

/* The generation's search state (NULL when `search` is not configured). */
search_state *mx__serve_search_state(mx_serve_gen *gen);
const mx_embed_index *mx__serve_search_index(const search_state *s);
const mx_catalog *mx__serve_search_catalog(const search_state *s);
/* The chat/embedding service of `search.llm` (its config file); NULL when
 * none is configured. */
const mx_http_config *mx__serve_search_llm(const search_state *s);

/* Rank the index for text (filters may be NULL; user may be NULL; blend < 0:
 * the configured default). ef: 0 the exact scan; > 0 the HNSW index with
 * that beam when one is loaded; < 0 the configuration's choice (the index,
 * with search.ef, on catalogues of search.ann_min_items or more). A blend
 * with the user's taste always scans. *idx and *score (malloc'd, caller
 * frees) hold *n results, best first; *user_known says whether the user's
 * taste was used, *used_index (may be NULL) whether the index answered. */
int mx__serve_search_run(search_state *s, mx_serve_gen *gen, const char *text,
                        const mx_search_filter *filters, const char *user, double blend,
                        size_t k, long ef, const mx_cancel *cancel, uint32_t **idx, float **score,
                        size_t *n, int *user_known, int *used_index, mx_error *err);

/* A product as JSON: {"item", "score", "text", and price, category,
 * in_stock when the catalogue has them}. */
json_t *mx__serve_search_item(const search_state *s, uint32_t row, float score);

/* Keep a request's texts (roles[i], texts[i]) in the store when its policy
 * says `store_queries = yes` (store/queries.h): handed to the ledger queue's
 * writer thread, user as mx__pseudonym_user keeps it, redacted when written.
 * Nothing when queries are not kept; a full queue drops the rows (counted in
 * /metrics), never the request. */
void mx__serve_search_keep(search_state *s, const mx_serve_gen *gen, const char *source,
                          const char *user, const char *session, const char *const *roles,
                          const char *const *texts, size_t n);

/* An HTTP client for the configured service bounded by the request's
 * cancellation (deadline and shutdown). */
int mx__serve_llm_client(const mx_http_config *cfg, const mx_cancel *cancel, mx_http_client **out,
                        mx_error *err);

#endif
