/* merx — campaign measurement: the statistics of a randomised comparison
 * (Wilson, Newcombe, Welch, two-proportion z, relative uplift, sample-ratio
 * mismatch, CUPED) and the measurement of arms and segments from units
 * (user, arm, segment) and their outcomes.
 *
 * Units come from any source through mx_measure_add_unit (a CSV of
 * assignments, the store's ledger, a script), or as whole rows of a per-user
 * outcome table through mx_measure_add_row; outcomes join on the user id.
 * Every accumulation is in double, one pass, with per-(segment, arm)
 * accumulators (Welford / Chan updates), so 10M rows stream. */
#ifndef MERX_MEASURE_H
#define MERX_MEASURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "merx/error.h"
#include "merx/csv.h"
#include "merx/idmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ distributions */
/* Student t with df > 0 degrees of freedom (df may be fractional, as a
 * Welch-Satterthwaite df is): P(T <= t), via the regularised incomplete beta
 * I_{df/(df+t^2)}(df/2, 1/2); absolute error below 1e-13. */
MX_API double mx_student_t_cdf(double t, double df);
/* t with P(T <= t) = p, 0 < p < 1 (Newton on the cdf, bracketed; relative
 * error below 1e-12). NaN outside (0,1) or for df <= 0. */
MX_API double mx_student_t_quantile(double p, double df);
/* Upper tail P(X > x) of a chi-square with df degrees of freedom:
 * Q(df/2, x/2), the regularised upper incomplete gamma. */
MX_API double mx_chi2_sf(double x, double df);

/* ---------------------------------------------------------------- intervals
 * Every interval is two-sided at confidence `level` (0.95 for 95%). */

/* Wilson score interval for a proportion x/n, without continuity correction
 * (Wilson 1927; Newcombe 1998a, method 3). n > 0. */
MX_API void mx_wilson_interval(double x, double n, double level, double *lo, double *hi);

/* Difference of two independent proportions p1 - p0 = x1/n1 - x0/n0 with
 * Newcombe's hybrid score interval (Newcombe 1998b, Stat. Med. 17:873,
 * method 10: Wilson limits of each proportion combined by the square-and-add
 * rule, no continuity correction), and the two-sided p-value of the
 * two-proportion z test with pooled variance (equal to Pearson's chi-square
 * test of the 2x2 table without continuity correction). n1, n0 > 0. */
typedef struct mx_diff_interval {
  double diff;    /* estimate: mean(arm) - mean(control) */
  double lo, hi;  /* interval for diff */
  double se;      /* standard error used by the test */
  double df;      /* Welch-Satterthwaite degrees of freedom; INFINITY for z */
  double p_value; /* two-sided; NaN when undefined (no variance at all) */
} mx_diff_interval;
MX_API void mx_newcombe_diff(double x1, double n1, double x0, double n0, double level,
                             mx_diff_interval *out);

/* Welch's t interval and test for mean1 - mean0 from each group's mean,
 * sample variance (n - 1 denominator) and size (Welch 1947; df by
 * Satterthwaite 1946). Needs n1, n0 >= 2; with both variances 0 the
 * interval is the point diff and p_value is NaN. */
MX_API void mx_welch_diff(double mean1, double var1, double n1, double mean0, double var0,
                          double n0, double level, mx_diff_interval *out);

/* Relative uplift r = mean1 / mean0 - 1 with a delta-method interval: the
 * variance of the ratio of two independent means is
 * var1/(n1 m0^2) + m1^2 var0/(n0 m0^4) (first-order Taylor expansion; Casella
 * & Berger, Statistical Inference, 5.5.4), normal quantile. All NaN when
 * mean0 == 0. */
MX_API void mx_relative_uplift(double mean1, double var1, double n1, double mean0, double var0,
                               double n0, double level, double *rel, double *lo, double *hi);

/* Sample-ratio mismatch: Pearson's chi-square goodness-of-fit of the
 * observed unit counts against expected shares (need not sum to 1; they are
 * normalised), k - 1 degrees of freedom. Returns the p-value, the statistic
 * in *chi2 (may be NULL); NaN when fewer than 2 arms have a positive share. */
MX_API double mx_srm_test(const double *observed, const double *shares, int k, double *chi2);

/* --------------------------------------------------------------- measurement */

#define MX_MEASURE_MAX_METRICS 32
#define MX_MEASURE_MAX_ARMS 64

typedef struct mx_measure mx_measure;

typedef struct mx_measure_options {
  int n_metrics;
  const char *metrics[MX_MEASURE_MAX_METRICS]; /* names (copied) */
  const char *control;                         /* control arm (required, copied) */
  /* planned arm shares for the SRM test; n_shares 0: equal shares of the arms
   * seen. An arm with a share but no users is reported (users 0). */
  int n_shares;
  const char *share_arm[MX_MEASURE_MAX_ARMS];
  double share[MX_MEASURE_MAX_ARMS];
  int cuped; /* units carry a covariate per metric: report CUPED figures */
  double level; /* 0: 0.95 */
} mx_measure_options;

