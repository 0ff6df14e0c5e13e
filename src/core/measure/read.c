/* CSV sources of a measurement, shared by `merx measure` and
 * merx.measure{...}: a per-user outcome table (Hillstrom's layout), an
 * assignments file, and outcome files joined on the user (event rows or
 * per-user rows; as outcomes or as pre-period covariates). Every bad cell is
 * reported with file:line:column and the field name. */
#include <stdlib.h>
#include <string.h>

#include "core/measure/internal.h"

typedef struct reader {
  mx_csv *csv;
  mx_columns cols;
  const char *path;
  int user, arm, segment, covariate, time, value;
  int metric_col[MX_MEASURE_MAX_METRICS];
  const char *const *hdr;
  size_t nh;
} reader;

static int open_reader(reader *rd, const char *path, const mx_measure_source *src, mx_error *err) {
  memset(rd, 0, sizeof *rd);
  rd->path = path;
  int rc = mx_csv_open(path, &src->csv, &rd->csv, err);
  if (rc) return rc;
  rd->cols = src->columns;
  if ((rc = mx_columns_resolve(&rd->cols, rd->csv, err))) return rc;
  rd->user = mx_columns_index(&rd->cols, "user");
  rd->arm = mx_columns_index(&rd->cols, "arm");
  rd->segment = mx_columns_index(&rd->cols, "segment");
  rd->covariate = mx_columns_index(&rd->cols, "covariate");
  rd->time = mx_columns_index(&rd->cols, "time");
  rd->value = mx_columns_index(&rd->cols, "value");
  rd->nh = mx_csv_header(rd->csv, &rd->hdr);
  return MX_OK;
}

/* Metric columns by header name. */
static int find_metrics(reader *rd, const mx_measure *m, mx_error *err) {
  int M = mx__measure_metrics(m);
  for (int k = 0; k < M; k++) {
    const char *name = mx__measure_metric(m, k);
    rd->metric_col[k] = -1;
    for (size_t j = 0; j < rd->nh; j++)
      if (!strcmp(rd->hdr[j], name)) rd->metric_col[k] = (int)j;
    if (rd->metric_col[k] < 0) {
      char list[MX_ERROR_MESSAGE_MAX / 2] = "";
      for (size_t j = 0; j < rd->nh; j++) {
        if (j) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, rd->hdr[j], sizeof list - strlen(list) - 1);
      }
      if (rd->nh == 0)
        return mx_error_at(err, MX_ENOTFOUND, rd->path, 1, 0, name,
                           "metric columns are found by header name: the file needs a header");
      return mx_error_at(err, MX_ENOTFOUND, rd->path, 1, 0, name,
                         "no column named '%s' in the header (columns: %s)", name, list);
    }
  }
  return MX_OK;
}

static const char *col_name(const reader *rd, int col, const char *role) {
  return (size_t)col < rd->nh ? rd->hdr[col] : role;
}

static int cell(const reader *rd, char **f, size_t nf, int col, const char *role, const char **out,
                mx_error *err) {
  if ((size_t)col >= nf)
    return mx_error_at(err, MX_EPARSE, rd->path, mx_csv_line(rd->csv), col + 1,
                       col_name(rd, col, role), "missing field (the row has %zu)", nf);
  *out = f[col];
  return MX_OK;
}

static int number(const reader *rd, char **f, size_t nf, int col, const char *role, double *out,
                  mx_error *err) {
  const char *s = "";
  int rc = cell(rd, f, nf, col, role, &s, err);
  if (rc) return rc;
  if (mx_parse_double(s, out) != 0)
    return mx_error_at(err, MX_EPARSE, rd->path, mx_csv_line(rd->csv), col + 1,
                       col_name(rd, col, role), "not a number: '%.60s'", s);
  return MX_OK;
}

/* Locate a core error (bad arm, too many arms, ...) at the current row. */
static int at_row(const reader *rd, int rc, mx_error *err) {
  if (rc && err && !err->file[0]) {
    char msg[MX_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", err->message);
    mx_error_at(err, rc, rd->path, mx_csv_line(rd->csv), 0, NULL, "%s", msg);
  }
  return rc;
}

static int need(const reader *rd, int col, const char *role, const char *what, mx_error *err) {
  if (col >= 0) return MX_OK;
  return mx_error_at(err, MX_EINVAL, rd->path, 0, 0, NULL, "%s needs a %s column (--columns %s=NAME)",
                     what, role, role);
}

int mx_measure_read_table(mx_measure *m, const char *path, const mx_measure_source *src,
                          mx_error *err) {
  reader rd;
  int rc = open_reader(&rd, path, src, err);
  if (!rc) rc = need(&rd, rd.arm, "arm", "a per-user outcome table", err);
  if (!rc) rc = find_metrics(&rd, m, err);
  int cuped = mx__measure_cuped(m), M = mx__measure_metrics(m);
  if (!rc && cuped && rd.covariate < 0 && rd.user < 0)
    rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                     "CUPED needs a covariate column (--covariate COLUMN) or a pre-period file");
  char **f;
  size_t *lens, nf;
  double y[MX_MEASURE_MAX_METRICS], x[MX_MEASURE_MAX_METRICS];
  while (!rc && (rc = mx_csv_next(rd.csv, &f, &lens, &nf, err)) == 1) {
    rc = MX_OK;
    for (int k = 0; k < M && !rc; k++)
      rc = number(&rd, f, nf, rd.metric_col[k], mx__measure_metric(m, k), &y[k], err);
    if (!rc && cuped && rd.covariate >= 0) {
      rc = number(&rd, f, nf, rd.covariate, "covariate", &x[0], err);
      for (int k = 1; k < M; k++) x[k] = x[0];
    }
    const char *arm = NULL, *seg = NULL, *user = NULL;
    if (!rc) rc = cell(&rd, f, nf, rd.arm, "arm", &arm, err);
    if (!rc && rd.segment >= 0) rc = cell(&rd, f, nf, rd.segment, "segment", &seg, err);
    if (!rc && rd.user >= 0) rc = cell(&rd, f, nf, rd.user, "user", &user, err);
    if (rc) break;
    if (!arm[0]) {
      rc = mx_error_at(err, MX_EPARSE, path, mx_csv_line(rd.csv), rd.arm + 1,
                       col_name(&rd, rd.arm, "arm"), "empty arm");
      break;
    }
    if (user) {
      size_t ul = strlen(user);
      if (!ul) continue; /* a row without a user id cannot be joined */
      rc = mx_measure_add_unit(m, user, ul, arm, seg, err);
      if (!rc) rc = mx_measure_add_outcome(m, user, ul, y, err);
      if (!rc && cuped && rd.covariate >= 0) rc = mx_measure_add_covariate(m, user, ul, x, err);
    } else {
      rc = mx_measure_add_row(m, arm, seg, y, cuped ? x : NULL, err);
    }
    rc = at_row(&rd, rc, err);
  }
  mx_csv_close(rd.csv);
  return rc < 0 ? rc : MX_OK;
}

