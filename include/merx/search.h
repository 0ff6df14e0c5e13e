/* merx — product search: an embedding index made by `merx embed`, a product
 * catalogue for filters, and the ranking that blends a query with a user's
 * taste. Shared by `merx search` and `merx serve`'s /v1/search and /v1/answer.
 * Core only: the query vector is embedded by the caller (mx_builtin_embed, or
 * mx_openai_embed in merx/http.h, as the index's metadata says). */
#ifndef MERX_SEARCH_H
#define MERX_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include "merx/data.h"
#include "merx/error.h"
#include "merx/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- embedding index
 * Four files that are one unit: EMB.npy (vectors), EMB.ids and EMB.texts
 * (one line per row) and EMB.meta.json (how the vectors were made, with
 * fingerprints of the vectors + ids and of the texts). */
/* "x.npy" -> "x" SUFFIX (".ids", ".texts", ".meta.json"). */
MX_API void mx_embed_sidecar(const char *npy, const char *suffix, char *buf, size_t size);
/* Fingerprint of the vectors with the exact bytes of EMB.ids, and of
 * EMB.texts given that one. */
MX_API uint64_t mx_embed_fingerprint(const float *vec, uint64_t rows, uint64_t dim, const char *ids,
                                     size_t ids_len);
MX_API uint64_t mx_embed_texts_fingerprint(uint64_t fingerprint, const char *texts, size_t len);
/* Refuse (MX_EFORMAT, naming the files) vectors read from npy whose .ids or
 * .texts are not the ones EMB.meta.json's fingerprints were made with. An
 * index without fingerprints (older merx) passes. */
MX_API int mx_embed_check(const char *npy, const float *vec, uint64_t rows, uint64_t dim,
                          mx_error *err);

typedef struct mx_embed_index {
  float *rows;          /* n x dim, aligned (mx_free_aligned) */
  uint64_t n, dim;
  mx_idmap *ids;        /* row -> item id */
  char **texts;         /* row -> text ("" when EMB.texts is absent) */
  char *texts_buf;
  /* EMB.meta.json: "builtin:..." (mx_builtin_embed_parse) or "openai" */
  char embedder[160];
  char base_url[512];
  char model[128];
  char key_env[128];
  uint32_t dimensions;
} mx_embed_index;

/* Load and check the four files of npy. *out owned by the caller. */
MX_API int mx_embed_index_load(const char *npy, mx_embed_index **out, mx_error *err);
MX_API void mx_embed_index_free(mx_embed_index *ix);

/* ---------------------------------------------------------- catalogue
 * A product CSV with a header: `item` (required), `price`, `in_stock`
 * (0/1, true/false, or a stock count: > 0 is in stock) and `category`
 * (optional; a missing column leaves every product unfiltered by it). */
typedef struct mx_catalog {
  mx_idmap *items;
  double *price;        /* NAN: unknown (or no column) */
  signed char *in_stock;/* 1, 0, or -1: unknown */
  uint32_t *category;   /* index into categories; UINT32_MAX: none */
  mx_idmap *categories;
} mx_catalog;

MX_API int mx_catalog_load(const char *path, mx_catalog **out, mx_error *err);
MX_API void mx_catalog_free(mx_catalog *c);

/* Filters of a search; a field left at its default does not filter. An
 * item the catalogue does not know passes no filter that is set. */
typedef struct mx_search_filter {
  double price_min, price_max;   /* -inf / +inf */
  int in_stock;                  /* 1: in stock only; 0: any */
  const char *category;          /* NULL: any */
} mx_search_filter;

MX_API mx_search_filter mx_search_filter_defaults(void);
/* Fill keep[0..ix->n) with 1 for the rows that pass. Returns how many pass.
 * cat may be NULL only when no filter is set. */
MX_API size_t mx_search_filter_rows(const mx_embed_index *ix, const mx_catalog *cat,
                                    const mx_search_filter *f, unsigned char *keep);

/* ------------------------------------------------------------- ranking
 * Without taste, rows are ranked by the cosine of their vector and the
 * query. With taste (the user's collaborative score of each row, NAN for
 * items the model does not know), both scores are z-scored over the
 * candidate rows and blended:
 *     s = (1 - blend) * z(cosine) + blend * z(taste)     (unknown taste: z = 0)
 * so the weight means what it says whatever the spread of either score:
 * blend 0.5 weighs one standard deviation of query match as much as one of
 * taste, and below 0.5 the query dominates. (Min-max scaling, which merx
 * search used before, stretched the taste over 0..1 while cosines of text
 * vary by a few tenths, so even 0.3 let a user's taste swamp the query.)
 * Exact scan of every candidate row: an approximate index plugs in here for
 * catalogues too large to scan. */
#define MX_SEARCH_BLEND_DEFAULT 0.25

typedef struct mx_search_query {
  const float *vector;        /* ix->dim floats */
  const float *taste;         /* ix->n scores, or NULL */
  double blend;               /* 0..1, weight of taste */
  const unsigned char *keep;  /* ix->n flags, or NULL: every row */
  size_t k;
} mx_search_query;

/* The taste of a query: user u's (< m->n_users) score of every row of ix
 * into taste[0..ix->n), NAN for the items m does not know. */
MX_API void mx_search_taste(const mx_embed_index *ix, const mx_model *m, uint32_t u, float *taste);

/* Best rows first (ties: lower row), up to k: idx (row) and score (cosine
 * without taste, the blend with it); *count of them. MX_ENOMEM or MX_OK. */
MX_API int mx_search_rank(const mx_embed_index *ix, const mx_search_query *q, uint32_t *idx,
                          float *score, size_t *count, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