MX_API mx_measure_options mx_measure_defaults(void);

/* Create an accumulator. Errors (MX_EINVAL): no metric, no control, a share
 * that is not a finite number >= 0, the control's share 0. *out is owned by
 * the caller (mx_measure_free). */
MX_API int mx_measure_create(const mx_measure_options *opt, mx_measure **out, mx_error *err);
MX_API void mx_measure_free(mx_measure *m);

/* A unit of a per-user outcome table: one user's arm, segment (NULL or "":
 * none), outcome values (one per metric, in option order) and covariates
 * (one per metric; NULL when opt.cuped is 0). The unit is counted at once,
 * nothing is kept per user. */
MX_API int mx_measure_add_row(mx_measure *m, const char *arm, const char *segment,
                              const double *values, const double *covariates, mx_error *err);

/* Register a unit for the join: user (len bytes) in arm and segment (NULL:
 * none). Its outcomes start at 0 (users without outcome rows count as 0).
 * A user registered twice in different arms is an error (MX_EINVAL). */
MX_API int mx_measure_add_unit(mx_measure *m, const char *user, size_t len, const char *arm,
                               const char *segment, mx_error *err);
/* Add an outcome row of a registered user: values (one per metric) are
 * added to the user's totals. An unknown user is counted
 * (mx_measure_result.unknown_rows), not an error. */
MX_API int mx_measure_add_outcome(mx_measure *m, const char *user, size_t len,
                                  const double *values, mx_error *err);
/* Add the user's pre-period covariates (one per metric, summed like
 * outcomes); opt.cuped must be set. Unknown users are counted. */
MX_API int mx_measure_add_covariate(mx_measure *m, const char *user, size_t len,
                                    const double *values, mx_error *err);
/* Event outcomes: the metric values one event row (time, value) adds, for
 * the event metrics: "conversion" (1 when the user has any event: a 0/1
 * metric), "revenue" or "value" (sum of value), "orders" (count of rows).
 * Fills values[n_metrics] for mx_measure_add_outcome; MX_EINVAL naming the
 * metric when one is not an event metric. */
MX_API int mx_measure_event_values(const mx_measure *m, double value, double *values,
                                   mx_error *err);
/* Count an outcome row that fell outside the window (for the result's
 * warning when no row fell inside). */
MX_API void mx_measure_count_outside(mx_measure *m);

typedef struct mx_measure_cell {
  const char *arm;
  const char *segment; /* NULL: all units */
  uint64_t users;
  double *mean;  /* [n_metrics]; NaN when users == 0 */
  double *sd;    /* sample sd; NaN when users < 2 */
  double *lo95, *hi95; /* interval of the mean: Wilson for 0/1 metrics, t otherwise */
} mx_measure_cell;

typedef struct mx_measure_uplift {
  const char *arm;
  const char *segment; /* NULL: all units */
  int metric;
  const char *method;  /* "newcombe" or "welch" */
  mx_diff_interval d;  /* diff, lo, hi, p_value; NaN when not computable */
  double rel, rel_lo, rel_hi;
  /* CUPED (Deng et al. 2013): Y - theta (X - mean X), theta = cov(Y, X) /
   * var(X) over all units; Welch interval on the adjusted values. NaN without
   * covariates. variance_reduction = 1 - var(adjusted) / var(Y), pooled. */
  double theta;
  mx_diff_interval cuped;
  double variance_reduction;
} mx_measure_uplift;

typedef struct mx_measure_result {
  int n_metrics;
  char **metrics;
  int *binary; /* [n_metrics]: every value 0 or 1 (Newcombe/Wilson) */
  const char *control;
  int n_arms; /* arms in output order: control first, then by first appearance */
  mx_measure_cell *arms;
  double *expected_share; /* [n_arms] normalised shares used by the SRM test */
  int n_segments;
  char **segments;
  mx_measure_cell *segment_arms; /* [n_segments * n_arms], row-major by segment */
  int n_uplift;
  mx_measure_uplift *uplift; /* overall first (arm-major, then metric), then per segment */
  double srm_chi2, srm_p_value;
  uint64_t users;
  uint64_t outcome_rows;  /* outcome rows joined to a unit */
  uint64_t unknown_rows;  /* outcome rows of users with no assignment */
  uint64_t outside_rows;  /* event rows outside the window */
  int cuped;
  int n_warnings;
  char **warnings; /* each one sentence, no "warning:" prefix */
} mx_measure_result;

