/* Helpers shared by merx recommend, similar and score: top-K CSV output
 * (their id-list files are merx/idlist.h). */
#ifndef MERX_CLI_SCORE_CLI_H
#define MERX_CLI_SCORE_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "merx/data.h"
#include "merx/idlist.h"
#include "merx/model.h"
#include "merx/score.h"

/* Write a top-K result as CSV rows "query,rank,id,score". Row r's query is
 * queries[r] (or first_row + r when queries is NULL); query_ids / ids map
 * indices to names. */
void mx__write_topk_rows(FILE *f, const mx_topk_result *res, const uint32_t *queries,
                        const mx_idmap *query_ids, const mx_idmap *ids, uint32_t first_row);

/* A short float in CSV: %.6g. */
void mx__write_score(FILE *f, float v);

#endif
