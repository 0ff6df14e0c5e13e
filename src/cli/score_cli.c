/* Id-list files and top-K CSV rows for the scoring commands. */
#include "cli/score_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/pseudonym.h"

int mx_id_list_read(const char *path, const mx_idmap *map, const char *what, int fail_unknown,
                    uint32_t **out, uint32_t *n, mx_id_list_stats *st, mx_error *err) {
  return mx_id_list_read_keyed(path, map, 0, NULL, what, fail_unknown, out, n, st, err);
}

int mx_id_list_read_keyed(const char *path, const mx_idmap *map, uint64_t check,
                          const mx_hmac_key *key, const char *what, int fail_unknown,
                          uint32_t **out, uint32_t *n, mx_id_list_stats *st, mx_error *err) {
  *out = NULL;
  *n = 0;
  memset(st, 0, sizeof *st);
  mx_csv_options o = mx_csv_defaults();
  o.has_header = 0;
  mx_csv *csv;
  int rc = mx_csv_open(path, &o, &csv, err);
  if (rc == MX_EEMPTY)
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no %s ids in the file", what);
  if (rc) return rc;
  size_t cap = 1024;
  uint32_t *ids = malloc(cap * sizeof *ids);
  if (!ids) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char **fields;
  size_t *lens, nf;
  int first = 1;
  while ((rc = mx_csv_next(csv, &fields, &lens, &nf, err)) == 1) {
    if (nf == 0 || lens[0] == 0) {
      first = 0;
      continue;
    }
    int64_t idx = mx_pseudonym_find(map, key, fields[0], lens[0]);
    if (idx < 0 && first) {
      st->header = 1;
      first = 0;
      continue;
    }
    first = 0;
    st->rows++;
    if (idx < 0 && check && !key && !mx_pseudonym_shaped(fields[0], lens[0])) {
      mx_pseudonym_key_match(check, NULL, path, err); /* a real id, and no key to hash it */
      rc = err->code;
      break;
    }
    if (idx < 0) {
      if (fail_unknown) {
        rc = mx_error_at(err, MX_ENOTFOUND, path, mx_csv_line(csv), 1, NULL,
                         "unknown %s '%s' (not in the model's %u %ss)", what, fields[0],
                         mx_idmap_size(map), what);
        break;
      }
      if (st->unknown++ == 0) {
        snprintf(st->first_unknown, sizeof st->first_unknown, "%s", fields[0]);
        st->first_unknown_line = mx_csv_line(csv);
      }
      continue;
    }
    if (*n == cap) {
      uint32_t *g = realloc(ids, 2 * cap * sizeof *ids);
      if (!g) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      ids = g;
      cap *= 2;
    }
    ids[(*n)++] = (uint32_t)idx;
  }
  mx_csv_close(csv);
  if (rc < 0) {
    free(ids);
    *n = 0;
    return rc;
  }
  *out = ids;
  return MX_OK;
}

void mx_write_score(FILE *f, float v) {
  if (isnan(v)) fputs("", f);
  else fprintf(f, "%.6g", (double)v);
}

void mx_write_topk_rows(FILE *f, const mx_topk_result *res, const uint32_t *queries,
                        const mx_idmap *query_ids, const mx_idmap *ids, uint32_t first_row) {
  for (uint32_t r = 0; r < res->n; r++) {
    const char *q = mx_idmap_name(query_ids, queries ? queries[r] : first_row + r);
    for (uint32_t j = 0; j < res->count[r]; j++) {
      mx_csv_write_field(f, q, ',');
      fprintf(f, ",%u,", j + 1);
      mx_csv_write_field(f, mx_idmap_name(ids, res->ids[(size_t)r * res->k + j]), ',');
      fputc(',', f);
      mx_write_score(f, res->scores[(size_t)r * res->k + j]);
      fputc('\n', f);
    }
  }
}
