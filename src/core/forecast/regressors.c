/* Regressors for regression with ARIMA errors: a long CSV "id,time,name,value"
 * aligned to a series set, history and horizon. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/csv.h"
#include "merx/idmap.h"
#include "util/util.h"

void mx_regressors_free(mx_regressors *r) {
  if (!r) return;
  for (int k = 0; k < r->nx; k++) free(r->names[k]);
  for (size_t i = 0; r->values && i < r->count; i++) free(r->values[i]);
  free(r->values);
  free(r->len);
  free(r);
}

typedef struct {
  size_t series;
  int name;
  size_t k;
  double v;
  long line;
} xrow;

static const char *period_text(const mx_series_set *s, size_t i, size_t k, char *buf,
                               size_t size) {
  if (s->freq == MX_FREQ_NONE || !s->start) {
    snprintf(buf, size, "period %zu", k + 1);
  } else {
    char when[40];
    mx_format_time(mx_series_time(s, i, (long)k), 1, when, sizeof when);
    snprintf(buf, size, "the period of %s", when);
  }
  return buf;
}

int mx_regressors_read(const char *path, const mx_series_set *s, int horizon,
                       mx_regressors **out, mx_error *err) {
  *out = NULL;
  if (horizon < 0) return mx_error_set(err, MX_EINVAL, "negative horizon");
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 0; /* a header line is recognised by its non-date time field */
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  mx_idmap *ids = mx_idmap_create();
  mx_regressors *r = calloc(1, sizeof *r);
  xrow *rows = NULL;
  size_t nrows = 0, cap = 0;
  if (!ids || !r) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < s->count; i++)
    if (mx_idmap_intern(ids, s->ids[i], strlen(s->ids[i])) < 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
  char **f;
  size_t *lens, nf;
  int first = 1;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if (nf < 4) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL,
                       "expected 4 fields id,time,name,value, got %zu", nf);
      goto fail;
    }
    int64_t t;
    long pnum = 0;
    int wide = s->freq == MX_FREQ_NONE || !s->start;
    int bad_time;
    if (wide) {
      double pv;
      bad_time = mx_parse_double(f[1], &pv) != 0 || pv < 1 || pv > 1e9 || pv != floor(pv);
      pnum = bad_time ? 0 : (long)pv;
      t = 0;
    } else {
      bad_time = mx_parse_time(f[1], &t) != 0;
    }
    double v;
    int bad_value = mx_parse_double(f[3], &v) != 0;
    if (first && (bad_time || bad_value)) {
      first = 0; /* the header */
      continue;
    }
    first = 0;
    if (bad_time) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 2, "time",
                       wide ? "not a period number (1, 2, ...; the data are wide): '%s'"
                            : "not a date or time: '%s'",
                       f[1]);
      goto fail;
    }
    if (bad_value || !isfinite(v)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 4, "value", "not a number: '%s'", f[3]);
      goto fail;
    }
    if (!f[2][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 3, "name", "empty regressor name");
      goto fail;
    }
    int64_t sid = mx_idmap_find(ids, f[0], lens[0]);
    if (sid < 0) continue; /* not a series of the data */
    size_t i = (size_t)sid;
    int64_t k = wide ? pnum - 1 : fc_period_of(t, s->freq) - fc_period_of(s->start[i], s->freq);
    if (k < 0 || k >= (int64_t)(s->len[i] + (size_t)horizon)) continue;
    int name = -1;
    for (int j = 0; j < r->nx; j++)
      if (!strcmp(r->names[j], f[2])) name = j;
    if (name < 0) {
      if (r->nx == MX_FC_MAX_REGRESSORS) {
        rc = mx_error_at(err, MX_ELIMIT, path, line, 3, "name",
                         "regressor '%s': at most %d regressors", f[2], MX_FC_MAX_REGRESSORS);
        goto fail;
      }
      if (!(r->names[r->nx] = strdup(f[2]))) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      name = r->nx++;
    }
    if (nrows == cap) {
      size_t nc = cap ? 2 * cap : 4096;
      xrow *nr = realloc(rows, nc * sizeof *nr);
      if (!nr) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      rows = nr, cap = nc;
    }
    rows[nrows++] = (xrow){i, name, (size_t)k, v, line};
  }
  if (rc < 0) goto fail;
  if (r->nx == 0) {
    rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                     "no regressor values for any series of the data");
    goto fail;
  }
  r->count = s->count;
  r->len = calloc(s->count ? s->count : 1, sizeof *r->len);
  r->values = calloc(s->count ? s->count : 1, sizeof *r->values);
  if (!r->len || !r->values) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < s->count; i++) {
    r->len[i] = s->len[i] + (size_t)horizon;
    r->values[i] = malloc((size_t)r->nx * r->len[i] * sizeof(double));
    if (!r->values[i]) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    for (size_t j = 0; j < (size_t)r->nx * r->len[i]; j++) r->values[i][j] = NAN;
  }
  for (size_t j = 0; j < nrows; j++) {
    double *slot = &r->values[rows[j].series][(size_t)rows[j].name * r->len[rows[j].series] + rows[j].k];
    if (!isnan(*slot)) {
      char when[64];
      rc = mx_error_at(err, MX_EPARSE, path, rows[j].line, 4, "value",
                       "a second value for series '%s', regressor '%s' in %s",
                       s->ids[rows[j].series], r->names[rows[j].name],
                       period_text(s, rows[j].series, rows[j].k, when, sizeof when));
      goto fail;
    }
    *slot = rows[j].v;
  }
  for (size_t i = 0; i < s->count; i++)
    for (int k = 0; k < r->nx; k++)
      for (size_t t = 0; t < r->len[i]; t++)
        if (isnan(r->values[i][(size_t)k * r->len[i] + t])) {
          char when[64];
          period_text(s, i, t, when, sizeof when);
          if (t >= s->len[i])
            rc = mx_error_at(err, MX_EINVAL, path, 0, 0, "value",
                             "series '%s' has no future value of regressor '%s' for horizon "
                             "step %zu (%s): forecasts with regressors need their future values",
                             s->ids[i], r->names[k], t - s->len[i] + 1, when);
          else
            rc = mx_error_at(err, MX_EINVAL, path, 0, 0, "value",
                             "series '%s' has no value of regressor '%s' in %s of its history",
                             s->ids[i], r->names[k], when);
          goto fail;
        }
  free(rows);
  mx_idmap_free(ids);
  mx_csv_close(csv);
  *out = r;
  return MX_OK;
