/* Helpers shared by merx recommend, similar and score: id-list files and
 * top-K CSV output. */
#ifndef MERX_CLI_SCORE_CLI_H
#define MERX_CLI_SCORE_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "merx/data.h"
#include "merx/model.h"
#include "merx/score.h"

/* What reading an id list saw. */
typedef struct mx_id_list_stats {
  uint64_t rows;           /* ids read (header excluded) */
  uint64_t unknown;        /* ids not in the map */
  char first_unknown[128]; /* the first of them */
  long first_unknown_line;
  int header;              /* 1: the first line was taken as a header */
} mx_id_list_stats;

/* Read the first field of every line of path as an id of map. A first line
 * that is not a known id is a header (e.g. "CustomerID"). Unknown ids:
 * with fail_unknown, MX_ENOTFOUND naming file:line and the id; otherwise
 * counted in st and left out. *out (malloc'd, caller frees) holds the
 * indices in file order; *n their number. */
int mx_id_list_read(const char *path, const mx_idmap *map, const char *what, int fail_unknown,
                    uint32_t **out, uint32_t *n, mx_id_list_stats *st, mx_error *err);
/* The same for a map of pseudonyms (a model's users whose key check value
 * is check, PRIVACY.md): an id not found as given is looked up as its
 * pseudonym under key; with key NULL, such an id that is not of a
 * pseudonym's shape fails with MX_EINVAL (the key is needed). */
struct mx_hmac_key;
int mx_id_list_read_keyed(const char *path, const mx_idmap *map, uint64_t check,
                          const struct mx_hmac_key *key, const char *what, int fail_unknown,
                          uint32_t **out, uint32_t *n, mx_id_list_stats *st, mx_error *err);

/* Write a top-K result as CSV rows "query,rank,id,score". Row r's query is
 * queries[r] (or first_row + r when queries is NULL); query_ids / ids map
 * indices to names. */
void mx_write_topk_rows(FILE *f, const mx_topk_result *res, const uint32_t *queries,
                        const mx_idmap *query_ids, const mx_idmap *ids, uint32_t first_row);

/* A short float in CSV: %.6g. */
void mx_write_score(FILE *f, float v);

#endif
