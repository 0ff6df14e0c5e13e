/* Campaign measurement: units (user, arm, segment) and their outcomes
 * accumulated per (segment, arm) cell in one pass, then per arm and segment
 * the means with intervals, the uplift of every arm over the control
 * (Newcombe for 0/1 metrics, Welch otherwise), the relative uplift, the
 * sample-ratio-mismatch test and the CUPED-adjusted uplift.
 *
 * Accumulators use Welford's update for the mean and the sum of squared
 * deviations and its bivariate form for the co-moment of (Y, X) (Welford
 * 1962; Chan, Golub & LeVeque 1983), so millions of rows lose no digits
 * to cancellation. Means are reported as a compensated sum / n.
 *
 * CUPED (Deng, Xu, Kohavi & Walker, WSDM 2013, eq. 3-4): for each arm
 * compared with the control, theta = cov(Y, X) / var(X) pooled within the
 * two arms (so a treatment effect on Y cannot leak into theta), the
 * adjusted difference is (mean Y1 - mean Y0) - theta (mean X1 - mean X0),
 * and each arm's variance becomes var(Y) - 2 theta cov(Y, X) + theta^2
 * var(X); Welch's interval follows. The variance reduction is 1 - the ratio
 * of the pooled adjusted variance to the pooled variance of Y. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/measure/internal.h"
#include "util/util.h"

#define MAX_SEGMENTS 10000

mx_measure_options mx_measure_defaults(void) {
  mx_measure_options o;
  memset(&o, 0, sizeof o);
  o.level = 0.95;
  return o;
}

/* per cell and metric: sum of Y and its Neumaier compensation, mean and M2
 * of Y; mean and M2 of X; co-moment */
enum { A_SUM, A_SUMC, A_MY, A_M2Y, A_MX, A_M2X, A_CXY, A_N };

typedef struct cell {
  uint64_t n;
  double v[]; /* A_N * n_metrics: v[k * A_N + field] */
} cell;

struct mx_measure {
  mx_measure_options opt;
  char *metric_names[MX_MEASURE_MAX_METRICS];
  char *control;
  int event_kind[MX_MEASURE_MAX_METRICS]; /* EV_* for event outcomes */
  int M;
  int binary[MX_MEASURE_MAX_METRICS];
  double share_of[MX_MEASURE_MAX_ARMS]; /* planned share by arm index (0: none given) */
  mx_idmap *arms, *segments;
  cell **cells; /* [(segment + 1) * MAX_ARMS + arm]; segment -1 = all units */
  int cell_rows;
  /* join: units by user */
  mx_idmap *users;
  uint8_t *unit_arm;
  int32_t *unit_seg;
  double *unit_y, *unit_x; /* [users * M] */
  size_t unit_cap;
  uint64_t outcome_rows, unknown_rows, outside_rows;
  int finished;
};

enum { EV_NONE, EV_CONVERSION, EV_SUM, EV_COUNT };

static int event_kind(const char *name) {
  if (!strcmp(name, "conversion")) return EV_CONVERSION;
  if (!strcmp(name, "revenue") || !strcmp(name, "value")) return EV_SUM;
  if (!strcmp(name, "orders")) return EV_COUNT;
  return EV_NONE;
}

void mx_measure_free(mx_measure *m) {
  if (!m) return;
  for (int k = 0; k < MX_MEASURE_MAX_METRICS; k++) free(m->metric_names[k]);
  free(m->control);
  mx_idmap_free(m->arms);
  mx_idmap_free(m->segments);
  if (m->cells)
    for (int i = 0; i < m->cell_rows * MX_MEASURE_MAX_ARMS; i++) free(m->cells[i]);
  free(m->cells);
  mx_idmap_free(m->users);
  free(m->unit_arm);
  free(m->unit_seg);
  free(m->unit_y);
  free(m->unit_x);
  free(m);
}

