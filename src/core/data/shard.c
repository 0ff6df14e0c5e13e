/* Pre-partitioned inputs (merx/shard.h): `merx shard-split` and the
 * manifest readers use under --shard. One pass over the input: each row is
 * copied, fields as read, to the part of its id's shard. */
#include "merx/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_shard_part_path(const char *dir, uint32_t part, char *buf, size_t size) {
  int n = snprintf(buf, size, "%s/part-%05u.csv", dir, (unsigned)part);
  return n < 0 || (size_t)n >= size ? -1 : n;
}

int mx_shard_split_file(const char *path, const mx_csv_options *copt, const char *column,
                        uint32_t shards, const char *out_dir, uint64_t *rows_per_part,
                        mx_error *err) {
  if (shards < 1 || shards > MX_SHARD_MAX)
    return mx_error_set(err, MX_EINVAL, "shards must be in [1, %d] (got %u)", MX_SHARD_MAX,
                        (unsigned)shards);
  if (strlen(column) >= sizeof ((mx_shard_manifest *)0)->column)
    return mx_error_set(err, MX_EINVAL, "column name too long");
  if (!copt->has_header)
    return mx_error_set(err, MX_EINVAL, "%s: shard-split needs a header (the parts repeat it)",
                        path);
  mx_csv *csv = NULL;
  int rc = mx_csv_open(path, copt, &csv, err);
  if (rc != MX_OK) return rc;
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  size_t col = nh;
  for (size_t k = 0; k < nh; k++)
    if (strcmp(hdr[k], column) == 0) col = k;
  if (col == nh) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EINVAL, path, 1, 0, column, "no column '%s' in the header", column);
  }
  if (mx__mkdir_p(out_dir) != 0) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_EIO, "%s: %s", out_dir, strerror(errno));
  }
  /* parts 0..shards-1, then the manifest */
  mx_atomic_file *files = calloc((size_t)shards + 1, sizeof *files);
  mx_atomic_file **ptrs = calloc((size_t)shards + 1, sizeof *ptrs);
  uint64_t *counts = calloc(shards, sizeof *counts);
  uint32_t opened = 0;
  char pbuf[4096];
  if (!files || !ptrs || !counts) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  for (; rc == MX_OK && opened <= shards; opened++) {
    if (opened < shards ? mx_shard_part_path(out_dir, opened, pbuf, sizeof pbuf) < 0
                        : snprintf(pbuf, sizeof pbuf, "%s/%s", out_dir, MX_SHARD_MANIFEST) >=
                              (int)sizeof pbuf)
      rc = mx_error_set(err, MX_EINVAL, "%s: path too long", out_dir);
    else
      rc = mx__atomic_open(&files[opened], pbuf, err);
    if (rc != MX_OK) break;
    ptrs[opened] = &files[opened];
  }
  char sep = csv ? mx_csv_sep(csv) : ',';
  if (rc == MX_OK)
    for (uint32_t s = 0; s < shards; s++) mx_csv_write_row(files[s].f, hdr, nh, sep);
  char **f;
  size_t *l, nf;
  uint64_t rows = 0;
  while (rc == MX_OK) {
    int r = mx_csv_next(csv, &f, &l, &nf, err);
    if (r < 0) rc = r;
    if (r <= 0) break;
    if (col >= nf || l[col] == 0) {
      rc = mx_error_at(err, MX_EPARSE, path, mx_csv_line(csv), (int)col + 1, column,
                       "empty id: every row needs one to have a shard");
      break;
    }
    uint32_t s = mx_alloc_shard_of(f[col], l[col], shards);
    mx_csv_write_row(files[s].f, (const char *const *)f, nf, sep);
    counts[s]++;
    rows++;
  }
  mx_csv_close(csv);
  if (rc == MX_OK) {
    FILE *m = files[shards].f;
    fprintf(m, "merx-shards 1\nshards %u\ncolumn %s\nhash xxh64-42-pmod\nrows %llu\n",
            (unsigned)shards, column, (unsigned long long)rows);
    rc = mx__atomic_publish(ptrs, (int)shards + 1, err);
    if (rc == MX_OK) mx__atomic_settle(ptrs, (int)shards + 1);
  } else {
    for (uint32_t s = 0; s < opened; s++) mx__atomic_abort(&files[s]);
  }
  if (rc == MX_OK && rows_per_part) memcpy(rows_per_part, counts, shards * sizeof *counts);
  free(counts);
  free(ptrs);
  free(files);
  return rc;
}

/* line is key followed by a whole decimal number */
static int number_after(const char *line, const char *key, unsigned long long *v) {
  size_t k = strlen(key);
  if (strncmp(line, key, k) != 0 || line[k] < '0' || line[k] > '9') return 0;
  char *end;
  errno = 0;
  *v = strtoull(line + k, &end, 10);
  return *end == 0 && errno == 0;
}

int mx_shard_manifest_read(const char *dir, mx_shard_manifest *out, int *found, mx_error *err) {
  *found = 0;
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return MX_OK;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, MX_SHARD_MANIFEST) >= (int)sizeof path)
    return mx_error_set(err, MX_EINVAL, "%s: path too long", dir);
  FILE *f = fopen(path, "r");
  if (!f) return MX_OK;
  char line[512];
  int n = 0, have = 0, rc = MX_OK;
  while (rc == MX_OK && fgets(line, sizeof line, f)) {
    n++;
    line[strcspn(line, "\r\n")] = 0;
    unsigned long long v = 0;
    if (n == 1) {
      if (strcmp(line, "merx-shards 1") != 0)
        rc = mx_error_at(err, MX_EPARSE, path, n, 0, NULL, "not a merx shard manifest (version 1)");
    } else if (number_after(line, "shards ", &v)) {
      if (v < 1 || v > MX_SHARD_MAX)
        rc = mx_error_at(err, MX_EPARSE, path, n, 0, "shards", "shards must be in [1, %d]",
                         MX_SHARD_MAX);
      out->shards = (uint32_t)v;
      have |= 1;
    } else if (strncmp(line, "column ", 7) == 0 && line[7] &&
               strlen(line + 7) < sizeof out->column) {
      memcpy(out->column, line + 7, strlen(line + 7) + 1);
      have |= 2;
    } else if (strncmp(line, "hash ", 5) == 0) {
      if (strcmp(line + 5, "xxh64-42-pmod") != 0)
        rc = mx_error_at(err, MX_EPARSE, path, n, 0, "hash", "unknown shard hash '%s'", line + 5);
      have |= 4;
    } else if (number_after(line, "rows ", &v)) {
      out->rows = v;
    } else {
      rc = mx_error_at(err, MX_EPARSE, path, n, 0, NULL, "unexpected line '%s'", line);
    }
  }
  fclose(f);
  if (rc == MX_OK && have != 7)
    rc = mx_error_at(err, MX_EPARSE, path, n, 0, NULL, "needs shards, column and hash lines");
  if (rc == MX_OK) *found = 1;
  return rc;
}
