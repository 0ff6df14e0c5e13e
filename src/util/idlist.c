/* Files of ids, one per line (merx/idlist.h): lists resolved against a
 * model's id map, and lists of the ids themselves. */
#include "merx/idlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/csv.h"
#include "util/pseudonym.h"
#include "util/util.h"

int mx_id_list_read(const char *path, const mx_idmap *map, const char *what, int fail_unknown,
                    uint32_t **out, uint32_t *n, mx_id_list_stats *st, mx_error *err) {
  return mx__id_list_read_keyed(path, map, 0, NULL, what, fail_unknown, out, n, st, err);
}

int mx__id_list_read_keyed(const char *path, const mx_idmap *map, uint64_t check,
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
    int64_t idx = mx__pseudonym_find(map, key, fields[0], lens[0]);
    if (idx < 0 && first) {
      st->header = 1;
      first = 0;
      continue;
    }
    first = 0;
    st->rows++;
    if (idx < 0 && check && !key && !mx__pseudonym_shaped(fields[0], lens[0])) {
      mx__pseudonym_key_match(check, NULL, path, err); /* a real id, and no key to hash it */
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

void mx_id_lines_free(char **ids, size_t n) {
  for (size_t i = 0; ids && i < n; i++) free(ids[i]);
  free(ids);
}

/* One id of line `line`: into unique (a repeat is an error) and onto the list. */
static int take(const char *path, long line, const char *id, size_t len, mx_idmap *unique,
                char ***ids, size_t *n, mx_error *err) {
  if (unique) {
    uint32_t before = mx_idmap_size(unique);
    if (mx_idmap_intern(unique, id, len) < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
    if (mx_idmap_size(unique) == before)
      return mx_error_at(err, MX_EPARSE, path, line, 1, NULL, "id '%.*s' appears twice",
                         (int)(len > 64 ? 64 : len), id);
  }
  if (!ids) return MX_OK;
  char **d = realloc(*ids, (*n + 1) * sizeof *d);
  if (!d) return mx_error_set(err, MX_ENOMEM, "out of memory");
  *ids = d;
  if (!(d[*n] = mx__strndup(id, len))) return mx_error_set(err, MX_ENOMEM, "out of memory");
  (*n)++;
  return MX_OK;
}

static int read_csv(const char *path, unsigned flags, mx_idmap *unique, char ***ids, size_t *n,
                    mx_error *err) {
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 0;
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc != MX_OK) return rc;
  char **f;
  size_t *l, nf;
  while ((rc = mx_csv_next(csv, &f, &l, &nf, err)) == 1) {
    if (nf == 0 || l[0] == 0) {
      if (!(flags & MX_ID_LINES_NO_GAPS)) continue;
      rc = mx_error_at(err, MX_EPARSE, path, mx_csv_line(csv), 1, NULL, "empty id");
      break;
    }
    if ((rc = take(path, mx_csv_line(csv), f[0], l[0], unique, ids, n, err)) != MX_OK) break;
  }
  mx_csv_close(csv);
  return rc < 0 ? rc : MX_OK;
}

static int read_raw(const char *path, unsigned flags, mx_idmap *unique, char ***ids, size_t *n,
                    mx_error *err) {
  char *buf;
  size_t len;
  int rc = mx__read_file(path, &buf, &len, err);
  if (rc != MX_OK) return rc;
  long line = 0;
  char *p = buf, *end = buf + len;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *e = nl ? nl : end;
    line++;
    size_t k = (size_t)(e - p);
    if (k && p[k - 1] == '\r') k--;
    /* a blank last line is the file's end, not a gap */
    if (k == 0 && (flags & MX_ID_LINES_NO_GAPS) && !(nl == NULL || nl + 1 == end)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 1, NULL, "empty id");
      break;
    }
    if (k > 0 && (rc = take(path, line, p, k, unique, ids, n, err)) != MX_OK) break;
    p = nl ? nl + 1 : end;
  }
  free(buf);
  return rc;
}

int mx_id_lines_read(const char *path, unsigned flags, mx_idmap *unique, char ***ids, size_t *n,
                     mx_error *err) {
  return flags & MX_ID_LINES_CSV ? read_csv(path, flags, unique, ids, n, err)
                                 : read_raw(path, flags, unique, ids, n, err);
}
