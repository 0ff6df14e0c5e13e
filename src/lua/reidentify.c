/* `merx run --reidentify FILE`: activation outputs (the coupon list for the
 * e-mail tool) with real ids. A store key makes every id a script sees a
 * pseudonym (PRIVACY.md); FILE lists the real ids the operator is entitled to
 * use (first column, or the column named `user`), each is hashed with the
 * key, and the `user` field of KIND.csv / KIND.jsonl gets the real id back.
 * The ledger, run history and every other file keep pseudonyms. */
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "merx/csv.h"
#include "merx/idmap.h"
#include "util/pseudonym.h"

struct mx_reid {
  mx_idmap *pseudonyms; /* index -> ids[index] */
  char **ids;
  size_t cap;
  uint64_t replaced, missing; /* output rows re-identified / left pseudonymous */
};

void mx__reid_free(mx_reid *r) {
  if (!r) return;
  for (uint32_t i = 0; i < mx_idmap_size(r->pseudonyms); i++) free(r->ids[i]);
  free(r->ids);
  mx_idmap_free(r->pseudonyms);
  free(r);
}

int mx__reid_load(mx_run *run, const char *path, mx_error *err) {
  if (!run->pseudo)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "--reidentify: the store has no key, so outputs hold the real ids already");
  mx_reid *r = calloc(1, sizeof *r);
  if (!r || !(r->pseudonyms = mx_idmap_create())) {
    free(r);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 0;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc != MX_OK) {
    mx__reid_free(r);
    return rc;
  }
  char **f;
  size_t *l, nf;
  int col = 0, line = 0, got;
  while ((got = mx_csv_next(csv, &f, &l, &nf, err)) == 1) {
    if (line++ == 0) { /* a header naming `user` picks that column */
      int header = 0;
      for (size_t i = 0; i < nf; i++)
        if (l[i] == 4 && memcmp(f[i], "user", 4) == 0) col = (int)i, header = 1;
      if (header) continue;
    }
    if ((size_t)col >= nf || l[col] == 0) continue;
    const char *p = mx__pseudonymise(run->pseudo, f[col], l[col]);
    uint32_t before = mx_idmap_size(r->pseudonyms);
    if (before >= r->cap) {
      size_t cap = r->cap ? 2 * r->cap : 1024;
      char **n = realloc(r->ids, cap * sizeof *n);
      if (!n) break;
      r->ids = n;
      r->cap = cap;
    }
    int64_t i = p ? mx_idmap_intern(r->pseudonyms, p, MX_PSEUDONYM_LEN) : -1;
    if (i < 0) break;
    if ((uint32_t)i == before && !(r->ids[i] = mx__strndup(f[col], l[col]))) {
      got = -1;
      break;
    }
  }
  mx_csv_close(csv);
  if (got != 0) {
    mx__reid_free(r);
    return got < 0 && err->code ? err->code : mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  run->reid = r;
  return MX_OK;
}

const char *mx__reid_lookup(mx_reid *r, const char *pseudonym, size_t len, size_t *out_len) {
  int64_t i = len == MX_PSEUDONYM_LEN ? mx_idmap_find(r->pseudonyms, pseudonym, len) : -1;
  if (i < 0) {
    r->missing++;
    return NULL;
  }
  r->replaced++;
  *out_len = strlen(r->ids[i]);
  return r->ids[i];
}

void mx__reid_counts(const mx_reid *r, uint64_t *replaced, uint64_t *missing) {
  *replaced = r ? r->replaced : 0;
  *missing = r ? r->missing : 0;
}
