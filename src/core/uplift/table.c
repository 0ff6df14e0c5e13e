/* The uplift learners' input: rows with named numeric or categorical
 * columns, read from a CSV (through the shared reader, src/util/csv.c) or
 * built column by column. */
#include "core/uplift/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 4096

int mx_uplift_table_create(size_t rows, mx_uplift_table **out, mx_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return mx_error_set(err, MX_ENOMEM, "out of memory");
  (*out)->rows = rows;
  return MX_OK;
}

void mx_uplift_table_free(mx_uplift_table *t) {
  if (!t) return;
  for (int c = 0; c < t->ncols; c++) {
    free(t->col[c].name);
    free(t->col[c].num);
    free(t->col[c].code);
    mx_idmap_free(t->col[c].levels);
  }
  free(t->col);
  free(t);
}

size_t mx_uplift_table_rows(const mx_uplift_table *t) { return t ? t->rows : 0; }

int mx_uplift_table_find(const mx_uplift_table *t, const char *name) {
  for (int c = 0; c < t->ncols; c++)
    if (strcmp(t->col[c].name, name) == 0) return c;
  return -1;
}

int mx_uplift_table_is_categorical(const mx_uplift_table *t, int col) {
  return col >= 0 && col < t->ncols && t->col[col].code != NULL;
}

double mx_uplift_table_number(const mx_uplift_table *t, int col, size_t i) {
  return t->col[col].num ? t->col[col].num[i] : NAN;
}

const char *mx_uplift_table_text(const mx_uplift_table *t, int col, size_t i, char *buf,
                                 size_t size) {
  const mx__uplift_column *c = &t->col[col];
  if (c->code) return mx_idmap_name(c->levels, c->code[i]);
  double v = c->num[i];
  if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, size, "%.0f", v);
  else snprintf(buf, size, "%.17g", v);
  return buf;
}

/* A new empty column of t (numeric or categorical), or NULL with err set. */
static mx__uplift_column *add_column(mx_uplift_table *t, const char *name, int categorical,
                                     size_t cap, mx_error *err) {
  if (mx_uplift_table_find(t, name) >= 0) {
    mx_error_set(err, MX_EINVAL, "column '%s' given twice", name);
    return NULL;
  }
  if (t->ncols >= MAX_COLUMNS) {
    mx_error_set(err, MX_ELIMIT, "more than %d columns", MAX_COLUMNS);
    return NULL;
  }
  mx__uplift_column *nc = realloc(t->col, (size_t)(t->ncols + 1) * sizeof *nc);
  if (!nc) goto oom;
  t->col = nc;
  mx__uplift_column *c = &t->col[t->ncols];
  memset(c, 0, sizeof *c);
  c->name = mx__strdup(name);
  if (categorical) {
    c->code = malloc((cap ? cap : 1) * sizeof *c->code);
    c->levels = mx_idmap_create();
    if (!c->code || !c->levels) goto fail;
  } else {
    c->num = malloc((cap ? cap : 1) * sizeof *c->num);
    if (!c->num) goto fail;
  }
  if (!c->name) goto fail;
  t->ncols++;
  return c;
fail:
  free(c->name);
  free(c->code);
  free(c->num);
  mx_idmap_free(c->levels);
oom:
  mx_error_set(err, MX_ENOMEM, "out of memory");
  return NULL;
}

int mx_uplift_table_add_numbers(mx_uplift_table *t, const char *name, const double *v,
                                mx_error *err) {
  for (size_t i = 0; i < t->rows; i++)
    if (!isfinite(v[i]))
      return mx_error_set(err, MX_EINVAL, "column '%s', row %zu: not a finite number", name, i + 1);
  mx__uplift_column *c = add_column(t, name, 0, t->rows, err);
  if (!c) return err ? err->code : MX_ENOMEM;
  if (t->rows) memcpy(c->num, v, t->rows * sizeof *v);
  return MX_OK;
}