/* Compute the result. Errors: no units (MX_EEMPTY); the control arm has no
 * units (MX_ENOTFOUND naming it and the arms seen). Warnings (in the
 * result): outcome rows of unknown users, arms without users, segments
 * where an arm has fewer than 2 users, no outcome row at all, a failed
 * SRM test (p < 0.001). Call it once: afterwards the accumulator only
 * refuses (MX_ESTATE). *out is owned by the caller (mx_measure_result_free). */
MX_API int mx_measure_finish(mx_measure *m, mx_measure_result **out, mx_error *err);
MX_API void mx_measure_result_free(mx_measure_result *r);

/* ------------------------------------------------------------- file sources
 * The CSV readers the CLI and Lua share. Column roles (mx_columns): user,
 * arm, segment, covariate, time, value. */
typedef struct mx_measure_source {
  mx_csv_options csv;
  mx_columns columns;
  int64_t from, to; /* event window [from, to]; from > to: no window */
  int has_window;
} mx_measure_source;

/* Per-user outcome table: each row one unit (arm= and the metric columns by
 * their header names; segment= and covariate= optional; a covariate column
 * is every metric's covariate). A user= column makes the rows units of the
 * join instead (for a pre-period file). Non-numeric metric cells fail with
 * file:line:field. */
MX_API int mx_measure_read_table(mx_measure *m, const char *path, const mx_measure_source *src,
                                 mx_error *err);
/* Assignments: user=, arm=, optional segment=. */
MX_API int mx_measure_read_units(mx_measure *m, const char *path, const mx_measure_source *src,
                                 mx_error *err);
/* Outcomes joined on user=: event rows when the source has time= or value=
 * (or a window), else per-user rows whose metric columns are summed.
 * covariate = 1 reads them as pre-period covariates instead. */
MX_API int mx_measure_read_outcomes(mx_measure *m, const char *path, const mx_measure_source *src,
                                    int covariate, mx_error *err);

/* ------------------------------------------------------------- one request
 * What `merx measure` and merx.measure{...} do: units from the outcome table
 * (arm= among its columns), from an assignments file, or from a caller's
 * feeder (the store's ledger); outcomes joined on the user; optional
 * pre-period file for CUPED; then the result. */
typedef struct mx_measure_request {
  mx_measure_options opt; /* n_metrics 0 with event outcomes: conversion, revenue, orders */
  const char *outcomes;   /* required */
  const char *assignments; /* NULL: arms from the outcomes' arm= column or from units() */
  const char *pre;        /* pre-period outcomes (CUPED covariates), NULL: none */
  mx_csv_options csv;     /* separator and header, for every file */
  mx_columns columns;     /* roles of the outcomes file */
  mx_columns assignment_columns; /* count 0: user=user,arm=arm */
  mx_columns pre_columns;        /* count 0: the user, time and value roles of columns */
  const char *segment;    /* segment column of the file that holds the arms, NULL: none */
  const char *covariate;  /* covariate column of the outcome table (CUPED), NULL: none */
  int has_window;
  int64_t from, to;       /* event window, both ends included */
  /* Units from elsewhere (called before the outcomes are read), NULL: none.
   * It calls mx_measure_add_unit for each unit and returns MX_OK or an error. */
  int (*units)(void *ctx, mx_measure *m, mx_error *err);
  void *units_ctx;
} mx_measure_request;

MX_API mx_measure_request mx_measure_request_defaults(void);
/* Run it. *out is owned by the caller (mx_measure_result_free). */
MX_API int mx_measure_run(const mx_measure_request *req, mx_measure_result **out, mx_error *err);

/* "arm=0.5,arm2=0.5" into opt's shares (arm names may hold spaces; the last
 * '=' of an item splits it). The names are copied into buf (size bytes),
 * which must outlive mx_measure_create. Errors name the bad item. */
MX_API int mx_measure_parse_shares(mx_measure_options *opt, const char *spec, char *buf,
                                   size_t size, mx_error *err);
/* "FROM..TO" (either side may be empty; ISO 8601 dates or times or epoch
 * seconds; a date-only TO covers its whole day) into [from, to]. */
MX_API int mx_measure_parse_window(const char *spec, int64_t *from, int64_t *to, mx_error *err);

/* ------------------------------------------------------------------ reports */
/* One JSON object (the `merx measure --json` contract: arms, uplift,
 * srm_p_value, plus segments, warnings and counts). */
MX_API void mx_measure_write_json(const mx_measure_result *r, FILE *f);
/* Long CSV: segment,arm,metric,users,mean,lo95,hi95,diff,diff_lo95,... */
MX_API void mx_measure_write_csv(const mx_measure_result *r, FILE *f);
/* Self-contained HTML page: a table and one inline SVG chart per metric. */
MX_API void mx_measure_write_html(const mx_measure_result *r, const char *title, FILE *f);
/* Plain-text table for a terminal. */
MX_API void mx_measure_write_text(const mx_measure_result *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