int mx_measure_read_units(mx_measure *m, const char *path, const mx_measure_source *src,
                          mx_error *err) {
  reader rd;
  int rc = open_reader(&rd, path, src, err);
  if (!rc) rc = need(&rd, rd.user, "user", "an assignments file", err);
  if (!rc) rc = need(&rd, rd.arm, "arm", "an assignments file", err);
  char **f;
  size_t *lens, nf;
  while (!rc && (rc = mx_csv_next(rd.csv, &f, &lens, &nf, err)) == 1) {
    const char *user = "", *arm = "", *seg = NULL;
    rc = cell(&rd, f, nf, rd.user, "user", &user, err);
    if (!rc) rc = cell(&rd, f, nf, rd.arm, "arm", &arm, err);
    if (!rc && rd.segment >= 0) rc = cell(&rd, f, nf, rd.segment, "segment", &seg, err);
    if (rc) break;
    if (!user[0]) continue;
    if (!arm[0]) {
      rc = mx_error_at(err, MX_EPARSE, path, mx_csv_line(rd.csv), rd.arm + 1,
                       col_name(&rd, rd.arm, "arm"), "empty arm");
      break;
    }
    rc = at_row(&rd, mx_measure_add_unit(m, user, strlen(user), arm, seg, err), err);
  }
  mx_csv_close(rd.csv);
  return rc < 0 ? rc : MX_OK;
}

int mx_measure_read_outcomes(mx_measure *m, const char *path, const mx_measure_source *src,
                             int covariate, mx_error *err) {
  reader rd;
  int rc = open_reader(&rd, path, src, err);
  if (!rc) rc = need(&rd, rd.user, "user", "an outcomes file joined to assignments", err);
  int events = rd.time >= 0 || rd.value >= 0 || src->has_window;
  int M = mx__measure_metrics(m);
  double y[MX_MEASURE_MAX_METRICS];
  if (!rc && events && src->has_window) rc = need(&rd, rd.time, "time", "a window", err);
  if (!rc && events) rc = at_row(&rd, mx_measure_event_values(m, 1, y, err), err);
  if (!rc && !events) rc = find_metrics(&rd, m, err);
  char **f;
  size_t *lens, nf;
  while (!rc && (rc = mx_csv_next(rd.csv, &f, &lens, &nf, err)) == 1) {
    const char *user = "";
    rc = cell(&rd, f, nf, rd.user, "user", &user, err);
    if (rc) break;
    if (events) {
      double v = 1;
      if (rd.value >= 0 && (rc = number(&rd, f, nf, rd.value, "value", &v, err))) break;
      if (rd.time >= 0 && src->has_window) {
        const char *ts = "";
        int64_t t;
        if ((rc = cell(&rd, f, nf, rd.time, "time", &ts, err))) break;
        if (mx_parse_time(ts, &t) != 0) {
          rc = mx_error_at(err, MX_EPARSE, path, mx_csv_line(rd.csv), rd.time + 1,
                           col_name(&rd, rd.time, "time"), "not a time: '%.60s'", ts);
          break;
        }
        if (t < src->from || t > src->to) {
          if (!covariate) mx_measure_count_outside(m);
          continue;
        }
      }
      if ((rc = at_row(&rd, mx_measure_event_values(m, v, y, err), err))) break;
    } else {
      for (int k = 0; k < M && !rc; k++)
        rc = number(&rd, f, nf, rd.metric_col[k], mx__measure_metric(m, k), &y[k], err);
      if (rc) break;
    }
    if (!user[0]) continue;
    rc = covariate ? mx_measure_add_covariate(m, user, strlen(user), y, err)
                   : mx_measure_add_outcome(m, user, strlen(user), y, err);
    rc = at_row(&rd, rc, err);
  }
  mx_csv_close(rd.csv);
  return rc < 0 ? rc : MX_OK;
}
