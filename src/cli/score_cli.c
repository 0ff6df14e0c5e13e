/* Top-K CSV rows for the scoring commands. */
#include "cli/score_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mx__write_score(FILE *f, float v) {
  if (isnan(v)) fputs("", f);
  else fprintf(f, "%.6g", (double)v);
}

void mx__write_topk_rows(FILE *f, const mx_topk_result *res, const uint32_t *queries,
                        const mx_idmap *query_ids, const mx_idmap *ids, uint32_t first_row) {
  for (uint32_t r = 0; r < res->n; r++) {
    const char *q = mx_idmap_name(query_ids, queries ? queries[r] : first_row + r);
    for (uint32_t j = 0; j < res->count[r]; j++) {
      mx_csv_write_field(f, q, ',');
      fprintf(f, ",%u,", j + 1);
      mx_csv_write_field(f, mx_idmap_name(ids, res->ids[(size_t)r * res->k + j]), ',');
      fputc(',', f);
      mx__write_score(f, res->scores[(size_t)r * res->k + j]);
      fputc('\n', f);
    }
  }
}
