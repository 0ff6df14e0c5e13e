/* Series input: wide CSV (M4 layout, one series per row) and long CSV
 * (id, time, value rows summed into day / ISO week / month periods, with
 * missing periods filled by zeros). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/forecast.h"
#include "util/util.h"

mx_series_read_options mx_series_read_defaults(void) {
  mx_series_read_options o;
  memset(&o, 0, sizeof o);
  o.csv = mx_csv_defaults();
  o.header = 0;
  o.freq = MX_FREQ_DAY;
  o.negative = 1;
  return o;
}

int mx_series_freq_parse(const char *s, int *freq, mx_error *err) {
  if (strcmp(s, "day") == 0) *freq = MX_FREQ_DAY;
  else if (strcmp(s, "week") == 0) *freq = MX_FREQ_WEEK;
  else if (strcmp(s, "month") == 0) *freq = MX_FREQ_MONTH;
  else return mx_error_set(err, MX_EINVAL, "unknown frequency '%s' (day, week, month)", s);
  return MX_OK;
}

void mx_series_set_free(mx_series_set *s) {
  if (!s) return;
  for (size_t i = 0; i < s->count; i++) {
    if (s->ids) free(s->ids[i]);
    if (s->values) free(s->values[i]);
  }
  free(s->ids);
  free(s->values);
  free(s->len);
  free(s->start);
  free(s);
}

/* Growable set used by both readers. */
typedef struct {
  mx_series_set *s;
  size_t cap;
} set_builder;

static int builder_push(set_builder *b, const char *id, double *values, size_t len) {
  if (b->s->count == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 64;
    char **ids = realloc(b->s->ids, cap * sizeof *ids);
    if (!ids) return -1;
    b->s->ids = ids;
    double **v = realloc(b->s->values, cap * sizeof *v);
    if (!v) return -1;
    b->s->values = v;
    size_t *l = realloc(b->s->len, cap * sizeof *l);
    if (!l) return -1;
    b->s->len = l;
    b->cap = cap;
  }
  char *copy = mx__strdup(id);
  if (!copy) return -1;
  b->s->ids[b->s->count] = copy;
  b->s->values[b->s->count] = values;
  b->s->len[b->s->count] = len;
  b->s->count++;
  return 0;
}

static int apply_negative(double *v, int policy, const char *path, long line, long col,
                          mx_error *err) {
  if (*v >= 0) return 0;
  if (policy == 0)
    return mx_error_at(err, MX_EPARSE, path, line, col, "value",
                       "negative value %g (use --negative keep or zero)", *v);
  if (policy == 2) *v = 0;
  return 0;
}

int mx_series_set_from_arrays(const char *const *ids, const double *const *values,
                              const size_t *len, size_t count, mx_series_set **out,
                              mx_error *err) {
  *out = NULL;
  set_builder b = {calloc(1, sizeof(mx_series_set)), 0};
  if (!b.s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < count; i++) {
    char name[32];
    snprintf(name, sizeof name, "%zu", i + 1);
    double *v = malloc((len[i] ? len[i] : 1) * sizeof *v);
    if (!v || builder_push(&b, ids ? ids[i] : name, v, len[i])) {
      free(v);
      mx_series_set_free(b.s);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    if (len[i]) memcpy(v, values[i], len[i] * sizeof *v);
  }
  *out = b.s;
  return MX_OK;
}

/* Values beyond MX_SERIES_MAX_VALUE (1e160 is a finite double, but its
 * square is not) would give -nan or inf intervals. */
static int too_large(const char *text, const char *path, long line, long col, const char *field,
                     mx_error *err) {
  return mx_error_at(err, MX_EPARSE, path, line, col, field,
                     "%.40s is beyond +-%g (rescale the series)", text, MX_SERIES_MAX_VALUE);
}

/* A wide header line: some value field is present but not a number ("V2"). */
static int looks_like_header(char **f, size_t nf) {
  double x;
  for (size_t j = 1; j < nf; j++)
    if (f[j][0] && mx_parse_double(f[j], &x) != 0) return 1;
  return 0;
}

int mx_series_read_wide(const char *path, const mx_series_read_options *opt,
                        mx_series_set **out, mx_error *err) {
  *out = NULL;
  mx_csv_options co = opt->csv;
  co.has_header = 0;
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  set_builder b = {calloc(1, sizeof(mx_series_set)), 0};
  if (!b.s) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  b.s->freq = MX_FREQ_NONE;
  char **f;
  size_t *lens, nf;
  int first = 1;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if (first) {
      first = 0;
      if (opt->header == 1 || (opt->header == 0 && looks_like_header(f, nf))) continue;
    }
    if (!f[0][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 1, "id", "empty series id");
      break;
    }
    size_t n = nf - 1;
    while (n > 0 && f[n][0] == '\0') n--; /* empty trailing fields (M4 padding) */
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    for (size_t j = 0; j < n && rc == 1; j++) {
      if (mx_parse_double(f[j + 1], &v[j]) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, (long)j + 2, "value",
                         f[j + 1][0] ? "not a number: '%s'" : "empty value inside the series%s",
                         f[j + 1]);
      } else if (fabs(v[j]) > MX_SERIES_MAX_VALUE) {
        rc = too_large(f[j + 1], path, line, (long)j + 2, "value", err);
      } else if (apply_negative(&v[j], opt->negative, path, line, (long)j + 2, err)) {
        rc = err ? err->code : MX_EPARSE;
      }
    }
    if (rc != 1) {
      free(v);
      break;
    }
    if (n == 0) {
      free(v);
      rc = mx_error_at(err, MX_EPARSE, path, line, 2, "value", "series '%s' has no values", f[0]);
      break;
    }
    if (builder_push(&b, f[0], v, n)) {
      free(v);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
  }
  mx_csv_close(csv);
  if (rc < 0) {
    mx_series_set_free(b.s);
    return rc;
  }
  if (b.s->count == 0) {
    mx_series_set_free(b.s);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no series in the file");
  }
  *out = b.s;
  return MX_OK;
}