int mx_uplift_table_add_strings(mx_uplift_table *t, const char *name, const char *const *v,
                                const size_t *len, mx_error *err) {
  mx__uplift_column *c = add_column(t, name, 1, t->rows, err);
  if (!c) return err ? err->code : MX_ENOMEM;
  for (size_t i = 0; i < t->rows; i++) {
    int64_t k = mx_idmap_intern(c->levels, v[i], len ? len[i] : strlen(v[i]));
    if (k < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->code[i] = (uint32_t)k;
  }
  return MX_OK;
}

static int listed(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return 1;
  return 0;
}

int mx_uplift_table_read_csv(const char *path, const mx_uplift_read_options *o,
                             mx_uplift_table **out, mx_error *err) {
  *out = NULL;
  mx_csv_options co = o->csv;
  co.has_header = 1;
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  int ncols = o->columns ? o->n_columns : (int)nh;
  int *src = calloc((size_t)(ncols ? ncols : 1), sizeof *src);
  mx_uplift_table *t = NULL;
  if (!src || mx_uplift_table_create(0, &t, err)) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (int c = 0; c < ncols; c++) {
    const char *name = o->columns ? o->columns[c] : hdr[c];
    src[c] = -1;
    for (size_t j = 0; j < nh; j++)
      if (strcmp(hdr[j], name) == 0) { src[c] = (int)j; break; }
    if (src[c] < 0) {
      char list[MX_ERROR_MESSAGE_MAX / 2] = "";
      for (size_t j = 0; j < nh; j++) {
        if (j) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, hdr[j], sizeof list - strlen(list) - 1);
      }
      rc = mx_error_at(err, MX_ENOTFOUND, path, 1, 0, name,
                       "no column named '%s' in the header (columns: %s)", name, list);
      goto done;
    }
  }
  int need = 0;
  for (int c = 0; c < ncols; c++)
    if (src[c] + 1 > need) need = src[c] + 1;
  char **f;
  size_t *lens, nf, cap = 0;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if ((int)nf < need) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL,
                       "row has %zu fields, the header %zu", nf, nh);
      break;
    }
    if (t->rows == 0) {
      /* the first row decides each column's type */
      cap = 1024;
      for (int c = 0; c < ncols; c++) {
        double v;
        const char *name = hdr[src[c]];
        int cat = listed(o->categorical, o->n_categorical, name) ||
                  mx_parse_double(f[src[c]], &v) != 0;
        if (!add_column(t, name, cat, cap, err)) {
          rc = err ? err->code : MX_ENOMEM;
          goto done;
        }
      }
    } else if (t->rows == cap) {
      cap *= 2;
      for (int c = 0; c < ncols; c++) {
        mx__uplift_column *col = &t->col[c];
        void *p = col->code ? realloc(col->code, cap * sizeof *col->code)
                            : realloc(col->num, cap * sizeof *col->num);
        if (!p) {
          rc = mx_error_set(err, MX_ENOMEM, "out of memory");
          goto done;
        }
        if (col->code) col->code = p;
        else col->num = p;
      }
    }
    for (int c = 0; c < ncols; c++) {
      mx__uplift_column *col = &t->col[c];
      int j = src[c];
      if (col->code) {
        int64_t k = mx_idmap_intern(col->levels, f[j], lens[j]);
        if (k < 0) {
          rc = mx_error_set(err, MX_ENOMEM, "out of memory");
          goto done;
        }
        col->code[t->rows] = (uint32_t)k;
      } else if (mx_parse_double(f[j], &col->num[t->rows])) {
        rc = mx_error_at(err, MX_EPARSE, path, line, j + 1, col->name,
                         "not a number: '%.40s' (the column is numeric from its first row; "
                         "list it as categorical to read it as text)",
                         f[j]);
        goto done;
      }
    }
    t->rows++;
  }
  if (rc == 0 && t->rows == 0)
    rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no data rows after the header");
done:
  free(src);
  mx_csv_close(csv);
  if (rc < 0) {
    mx_uplift_table_free(t);
    return rc;
  }
  *out = t;
  return MX_OK;
}