fail:
  free(rows);
  mx_idmap_free(ids);
  mx_csv_close(csv);
  mx_regressors_free(r);
  return rc ? rc : MX_EINVAL;
}

int mx_regressors_append(mx_regressors *into, mx_regressors *from, mx_error *err) {
  int rc = MX_OK;
  if (from->count != into->count) {
    rc = mx_error_set(err, MX_EINVAL, "regressors of different series sets");
    goto done;
  }
  for (size_t i = 0; i < into->count; i++)
    if (from->len[i] != into->len[i]) {
      rc = mx_error_set(err, MX_EINVAL, "regressors of different lengths");
      goto done;
    }
  for (int k = 0; k < from->nx; k++)
    for (int j = 0; j < into->nx; j++)
      if (!strcmp(from->names[k], into->names[j])) {
        rc = mx_error_set(err, MX_EINVAL, "regressor '%s' is given twice", from->names[k]);
        goto done;
      }
  if (into->nx + from->nx > MX_FC_MAX_REGRESSORS) {
    rc = mx_error_set(err, MX_ELIMIT, "at most %d regressors (%d + %d given)", MX_FC_MAX_REGRESSORS,
                      into->nx, from->nx);
    goto done;
  }
  for (size_t i = 0; i < into->count; i++) {
    size_t len = into->len[i];
    double *v = realloc(into->values[i], (size_t)(into->nx + from->nx) * len * sizeof *v);
    if (!v) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(v + (size_t)into->nx * len, from->values[i], (size_t)from->nx * len * sizeof *v);
    into->values[i] = v;
  }
  /* every series grown: only now do the names move, so a failure leaves into whole */
  for (int k = 0; k < from->nx; k++) {
    into->names[into->nx++] = from->names[k];
    from->names[k] = NULL;
  }
  from->nx = 0;
done:
  mx_regressors_free(from);
  return rc;
}

mx_regressors *fc_regressors_zeros(const mx_series_set *s, int horizon, int nx,
                                   const char *const *names) {
  mx_regressors *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  for (; r->nx < nx; r->nx++)
    if (!(r->names[r->nx] = strdup(names[r->nx]))) goto fail;
  r->count = s->count;
  r->len = calloc(s->count ? s->count : 1, sizeof *r->len);
  r->values = calloc(s->count ? s->count : 1, sizeof *r->values);
  if (!r->len || !r->values) goto fail;
  for (size_t i = 0; i < s->count; i++) {
    r->len[i] = s->len[i] + (size_t)horizon;
    if (!(r->values[i] = calloc((size_t)nx * r->len[i], sizeof(double)))) goto fail;
  }
  return r;
fail:
  mx_regressors_free(r);
  return NULL;
}