/* ----------------------------------------------------------- long layout */

/* Period index of an epoch time; weeks start on Monday (1970-01-01 was a Thursday). */
static int64_t period_of(int64_t t, int freq) {
  int64_t day = mx__floor_div(t, 86400);
  if (freq == MX_FREQ_WEEK) return mx__floor_div(day + 3, 7);
  if (freq == MX_FREQ_MONTH) {
    int64_t y;
    int m, d;
    mx__civil_from_days(day, &y, &m, &d);
    return y * 12 + (m - 1);
  }
  return day;
}

static int64_t period_start(int64_t p, int freq) {
  if (freq == MX_FREQ_WEEK) return (p * 7 - 3) * 86400;
  if (freq == MX_FREQ_MONTH) {
    int64_t y = mx__floor_div(p, 12);
    return mx__days_from_civil(y, (int)(p - y * 12) + 1, 1) * 86400;
  }
  return p * 86400;
}

int64_t fc_period_of(int64_t t, int freq) { return period_of(t, freq); }

int64_t mx_series_time(const mx_series_set *s, size_t i, long k) {
  if (!s->start || s->freq == MX_FREQ_NONE) return k;
  return period_start(period_of(s->start[i], s->freq) + k, s->freq);
}

typedef struct {
  uint32_t series;
  int64_t period;
  double value;
  long line; /* CSV line, to name an outlying date */
} obs;

/* One mistyped date (9999-12-31, a negative epoch) would stretch its series
 * to millions of zero-filled periods: refuse it, naming the row whose date
 * lies far from the rest of its series. */
static int check_span(const obs *rows, size_t first, size_t end, int64_t last_period,
                      long last_line, int freq, const char *id, const char *path, int col,
                      const char *field, mx_error *err) {
  int64_t p0 = rows[first].period;
  if (last_period - p0 < MX_SERIES_MAX_PERIODS) return MX_OK;
  /* the outlier is the end farther from the series' median period */
  int64_t median = rows[first + (end - first) / 2].period;
  int early = median - p0 >= last_period - median;
  char when[40];
  static const char *const unit[] = {"days", "days", "weeks", "months"};
  mx_format_time(period_start(early ? p0 : last_period, freq), 1, when, sizeof when);
  return mx_error_at(err, MX_ELIMIT, path, early ? rows[first].line : last_line, col, field,
                     "this date (period of %s) stretches series '%s' to %lld %s (at most %d "
                     "periods per series; a mistyped date?)",
                     when, id, (long long)(last_period - p0 + 1),
                     unit[freq >= 0 && freq <= 3 ? freq : 0], MX_SERIES_MAX_PERIODS);
}

static int by_series_period(const void *a, const void *b) {
  const obs *x = a, *y = b;
  if (x->series != y->series) return x->series < y->series ? -1 : 1;
  return (x->period > y->period) - (x->period < y->period);
}

