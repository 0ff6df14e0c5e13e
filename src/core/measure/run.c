/* One measurement request, as `merx measure` and merx.measure{...} make it:
 * choose where the units come from (the outcome table's arm column, an
 * assignments file, or a caller's feeder such as the store's ledger), join
 * the outcomes and the pre-period covariates, and compute the result. Also
 * the parsers of the shares and window options both front ends take. */
#include <stdlib.h>
#include <string.h>

#include "core/measure/internal.h"
#include "util/util.h"

mx_measure_request mx_measure_request_defaults(void) {
  mx_measure_request r;
  memset(&r, 0, sizeof r);
  r.opt = mx_measure_defaults();
  r.csv = mx_csv_defaults();
  return r;
}

static int has_role(const mx_columns *c, const char *role) {
  for (int i = 0; i < c->count; i++)
    if (!strcmp(c->role[i], role)) return 1;
  return 0;
}

static int copy_role(mx_columns *dst, const mx_columns *src, const char *role, mx_error *err) {
  for (int i = 0; i < src->count; i++)
    if (!strcmp(src->role[i], role)) return mx_columns_set(dst, role, src->name[i], err);
  return MX_OK;
}

int mx_measure_run(const mx_measure_request *req, mx_measure_result **out, mx_error *err) {
  *out = NULL;
  if (!req->outcomes) return mx_error_set(err, MX_EINVAL, "no outcomes file given");
  mx_measure_options opt = req->opt;
  int events = has_role(&req->columns, "time") || has_role(&req->columns, "value") ||
               req->has_window;
  int table = has_role(&req->columns, "arm");
  int joined = req->assignments || req->units;
  if (table && joined)
    return mx_error_set(err, MX_EINVAL,
                        "the arms come either from the outcomes' arm column or from the "
                        "assignments, not both");
  if (!table && !joined)
    return mx_error_set(err, MX_EINVAL,
                        "where are the arms? name the outcomes' arm column (--columns arm=NAME) "
                        "or give the assignments (--assignments FILE)");
  if (table && events)
    return mx_error_set(err, MX_EINVAL,
                        "a per-user outcome table (arm= column) has no event time or value: drop "
                        "time=/value=/--window, or give the assignments separately");
  if (opt.n_metrics == 0) {
    if (!events)
      return mx_error_set(err, MX_EINVAL, "no metric given (--metric NAME, a column of %s)",
                          req->outcomes);
    static const char *const ev[] = {"conversion", "revenue", "orders"};
    opt.n_metrics = 3;
    for (int k = 0; k < 3; k++) opt.metrics[k] = ev[k];
  }
  if (req->covariate && !table)
    return mx_error_set(err, MX_EINVAL,
                        "a covariate column belongs to a per-user outcome table; with assignments "
                        "give a pre-period file (--pre FILE)");
  if (req->covariate && req->pre)
    return mx_error_set(err, MX_EINVAL, "give a covariate column or a pre-period file, not both");
  opt.cuped = req->covariate || req->pre;
  mx_measure_source out_src = {req->csv, req->columns, req->from, req->to, req->has_window};
  int rc = MX_OK;
  if (table && req->segment) rc = mx_columns_set(&out_src.columns, "segment", req->segment, err);
  if (!rc && req->covariate) rc = mx_columns_set(&out_src.columns, "covariate", req->covariate, err);
  if (!rc && req->pre && table && !has_role(&req->columns, "user"))
    rc = mx_error_set(err, MX_EINVAL,
                      "a pre-period file joins on the user: name the user column (--columns "
                      "user=NAME)");
  if (rc) return rc;
  mx_measure *m = NULL;
  if ((rc = mx_measure_create(&opt, &m, err))) return rc;
  if (req->units) rc = req->units(req->units_ctx, m, err);
  if (!rc && req->assignments) {
    mx_measure_source as = {req->csv, req->assignment_columns, 0, -1, 0};
    if (as.columns.count == 0) {
      rc = mx_columns_set(&as.columns, "user", "user", err);
      if (!rc) rc = mx_columns_set(&as.columns, "arm", "arm", err);
    }
    if (!rc && req->segment) rc = mx_columns_set(&as.columns, "segment", req->segment, err);
    if (!rc) rc = mx_measure_read_units(m, req->assignments, &as, err);
  }
  if (!rc) {
    rc = table ? mx_measure_read_table(m, req->outcomes, &out_src, err)
               : mx_measure_read_outcomes(m, req->outcomes, &out_src, 0, err);
  }
  if (!rc && req->pre) {
    mx_measure_source ps = {req->csv, req->pre_columns, 0, -1, 0};
    if (ps.columns.count == 0) {
      rc = copy_role(&ps.columns, &req->columns, "user", err);
      if (!rc) rc = copy_role(&ps.columns, &req->columns, "time", err);
      if (!rc) rc = copy_role(&ps.columns, &req->columns, "value", err);
    }
    if (!rc) rc = mx_measure_read_outcomes(m, req->pre, &ps, 1, err);
  }
  if (!rc) rc = mx_measure_finish(m, out, err);
  mx_measure_free(m);
  return rc;
}

