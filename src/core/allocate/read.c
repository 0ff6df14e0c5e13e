/* Allocation instances from files (merx/allocate.h): candidate rows from a
 * CSV by column role (user, offer, value, cost, cost2.., optional margin),
 * optionally one shard's users only, and offer caps from an "offer,cap" CSV. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_alloc_read_csv(const char *path, const mx_ingest_options *io, int K,
                      const char *const *cost_roles, uint32_t shard_i, uint32_t shard_n,
                      mx_alloc_problem **out, mx_error *err) {
  mx_csv *csv;
  int rc = mx_csv_open(path, &io->csv, &csv, err);
  if (rc) return rc;
  mx_columns cols = io->columns;
  if ((rc = mx_columns_resolve(&cols, csv, err))) {
    mx_csv_close(csv);
    return rc;
  }
  int iu = mx_columns_index(&cols, "user"), io_ = mx_columns_index(&cols, "offer");
  int iv = mx_columns_index(&cols, "value"), im = mx_columns_index(&cols, "margin");
  int ic[MX_ALLOC_MAX_RESOURCES];
  /* column names copied: the header dies with the reader */
  char cname_buf[MX_ALLOC_MAX_RESOURCES][MX_ALLOC_NAME_MAX];
  const char *cname[MX_ALLOC_MAX_RESOURCES];
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  for (int k = 0; k < K; k++) {
    ic[k] = mx_columns_index(&cols, cost_roles[k]);
    snprintf(cname_buf[k], sizeof cname_buf[k], "%s",
             (size_t)ic[k] < nh ? hdr[ic[k]] : cost_roles[k]);
    if ((size_t)ic[k] >= nh) /* no header: name the constraint by its column index */
      for (int r = 0; r < cols.count; r++)
        if (strcmp(cols.role[r], cost_roles[k]) == 0)
          snprintf(cname_buf[k], sizeof cname_buf[k], "%.*s", MX_ALLOC_NAME_MAX - 1, cols.name[r]);
    cname[k] = cname_buf[k];
  }
  const char *vname = (size_t)iv < nh ? hdr[iv] : "value";
  const char *mname = im >= 0 && (size_t)im < nh ? hdr[im] : "margin";
  mx_alloc_builder *b = mx_alloc_builder_create(K);
  if (!b) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  mx_alloc_builder_set_fields(b, path, vname, cname);
  int need = iu > io_ ? iu : io_;
  if (iv > need) need = iv;
  if (im > need) need = im;
  for (int k = 0; k < K; k++)
    if (ic[k] > need) need = ic[k];
  char **f;
  size_t *lens, nf;
  mx_progress prog;
  mx__progress_start(&prog, "reading", mx_csv_file_size(csv));
  uint64_t rows = 0;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if ((int)nf <= need) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL,
                       "row has %zu fields, expected at least %d", nf, need + 1);
      break;
    }
    if (lens[iu] == 0 || lens[io_] == 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (lens[iu] == 0 ? iu : io_) + 1,
                       lens[iu] == 0 ? (size_t)iu < nh ? hdr[iu] : "user"
                                     : (size_t)io_ < nh ? hdr[io_] : "offer",
                       "empty id");
      break;
    }
    if (shard_n > 1 && mx_alloc_shard_of(f[iu], lens[iu], shard_n) != shard_i) continue;
    double v, mg = 1, c[MX_ALLOC_MAX_RESOURCES];
    if (mx_parse_double(f[iv], &v)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, iv + 1, vname,
                       "not a finite number: '%.40s'", f[iv]);
      break;
    }
    if (im >= 0 && mx_parse_double(f[im], &mg)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, im + 1, mname,
                       "not a finite number: '%.40s'", f[im]);
      break;
    }
    int bad = -1;
    for (int k = 0; k < K && bad < 0; k++)
      if (mx_parse_double(f[ic[k]], &c[k])) bad = k;
    if (bad >= 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ic[bad] + 1, cname[bad],
                       "not a finite number: '%.40s'", f[ic[bad]]);
      break;
    }
    if ((rc = mx_alloc_builder_add(b, f[iu], lens[iu], f[io_], lens[io_], v * mg, c, line,
                                   err))) {
      if (err->column == 0) {
        /* the builder names the field; add its column */
        for (int k = 0; k < K; k++)
          if (strcmp(err->field, cname[k]) == 0) err->column = ic[k] + 1;
        if (strcmp(err->field, vname) == 0) err->column = iv + 1;
      }
      break;
    }
    if ((++rows & 0xffff) == 0) mx__progress_update(&prog, mx_csv_bytes_read(csv));
  }
  mx__progress_finish(&prog);
  mx_csv_close(csv);
  if (rc < 0) {
    mx_alloc_builder_free(b);
    return rc;
  }
  rc = mx_alloc_builder_finish(b, out, err);
  if (rc == MX_OK)
    for (int k = 0; k < K; k++)
      snprintf((*out)->resource_name[k], MX_ALLOC_NAME_MAX, "%s", cname[k]);
  return rc;
}

int mx_alloc_read_caps(const char *path, mx_alloc_problem *p, mx_error *err) {
  if (!p->offers) return mx_error_set(err, MX_EINVAL, "--caps needs offer ids (not --synthetic)");
  mx_csv_options o = mx_csv_defaults();
  mx_csv *csv;
  int rc = mx_csv_open(path, &o, &csv, err);
  if (rc) return rc;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    double cap;
    if (nf < 2) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL, "expected offer,cap");
      break;
    }
    if (mx_parse_double(f[1], &cap) || cap != floor(cap)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 2, "cap", "not a whole number: '%.40s'", f[1]);
      break;
    }
    int64_t j = mx_idmap_find(p->offers, f[0], lens[0]);
    if (j < 0) {
      rc = mx_error_at(err, MX_ENOTFOUND, path, line, 1, "offer",
                       "unknown offer '%.200s' (no row of the data names it)", f[0]);
      break;
    }
    if (cap < 0) {
      rc = mx_error_at(err, MX_EINFEASIBLE, path, line, 2, "cap",
                       "infeasible: cap of offer '%.200s' is %g < 0", f[0], cap);
      break;
    }
    p->cap[j] = cap;
  }
  mx_csv_close(csv);
  return rc < 0 ? rc : MX_OK;
}