int mx_series_read_long(const char *path, const mx_series_read_options *opt,
                        mx_series_set **out, mx_error *err) {
  *out = NULL;
  mx_columns cols = opt->columns;
  if (mx_columns_index(&cols, "id") < 0 && cols.name[0][0] == 0 && cols.count == 0) {
    /* default: id, time, value are the first three columns */
    mx_columns_set(&cols, "id", "1", err);
    mx_columns_set(&cols, "time", "2", err);
    mx_columns_set(&cols, "value", "3", err);
  }
  mx_csv *csv;
  int rc = mx_csv_open(path, &opt->csv, &csv, err);
  if (rc) return rc;
  if ((rc = mx_columns_resolve(&cols, csv, err))) {
    mx_csv_close(csv);
    return rc;
  }
  int ci = mx_columns_index(&cols, "id"), ct = mx_columns_index(&cols, "time"),
      cv = mx_columns_index(&cols, "value");
  if (ci < 0 || ct < 0) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_EINVAL, "long series input needs the roles id and time");
  }
  mx_idmap *ids = mx_idmap_create();
  obs *rows = NULL;
  size_t nrows = 0, cap = 0;
  int64_t last_period = INT64_MIN;
  long last_line = 0;
  /* errors about dates name the column as the file does ("date"), else "time" */
  char tfield[MX_ERROR_FIELD_MAX] = "time", vfield[MX_ERROR_FIELD_MAX] = "value";
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  if (nh > (size_t)ct && hdr[ct][0]) snprintf(tfield, sizeof tfield, "%s", hdr[ct]);
  if (cv >= 0 && nh > (size_t)cv && hdr[cv][0]) snprintf(vfield, sizeof vfield, "%s", hdr[cv]);
  char **f;
  size_t *lens, nf;
  if (!ids) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  while (ids && (rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    size_t need = (size_t)(ci > ct ? ci : ct);
    if (cv > (int)need) need = (size_t)cv;
    if (nf <= need) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL,
                       "expected at least %zu fields, got %zu", need + 1, nf);
      break;
    }
    if (!f[ci][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ci + 1, "id", "empty series id");
      break;
    }
    int64_t t;
    if (mx_parse_time(f[ct], &t) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ct + 1, tfield,
                       "not a date or time: '%s' (ISO 8601 with a UTC offset within +-14:00, "
                       "or epoch seconds)",
                       f[ct]);
      break;
    }
    double v = 1;
    if (cv >= 0) {
      if (mx_parse_double(f[cv], &v) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, cv + 1, "value", "not a number: '%s'",
                         f[cv]);
        break;
      }
      if (fabs(v) > MX_SERIES_MAX_VALUE) {
        rc = too_large(f[cv], path, line, cv + 1, vfield, err);
        break;
      }
      if (opt->negative == 0 && v < 0) {
        rc = apply_negative(&v, 0, path, line, cv + 1, err);
        break;
      }
    }
    int64_t sid = mx_idmap_intern(ids, f[ci], lens[ci]);
    if (sid < 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    if (nrows == cap) {
      size_t nc = cap ? 2 * cap : 4096;
      obs *r = realloc(rows, nc * sizeof *r);
      if (!r) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      rows = r;
      cap = nc;
    }
    rows[nrows].series = (uint32_t)sid;
    rows[nrows].period = period_of(t, opt->freq);
    rows[nrows].value = v;
    rows[nrows].line = line;
    if (rows[nrows].period > last_period) {
      last_period = rows[nrows].period;
      last_line = line;
    }
    nrows++;
  }
  mx_csv_close(csv);
  if (rc < 0) {
    free(rows);
    mx_idmap_free(ids);
    return rc;
  }
  if (nrows == 0) {
    free(rows);
    mx_idmap_free(ids);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no data rows");
  }
  qsort(rows, nrows, sizeof *rows, by_series_period);
  uint32_t ns = mx_idmap_size(ids);
  set_builder b = {calloc(1, sizeof(mx_series_set)), 0};
  int64_t *start = malloc(ns * sizeof *start);
  rc = MX_OK;
  if (!b.s || !start) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  size_t r = 0;
  for (uint32_t sidx = 0; sidx < ns && rc == MX_OK; sidx++) {
    int64_t p0 = rows[r].period;
    size_t end = r;
    while (end < nrows && rows[end].series == sidx) end++;
    if ((rc = check_span(rows, r, end, last_period, last_line, opt->freq,
                         mx_idmap_name(ids, sidx), path, ct + 1, tfield, err)) != MX_OK)
      break;
    size_t len = (size_t)(last_period - p0 + 1);
    double *v = calloc(len, sizeof *v);
    if (!v || builder_push(&b, mx_idmap_name(ids, sidx), v, len)) {
      free(v);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    for (; r < nrows && rows[r].series == sidx; r++) v[rows[r].period - p0] += rows[r].value;
    if (opt->negative == 2)
      for (size_t k = 0; k < len; k++)
        if (v[k] < 0) v[k] = 0;
    start[sidx] = period_start(p0, opt->freq);
  }
  free(rows);
  mx_idmap_free(ids);
  if (rc != MX_OK) {
    free(start);
    mx_series_set_free(b.s);
    return rc;
  }
  b.s->freq = opt->freq;
  b.s->start = start;
  *out = b.s;
  return MX_OK;
}