typedef struct share_ctx {
  mx_measure_options *opt;
  char *buf;
  size_t size, used;
} share_ctx;

static int add_share(void *ctx, const char *name, size_t len, double v, mx_error *err) {
  share_ctx *c = ctx;
  if (v < 0)
    return mx_error_set(err, MX_EINVAL, "share of '%.*s' must be a number >= 0, got %g", (int)len,
                        name, v);
  if (c->opt->n_shares >= MX_MEASURE_MAX_ARMS)
    return mx_error_set(err, MX_EINVAL, "more than %d shares", MX_MEASURE_MAX_ARMS);
  if (c->used + len + 1 > c->size) return mx_error_set(err, MX_EINVAL, "shares too long");
  memcpy(c->buf + c->used, name, len);
  c->buf[c->used + len] = '\0';
  c->opt->share_arm[c->opt->n_shares] = c->buf + c->used;
  c->opt->share[c->opt->n_shares++] = v;
  c->used += len + 1;
  return MX_OK;
}

int mx_measure_parse_shares(mx_measure_options *opt, const char *spec, char *buf, size_t size,
                            mx_error *err) {
  opt->n_shares = 0;
  share_ctx c = {opt, buf, size, 0};
  int rc = mx__parse_named_numbers(spec, "ARM=SHARE", add_share, &c, err);
  if (rc) return rc;
  if (opt->n_shares == 0) return mx_error_set(err, MX_EINVAL, "no shares given");
  return MX_OK;
}

int mx_measure_parse_window(const char *spec, int64_t *from, int64_t *to, mx_error *err) {
  const char *dots = strstr(spec, "..");
  if (!dots) return mx_error_set(err, MX_EINVAL, "expected FROM..TO, got '%s'", spec);
  char a[64], b[64];
  size_t al = (size_t)(dots - spec), bl = strlen(dots + 2);
  if (al >= sizeof a || bl >= sizeof b)
    return mx_error_set(err, MX_EINVAL, "expected FROM..TO, got '%s'", spec);
  memcpy(a, spec, al);
  a[al] = '\0';
  memcpy(b, dots + 2, bl + 1);
  *from = INT64_MIN;
  *to = INT64_MAX;
  if (al && mx_parse_time(a, from) != 0)
    return mx_error_set(err, MX_EINVAL, "window start: not a date or time: '%s'", a);
  if (bl) {
    if (mx_parse_time(b, to) != 0)
      return mx_error_set(err, MX_EINVAL, "window end: not a date or time: '%s'", b);
    if (bl == 10 && b[4] == '-' && b[7] == '-') *to += 86399; /* a date: its whole day */
  }
  if (*from > *to) return mx_error_set(err, MX_EINVAL, "window '%s' ends before it starts", spec);
  return MX_OK;
}