static int arm_index(mx_measure *m, const char *arm, mx_error *err) {
  size_t len = strlen(arm);
  int64_t i = mx_idmap_find(m->arms, arm, len);
  if (i >= 0) return (int)i;
  if (mx_idmap_size(m->arms) >= MX_MEASURE_MAX_ARMS)
    return mx_error_set(err, MX_ELIMIT, "more than %d arms (at '%s'): is the arm column right?",
                        MX_MEASURE_MAX_ARMS, arm);
  i = mx_idmap_intern(m->arms, arm, len);
  return i < 0 ? mx_error_set(err, MX_ENOMEM, "out of memory") : (int)i;
}

int mx_measure_create(const mx_measure_options *opt, mx_measure **out, mx_error *err) {
  *out = NULL;
  if (opt->n_metrics < 1) return mx_error_set(err, MX_EINVAL, "no metric to measure");
  if (opt->n_metrics > MX_MEASURE_MAX_METRICS)
    return mx_error_set(err, MX_EINVAL, "at most %d metrics", MX_MEASURE_MAX_METRICS);
  if (!opt->control || !opt->control[0])
    return mx_error_set(err, MX_EINVAL, "no control arm given");
  if (opt->n_shares < 0 || opt->n_shares > MX_MEASURE_MAX_ARMS)
    return mx_error_set(err, MX_EINVAL, "at most %d arm shares", MX_MEASURE_MAX_ARMS);
  if (opt->level != 0 && !(opt->level > 0 && opt->level < 1))
    return mx_error_set(err, MX_EINVAL, "level must be between 0 and 1 (got %g)", opt->level);
  mx_measure *m = calloc(1, sizeof *m);
  if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
  m->opt = *opt;
  if (m->opt.level == 0) m->opt.level = 0.95;
  m->M = opt->n_metrics;
  m->arms = mx_idmap_create();
  m->segments = mx_idmap_create();
  m->control = mx__strdup(opt->control);
  int rc = MX_OK;
  if (!m->arms || !m->segments || !m->control) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  for (int k = 0; k < m->M; k++) {
    if (!opt->metrics[k] || !opt->metrics[k][0]) {
      rc = mx_error_set(err, MX_EINVAL, "metric %d has no name", k + 1);
      goto fail;
    }
    for (int j = 0; j < k; j++)
      if (!strcmp(opt->metrics[j], opt->metrics[k])) {
        rc = mx_error_set(err, MX_EINVAL, "metric '%s' given twice", opt->metrics[k]);
        goto fail;
      }
    if (!(m->metric_names[k] = mx__strdup(opt->metrics[k]))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    m->opt.metrics[k] = m->metric_names[k];
    m->event_kind[k] = event_kind(opt->metrics[k]);
    m->binary[k] = 1;
  }
  m->opt.control = m->control;
  /* the control first, then the planned arms in the order given */
  if ((rc = arm_index(m, m->control, err)) < 0) goto fail;
  int control_share_given = 0;
  for (int i = 0; i < opt->n_shares; i++) {
    const char *a = opt->share_arm[i];
    double s = opt->share[i];
    if (!a || !a[0]) {
      rc = mx_error_set(err, MX_EINVAL, "share %d has no arm name", i + 1);
      goto fail;
    }
    if (!(s >= 0) || !isfinite(s)) {
      rc = mx_error_set(err, MX_EINVAL, "share of arm '%s' must be a finite number >= 0 (got %g)",
                        a, s);
      goto fail;
    }
    if (!strcmp(a, m->control)) {
      control_share_given = 1;
      if (s == 0) {
        rc = mx_error_set(err, MX_EINVAL,
                          "control arm '%s' has share 0: nothing to compare the arms with", a);
        goto fail;
      }
    }
    for (int j = 0; j < i; j++)
      if (!strcmp(opt->share_arm[j], a)) {
        rc = mx_error_set(err, MX_EINVAL, "share of arm '%s' given twice", a);
        goto fail;
      }
    if ((rc = arm_index(m, a, err)) < 0) goto fail;
    m->share_of[rc] = s;
    m->opt.share_arm[i] = NULL; /* names live in the arm map */
  }
  if (opt->n_shares > 0 && !control_share_given) {
    rc = mx_error_set(err, MX_EINVAL, "no share given for the control arm '%s'", m->control);
    goto fail;
  }
  rc = MX_OK;
  *out = m;
  return MX_OK;
fail:
  mx_measure_free(m);
  return rc;
}

static int segment_index(mx_measure *m, const char *segment, mx_error *err) {
  if (!segment) return -1;
  const char *s = segment[0] ? segment : "(none)";
  size_t len = strlen(s);
  int64_t i = mx_idmap_find(m->segments, s, len);
  if (i >= 0) return (int)i;
  if (mx_idmap_size(m->segments) >= MAX_SEGMENTS)
    return mx_error_set(err, MX_ELIMIT, "more than %d segments (at '%s'): is the segment column right?",
                        MAX_SEGMENTS, s), -2;
  i = mx_idmap_intern(m->segments, s, len);
  if (i < 0) return mx_error_set(err, MX_ENOMEM, "out of memory"), -2;
  return (int)i;
}

static cell *get_cell(mx_measure *m, int seg, int arm, mx_error *err) {
  int row = seg + 1;
  if (row >= m->cell_rows) {
    int rows = m->cell_rows ? m->cell_rows : 4;
    while (rows <= row) rows *= 2;
    cell **c = realloc(m->cells, (size_t)rows * MX_MEASURE_MAX_ARMS * sizeof *c);
    if (!c) return mx_error_set(err, MX_ENOMEM, "out of memory"), NULL;
    memset(c + (size_t)m->cell_rows * MX_MEASURE_MAX_ARMS, 0,
           (size_t)(rows - m->cell_rows) * MX_MEASURE_MAX_ARMS * sizeof *c);
    m->cells = c;
    m->cell_rows = rows;
  }
  cell **slot = &m->cells[(size_t)row * MX_MEASURE_MAX_ARMS + arm];
  if (!*slot) {
    *slot = calloc(1, sizeof(cell) + (size_t)A_N * m->M * sizeof(double));
    if (!*slot) return mx_error_set(err, MX_ENOMEM, "out of memory"), NULL;
  }
  return *slot;
}

static void cell_add(cell *c, int M, const double *y, const double *x) {
  c->n++;
  double inv = 1.0 / (double)c->n;
  for (int k = 0; k < M; k++) {
    double *v = c->v + k * A_N;
    double dy = y[k] - v[A_MY];
    /* Neumaier's compensated sum: the mean is the exactly rounded sum / n for
     * any realistic input, so it matches math.fsum-based references */
    double t = v[A_SUM] + y[k];
    v[A_SUMC] += fabs(v[A_SUM]) >= fabs(y[k]) ? (v[A_SUM] - t) + y[k] : (y[k] - t) + v[A_SUM];
    v[A_SUM] = t;
    v[A_MY] += dy * inv;
    v[A_M2Y] += dy * (y[k] - v[A_MY]);
    if (x) {
      double dx = x[k] - v[A_MX];
      v[A_MX] += dx * inv;
      v[A_M2X] += dx * (x[k] - v[A_MX]);
      v[A_CXY] += dx * (y[k] - v[A_MY]);
    }
  }
}

static int count_unit(mx_measure *m, int arm, int seg, const double *y, const double *x,
                      mx_error *err) {
  for (int k = 0; k < m->M; k++)
    if (y[k] != 0 && y[k] != 1) m->binary[k] = 0;
  cell *c = get_cell(m, -1, arm, err);
  if (!c) return err ? err->code : MX_ENOMEM;
  cell_add(c, m->M, y, m->opt.cuped ? x : NULL);
  if (seg >= 0) {
    if (!(c = get_cell(m, seg, arm, err))) return err ? err->code : MX_ENOMEM;
    cell_add(c, m->M, y, m->opt.cuped ? x : NULL);
  }
  return MX_OK;
}

static int check_values(const mx_measure *m, const double *v, const char *what, mx_error *err) {
  for (int k = 0; k < m->M; k++)
    if (!isfinite(v[k]))
      return mx_error_set(err, MX_EINVAL, "%s of metric '%s' is not a finite number", what,
                          m->metric_names[k]);
  return MX_OK;
}

int mx_measure_add_row(mx_measure *m, const char *arm, const char *segment, const double *values,
                       const double *covariates, mx_error *err) {
  if (m->finished) return mx_error_set(err, MX_ESTATE, "measurement already finished");
  if (!arm || !arm[0]) return mx_error_set(err, MX_EINVAL, "empty arm");
  int rc = check_values(m, values, "value", err);
  if (rc) return rc;
  if (m->opt.cuped) {
    if (!covariates) return mx_error_set(err, MX_EINVAL, "no covariate given (CUPED is on)");
    if ((rc = check_values(m, covariates, "covariate", err))) return rc;
  }
  int a = arm_index(m, arm, err);
  if (a < 0) return a;
  int s = segment_index(m, segment, err);
  if (s < -1) return err ? err->code : MX_ELIMIT;
  return count_unit(m, a, s, values, covariates, err);
}

int mx_measure_add_unit(mx_measure *m, const char *user, size_t len, const char *arm,
                        const char *segment, mx_error *err) {
  if (m->finished) return mx_error_set(err, MX_ESTATE, "measurement already finished");
  if (!arm || !arm[0]) return mx_error_set(err, MX_EINVAL, "empty arm");
  if (len == 0) return mx_error_set(err, MX_EINVAL, "empty user id");
  if (!m->users && !(m->users = mx_idmap_create()))
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  int a = arm_index(m, arm, err);
  if (a < 0) return a;
  int s = segment_index(m, segment, err);
  if (s < -1) return err ? err->code : MX_ELIMIT;
  int64_t u = mx_idmap_find(m->users, user, len);
  if (u >= 0) {
    if (m->unit_arm[u] != a)
      return mx_error_set(err, MX_EINVAL, "user '%.*s' is assigned to two arms ('%s' and '%s')",
                          (int)(len > 200 ? 200 : len), user,
                          mx_idmap_name(m->arms, m->unit_arm[u]), arm);
    return MX_OK; /* a repeated assignment (one per exposure) counts once */
  }
  u = mx_idmap_intern(m->users, user, len);
  if (u < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if ((size_t)u >= m->unit_cap) {
    size_t cap = m->unit_cap ? 2 * m->unit_cap : 1024, M = (size_t)m->M;
    uint8_t *ua = realloc(m->unit_arm, cap);
    if (ua) m->unit_arm = ua;
    int32_t *us = realloc(m->unit_seg, cap * sizeof *us);
    if (us) m->unit_seg = us;
    double *uy = realloc(m->unit_y, cap * M * sizeof *uy);
    if (uy) m->unit_y = uy;
    double *ux = m->opt.cuped ? realloc(m->unit_x, cap * M * sizeof *ux) : NULL;
    if (ux) m->unit_x = ux;
    if (!ua || !us || !uy || (m->opt.cuped && !ux))
      return mx_error_set(err, MX_ENOMEM, "out of memory (%zu users)", cap);
    m->unit_cap = cap;
  }
  m->unit_arm[u] = (uint8_t)a;
  m->unit_seg[u] = s;
  memset(m->unit_y + (size_t)u * m->M, 0, (size_t)m->M * sizeof(double));
  if (m->opt.cuped) memset(m->unit_x + (size_t)u * m->M, 0, (size_t)m->M * sizeof(double));
  return MX_OK;
}

static int add_to_unit(mx_measure *m, const char *user, size_t len, const double *values,
                       int covariate, mx_error *err) {
  if (m->finished) return mx_error_set(err, MX_ESTATE, "measurement already finished");
  int rc = check_values(m, values, covariate ? "covariate" : "value", err);
  if (rc) return rc;
  int64_t u = m->users ? mx_idmap_find(m->users, user, len) : -1;
  if (u < 0) {
    m->unknown_rows++;
    return MX_OK;
  }
  double *dst = (covariate ? m->unit_x : m->unit_y) + (size_t)u * m->M;
  for (int k = 0; k < m->M; k++) {
    if (!covariate && m->event_kind[k] == EV_CONVERSION && values[k] != 0 && values[k] != 1)
      return mx_error_set(err, MX_EINVAL, "conversion must be 0 or 1 (got %g)", values[k]);
    if (m->event_kind[k] == EV_CONVERSION)
      dst[k] = dst[k] != 0 || values[k] != 0; /* any event converts */
    else
      dst[k] += values[k];
  }
  if (!covariate) m->outcome_rows++;
  return MX_OK;
}

int mx_measure_add_outcome(mx_measure *m, const char *user, size_t len, const double *values,
                           mx_error *err) {
  return add_to_unit(m, user, len, values, 0, err);
}

int mx_measure_add_covariate(mx_measure *m, const char *user, size_t len, const double *values,
                             mx_error *err) {
  if (!m->opt.cuped)
    return mx_error_set(err, MX_ESTATE, "covariates given but CUPED is off (options.cuped)");
  return add_to_unit(m, user, len, values, 1, err);
}

int mx_measure_event_values(const mx_measure *m, double value, double *values, mx_error *err) {
  for (int k = 0; k < m->M; k++) {
    switch (m->event_kind[k]) {
    case EV_CONVERSION: values[k] = 1; break;
    case EV_SUM: values[k] = value; break;
    case EV_COUNT: values[k] = 1; break;
    default:
      return mx_error_set(err, MX_EINVAL,
                          "metric '%s' is not an event metric (event outcomes give conversion, "
                          "revenue (or value) and orders)",
                          m->metric_names[k]);
    }
  }
  return MX_OK;
}

void mx_measure_count_outside(mx_measure *m) { m->outside_rows++; }

const char *mx__measure_metric(const mx_measure *m, int k) { return m->metric_names[k]; }
int mx__measure_metrics(const mx_measure *m) { return m->M; }
int mx__measure_cuped(const mx_measure *m) { return m->opt.cuped; }

/* ------------------------------------------------------------------ result */

static int add_warning(mx_measure_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_warning(mx_measure_result *r, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char **w = realloc(r->warnings, (size_t)(r->n_warnings + 1) * sizeof *w);
  if (!w) return MX_ENOMEM;
  r->warnings = w;
  if (!(w[r->n_warnings] = mx__strdup(buf))) return MX_ENOMEM;
  r->n_warnings++;
  return MX_OK;
}

static void free_cell(mx_measure_cell *c) {
  free(c->mean);
  free(c->sd);
  free(c->lo95);
  free(c->hi95);
}

void mx_measure_result_free(mx_measure_result *r) {
  if (!r) return;
  for (int k = 0; k < r->n_metrics; k++) free(r->metrics ? r->metrics[k] : NULL);
  free(r->metrics);
  free(r->binary);
  free((char *)r->control);
  for (int a = 0; a < r->n_arms && r->arms; a++) free((char *)r->arms[a].arm);
  for (int a = 0; a < r->n_arms && r->arms; a++) free_cell(&r->arms[a]);
  free(r->arms);
  free(r->expected_share);
  for (int i = 0; r->segment_arms && i < r->n_segments * r->n_arms; i++)
    free_cell(&r->segment_arms[i]);
  free(r->segment_arms);
  for (int s = 0; s < r->n_segments && r->segments; s++) free(r->segments[s]);
  free(r->segments);
  free(r->uplift);
  for (int w = 0; w < r->n_warnings; w++) free(r->warnings[w]);
  free(r->warnings);
  free(r);
}

static double cell_var(const cell *c, int k, int field) {
  return c && c->n >= 2 ? c->v[k * A_N + field] / (double)(c->n - 1) : NAN;
}

static int fill_cell(mx_measure_result *r, const mx_measure *m, mx_measure_cell *out,
                     const cell *c, const char *arm, const char *segment) {
  int M = m->M;
  out->arm = arm;
  out->segment = segment;
  out->users = c ? c->n : 0;
  out->mean = malloc((size_t)M * sizeof(double));
  out->sd = malloc((size_t)M * sizeof(double));
  out->lo95 = malloc((size_t)M * sizeof(double));
  out->hi95 = malloc((size_t)M * sizeof(double));
  if (!out->mean || !out->sd || !out->lo95 || !out->hi95) return MX_ENOMEM;
  double level = m->opt.level;
  for (int k = 0; k < M; k++) {
    double n = (double)out->users;
    out->mean[k] = out->sd[k] = out->lo95[k] = out->hi95[k] = NAN;
    if (n < 1) continue;
    double sum = c->v[k * A_N + A_SUM] + c->v[k * A_N + A_SUMC], var = cell_var(c, k, A_M2Y);
    out->mean[k] = sum / n;
    out->sd[k] = sqrt(var);
    if (r->binary[k]) {
      mx_wilson_interval(sum, n, level, &out->lo95[k], &out->hi95[k]);
    } else if (n >= 2) {
      double h = mx_student_t_quantile(0.5 + 0.5 * level, n - 1) * sqrt(var / n);
      out->lo95[k] = out->mean[k] - h;
      out->hi95[k] = out->mean[k] + h;
    }
  }
  return MX_OK;
}

/* The uplift of arm cell c1 over control cell c0 for metric k. */
static void compare(const mx_measure *m, int binary, const cell *c1, const cell *c0, int k,
                    mx_measure_uplift *u) {
  double level = m->opt.level;
  double n1 = c1 ? (double)c1->n : 0, n0 = c0 ? (double)c0->n : 0;
  u->method = binary ? "newcombe" : "welch";
  u->rel = u->rel_lo = u->rel_hi = u->theta = u->variance_reduction = NAN;
  mx_diff_interval nan_d = {NAN, NAN, NAN, NAN, NAN, NAN};
  u->d = u->cuped = nan_d;
  if (n1 < 1 || n0 < 1) return;
  const double *v1 = c1->v + k * A_N, *v0 = c0->v + k * A_N;
  double s1 = v1[A_SUM] + v1[A_SUMC], s0 = v0[A_SUM] + v0[A_SUMC];
  double m1 = s1 / n1, m0 = s0 / n0;
  double var1 = cell_var(c1, k, A_M2Y), var0 = cell_var(c0, k, A_M2Y);
  if (binary)
    mx_newcombe_diff(s1, n1, s0, n0, level, &u->d);
  else
    mx_welch_diff(m1, var1, n1, m0, var0, n0, level, &u->d);
  if (!binary && n1 >= 2 && n0 >= 2) u->d.diff = m1 - m0; /* sum/n, as the means report */
  /* a 0/1 metric's variance for the relative interval: p(1-p) n/(n-1) is the
   * sample variance, which cell_var already is */
  mx_relative_uplift(m1, n1 >= 2 ? var1 : 0, n1, m0, n0 >= 2 ? var0 : 0, n0, level, &u->rel,
                     &u->rel_lo, &u->rel_hi);
  if (!m->opt.cuped || n1 < 2 || n0 < 2) return;
  double sxx = v1[A_M2X] + v0[A_M2X], sxy = v1[A_CXY] + v0[A_CXY], syy = v1[A_M2Y] + v0[A_M2Y];
  double theta = sxx > 0 ? sxy / sxx : 0;
  u->theta = theta;
  double a1 = (v1[A_M2Y] - 2 * theta * v1[A_CXY] + theta * theta * v1[A_M2X]) / (n1 - 1);
  double a0 = (v0[A_M2Y] - 2 * theta * v0[A_CXY] + theta * theta * v0[A_M2X]) / (n0 - 1);
  if (a1 < 0) a1 = 0;
  if (a0 < 0) a0 = 0;
  double adj1 = m1 - theta * v1[A_MX], adj0 = m0 - theta * v0[A_MX];
  mx_welch_diff(adj1, a1, n1, adj0, a0, n0, level, &u->cuped);
  if (syy > 0) u->variance_reduction = 1 - (syy - 2 * theta * sxy + theta * theta * sxx) / syy;
}

int mx_measure_finish(mx_measure *m, mx_measure_result **out, mx_error *err) {
  *out = NULL;
  if (m->finished) return mx_error_set(err, MX_ESTATE, "measurement already finished");
  int rc = MX_OK;
  /* join units into cells */
  uint32_t nu = m->users ? mx_idmap_size(m->users) : 0;
  for (uint32_t u = 0; u < nu; u++) {
    const double *x = m->opt.cuped ? m->unit_x + (size_t)u * m->M : NULL;
    if ((rc = count_unit(m, m->unit_arm[u], m->unit_seg[u], m->unit_y + (size_t)u * m->M, x, err)))
      return rc;
  }
  m->finished = 1;
  int n_arms = (int)mx_idmap_size(m->arms), n_seg = (int)mx_idmap_size(m->segments);
  uint64_t total = 0;
  for (int a = 0; a < n_arms; a++) {
    cell *c = m->cell_rows ? m->cells[a] : NULL;
    total += c ? c->n : 0;
  }
  if (total == 0) return mx_error_set(err, MX_EEMPTY, "no units to measure");
  cell *control = m->cells[0]; /* the control is arm 0 */
  if (!control || control->n == 0) {
    char list[512] = "";
    for (int a = 1; a < n_arms; a++) {
      cell *c = m->cells[a];
      if (!c || !c->n) continue;
      if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
      strncat(list, mx_idmap_name(m->arms, (uint32_t)a), sizeof list - strlen(list) - 1);
    }
    return mx_error_set(err, MX_ENOTFOUND, "control arm '%s' has no users (arms with users: %s)",
                        m->control, list);
  }
  mx_measure_result *r = calloc(1, sizeof *r);
  if (!r) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int M = m->M;
  r->n_metrics = M;
  r->cuped = m->opt.cuped;
  r->users = total;
  r->outcome_rows = m->outcome_rows;
  r->unknown_rows = m->unknown_rows;
  r->outside_rows = m->outside_rows;
  r->metrics = calloc((size_t)M, sizeof *r->metrics);
  r->binary = calloc((size_t)M, sizeof *r->binary);
  r->control = mx__strdup(m->control);
  r->n_arms = n_arms;
  r->arms = calloc((size_t)n_arms, sizeof *r->arms);
  r->expected_share = calloc((size_t)n_arms, sizeof *r->expected_share);
  r->n_segments = n_seg;
  r->segments = n_seg ? calloc((size_t)n_seg, sizeof *r->segments) : NULL;
  r->segment_arms = n_seg ? calloc((size_t)n_seg * n_arms, sizeof *r->segment_arms) : NULL;
  int max_uplift = (n_arms - 1) * M * (1 + n_seg);
  r->uplift = calloc((size_t)(max_uplift ? max_uplift : 1), sizeof *r->uplift);
  if (!r->metrics || !r->binary || !r->control || !r->arms || !r->expected_share ||
      (n_seg && (!r->segments || !r->segment_arms)) || !r->uplift)
    goto nomem;
  for (int k = 0; k < M; k++) {
    if (!(r->metrics[k] = mx__strdup(m->metric_names[k]))) goto nomem;
    r->binary[k] = m->binary[k];
  }
  for (int a = 0; a < n_arms; a++)
    if (!(r->arms[a].arm = mx__strdup(mx_idmap_name(m->arms, (uint32_t)a)))) goto nomem;
  for (int s = 0; s < n_seg; s++)
    if (!(r->segments[s] = mx__strdup(mx_idmap_name(m->segments, (uint32_t)s)))) goto nomem;
  for (int a = 0; a < n_arms; a++)
    if (fill_cell(r, m, &r->arms[a], m->cells[a], r->arms[a].arm, NULL)) goto nomem;
  for (int s = 0; s < n_seg; s++)
    for (int a = 0; a < n_arms; a++) {
      const cell *c = (s + 1) < m->cell_rows ? m->cells[(size_t)(s + 1) * MX_MEASURE_MAX_ARMS + a]
                                             : NULL;
      if (fill_cell(r, m, &r->segment_arms[(size_t)s * n_arms + a], c, r->arms[a].arm,
                    r->segments[s]))
        goto nomem;
    }
  /* uplift: overall, then per segment */
  int warned_small = 0, small_more = 0;
  int rel_warned[MX_MEASURE_MAX_METRICS] = {0};
  for (int s = -1; s < n_seg; s++) {
    const cell *c0 = (s + 1) < m->cell_rows ? m->cells[(size_t)(s + 1) * MX_MEASURE_MAX_ARMS] : NULL;
    for (int a = 1; a < n_arms; a++) {
      const cell *c1 = (s + 1) < m->cell_rows ? m->cells[(size_t)(s + 1) * MX_MEASURE_MAX_ARMS + a]
                                              : NULL;
      uint64_t n1 = c1 ? c1->n : 0, n0 = c0 ? c0->n : 0;
      if (s < 0 && n1 == 0) {
        if (add_warning(r, "arm '%s' has no users: no figures for it", r->arms[a].arm)) goto nomem;
        continue;
      }
      if (s >= 0 && (n1 < 2 || n0 < 2)) {
        if (warned_small < 5) {
          if (add_warning(r, "segment '%s': %s '%s' has %llu user%s: no interval there",
                          r->segments[s], n1 < 2 ? "arm" : "control", n1 < 2 ? r->arms[a].arm : r->control,
                          (unsigned long long)(n1 < 2 ? n1 : n0), (n1 < 2 ? n1 : n0) == 1 ? "" : "s"))
            goto nomem;
          warned_small++;
        } else {
          small_more++;
        }
      }
      for (int k = 0; k < M; k++) {
        mx_measure_uplift *u = &r->uplift[r->n_uplift++];
        u->arm = r->arms[a].arm;
        u->segment = s < 0 ? NULL : r->segments[s];
        u->metric = k;
        compare(m, r->binary[k], c1, c0, k, u);
        if (s < 0 && isnan(u->rel) && c0 && c0->v[k * A_N + A_SUM] + c0->v[k * A_N + A_SUMC] == 0 &&
            !rel_warned[k]) {
          rel_warned[k] = 1;
          if (add_warning(r, "metric '%s': the control's mean is 0, so no relative uplift",
                          r->metrics[k]))
            goto nomem;
        }
      }
    }
  }
  if (small_more && add_warning(r, "... and %d more segment and arm pairs with fewer than 2 users",
                                small_more))
    goto nomem;
  /* sample-ratio mismatch */
  {
    double obs[MX_MEASURE_MAX_ARMS], shares[MX_MEASURE_MAX_ARMS], ssum = 0;
    for (int a = 0; a < n_arms; a++) {
      obs[a] = (double)r->arms[a].users;
      shares[a] = m->opt.n_shares ? 0 : (r->arms[a].users > 0);
    }
    if (m->opt.n_shares) {
      for (int a = 0; a < n_arms; a++) {
        shares[a] = m->share_of[a];
        if (shares[a] == 0 && obs[a] > 0 &&
            add_warning(r, "arm '%s' has %llu users but no planned share", r->arms[a].arm,
                        (unsigned long long)r->arms[a].users))
          goto nomem;
      }
    }
    for (int a = 0; a < n_arms; a++) ssum += shares[a];
    for (int a = 0; a < n_arms; a++) r->expected_share[a] = ssum > 0 ? shares[a] / ssum : NAN;
    r->srm_p_value = mx_srm_test(obs, shares, n_arms, &r->srm_chi2);
    if (r->srm_p_value < 0.001 &&
        add_warning(r, "sample ratio mismatch (chi-square %.4g, p = %.3g): the arm sizes differ "
                       "from the planned shares; check the assignment before trusting the uplift",
                    r->srm_chi2, r->srm_p_value))
      goto nomem;
  }
  if (m->unknown_rows &&
      add_warning(r, "%llu outcome rows name users with no assignment (ignored)",
                  (unsigned long long)m->unknown_rows))
    goto nomem;
  if (nu > 0 && m->outcome_rows == 0) {
    if (m->outside_rows) {
      if (add_warning(r, "no outcome row falls in the window (%llu rows outside it): every user "
                         "counts 0",
                      (unsigned long long)m->outside_rows))
        goto nomem;
    } else if (add_warning(r, "no outcome row matches an assigned user: every user counts 0")) {
      goto nomem;
    }
  }
  *out = r;
  return MX_OK;
nomem:
  mx_measure_result_free(r);
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}
