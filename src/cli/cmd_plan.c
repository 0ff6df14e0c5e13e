/* merx plan: replenishment orders from stock levels and a demand forecast.
 *
 * Inputs: a stock file (one row per item: on hand, on order, lead time, MOQ,
 * pack size, service target or costs) and a forecast, either a CSV as written
 * by `merx forecast` (id,h,forecast,lo80,hi80,...), or a sales history that
 * is forecast here (plan_history.c). Each item gets an order-up-to level from its
 * lead-time demand (mx_plan_item_compute) and an order rounded to MOQ and
 * packs. Optionally the plan's policy is replayed against realised demand
 * (--actuals) to report the fill rate and stock it would have achieved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plan.h"
#include "util/util.h"

static const char *usage =
    "usage: merx plan --stock FILE (--forecast FILE.csv | --history FILE --format long|wide)\n"
    "                 --out ORDERS.csv [--service 0.95] [--service-type cycle|fill]\n"
    "                 [--lead-time L] [--review R] [--dist normal|poisson|negbin]\n"
    "                 [--skip-missing]\n"
    "                 [--actuals FILE [--replay-start stock|target] [--replay-out FILE.csv]\n"
    "                 [--period-days D]] [--json]\n\n"
    "Order-up-to replenishment: for every item of the stock file, demand over the next\n"
    "lead_time + review periods from the forecast, an order-up-to level that meets the\n"
    "service target (or the ratio p/(h+p) when the stock file gives costs h and p), and\n"
    "the order max(0, level - on_hand - on_order) raised to the MOQ and rounded up to\n"
    "whole packs.\n\n"
    "Stock file (CSV with a header; columns by name, extra columns ignored):\n"
    "  id (required), on_hand (required), on_order, lead_time, review, moq, pack_size,\n"
    "  service, service_type, h, p, unit_cost (--stock-columns ROLE=HEADER,... maps other header\n"
    "  names, e.g. id=StockCode,lead_time=lead_time_days). Empty fields take the\n"
    "  command-line defaults;\n"
    "  pack_size defaults to 1 (whole units; give 0 for no rounding).\n"
    "Forecast CSV (merx forecast output): id,h,forecast[,time][,loNN,hiNN...][,method].\n"
    "  The per-period sd is read from the widest interval: (hiNN - forecast) / z.\n"
    "History (forecast here, non-negative, intervals 80 and 95): --history FILE\n"
    "  --format long|wide [--columns id=..,time=..,value=..] [--freq day|week|month]\n"
    "  [--sep C] [--no-header|--header] [--method auto|croston|sba|tsb|ets|...]\n"
    "  [--season M] [--horizon H (default: the longest lead_time + review)]\n"
    "  [--threads T] [--forecast-out FILE.csv (the forecasts used, merx forecast's\n"
    "  layout)]. The lead-time demand sd is the forecast's own sd of the sum of the\n"
    "  periods, which keeps the correlation of multi-step errors.\n\n"
    "Options:\n"
    "  --service S        target in (0,1) for items without one (default 0.95)\n"
    "  --service-type T   cycle (type 1, P(no stockout per cycle), default) or fill\n"
    "                     (type 2, fraction of demand met from stock)\n"
    "  --lead-time L      lead time in periods for items without one\n"
    "  --review R         review period in periods (default 1): protection L + R\n"
    "  --dist D           lead-time demand: normal (default when an sd is known),\n"
    "                     poisson (slow movers; always used when no sd is known) or\n"
    "                     negbin (negative binomial with the forecast's mean and\n"
    "                     variance: lumpy demand; Poisson when variance <= mean)\n"
    "  --skip-missing     skip stock items without a forecast (default: error)\n"
    "  --actuals FILE     wide CSV id,v1,v2,... of demand realised in the periods after\n"
    "                     the forecast origin: replay the policy and report fill rate,\n"
    "                     cycle service and stock held; each period orders up to the\n"
    "                     level planned from the forecast of the periods ahead of it\n"
    "  --replay-start S   stock (default: on_hand + on_order, outstanding orders\n"
    "                     arriving at once) or target (start at the first level)\n"
    "  --replay-out FILE  per-item replay CSV: id,periods,demand,shipped,fill_rate,\n"
    "                     cycle_service,avg_on_hand,stockout_periods,turnover,\n"
    "                     days_of_supply,unit_cost,cost_of_sales,avg_inventory_value\n"
    "  --period-days D    days in a period, for days of supply (default: 7 with\n"
    "                     --freq week, 30.4375 with month, else 1)\n"
    "                     Turnover = units shipped / average on hand over the replay;\n"
    "                     days of supply = average on hand / average daily demand;\n"
    "                     cost turnover = cost of sales / average inventory value\n"
    "  --json             summary as one JSON object on stdout\n\n"
    "Output columns: id,on_hand,on_order,position,lead_time,review,ltd_mean,ltd_sd,\n"
    "safety_stock,order_up_to,raw_order,order,note\n";

const char *const mx_plan_stock_roles[] = {"id",      "on_hand",      "on_order", "lead_time",
                                           "review",  "moq",          "pack_size", "service",
                                           "service_type", "h",       "p",         "unit_cost",
                                           NULL};

static int parse_service_type(const char *s, int *type) {
  if (!s || strcmp(s, "cycle") == 0 || strcmp(s, "1") == 0 || strcmp(s, "type1") == 0) {
    *type = MX_SERVICE_CYCLE;
    return 0;
  }
  if (strcmp(s, "fill") == 0 || strcmp(s, "2") == 0 || strcmp(s, "type2") == 0) {
    *type = MX_SERVICE_FILL;
    return 0;
  }
  return -1;
}

void mx_plan_set_free(mx_plan_set *ps) {
  if (!ps) return;
  for (size_t i = 0; i < ps->n; i++) {
    free(ps->items[i].id);
    free(ps->items[i].mean);
    free(ps->items[i].sigma);
    free(ps->items[i].cum_sigma);
  }
  free(ps->items);
  mx_idmap_free(ps->ids);
  memset(ps, 0, sizeof *ps);
}

/* ----------------------------------------------------------- stock file */

static int field_number(const char *path, long line, int col, const char *name, const char *text,
                        double *out, int *present, mx_error *err) {
  if (!text || !*text) {
    *present = 0;
    return MX_OK;
  }
  if (mx_parse_double(text, out) != 0)
    return mx_error_at(err, MX_EPARSE, path, line, col + 1, name, "not a finite number: '%s'", text);
  *present = 1;
  return MX_OK;
}

int mx_plan_read_stock(const char *path, const mx_plan_defaults *def, mx_plan_set *ps,
                       mx_error *err) {
  memset(ps, 0, sizeof *ps);
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  enum { C_ID, C_OH, C_OO, C_LT, C_RV, C_MOQ, C_PACK, C_SV, C_ST, C_H, C_P, C_UC, C_N };
  const char *const *cn = mx_plan_stock_roles;
  int col[C_N];
  const char *hname[C_N]; /* header name of each role, for messages */
  for (int k = 0; k < C_N; k++) {
    /* the header name of role k: --stock-columns override, else the role */
    const char *want = cn[k];
    for (int i = 0; i < def->stock_columns.count; i++)
      if (strcmp(def->stock_columns.role[i], cn[k]) == 0) want = def->stock_columns.name[i];
    hname[k] = want;
    col[k] = -1;
    for (size_t j = 0; j < nh; j++)
      if (strcmp(names[j], want) == 0) col[k] = (int)j;
    if (col[k] < 0 && want != cn[k]) {
      mx_csv_close(csv);
      return mx_error_at(err, MX_EPARSE, path, 1, 0, want,
                         "--stock-columns %s=%s: no such column in the header", cn[k], want);
    }
  }
  if (col[C_ID] < 0 || col[C_OH] < 0) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, col[C_ID] < 0 ? hname[C_ID] : hname[C_OH],
                       "the stock file needs columns id and on_hand (and usually lead_time, "
                       "on_order, moq, pack_size, service)");
  }
  ps->ids = mx_idmap_create();
  if (!ps->ids) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  size_t cap = 0;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    const char *txt[C_N];
    for (int k = 0; k < C_N; k++) txt[k] = col[k] >= 0 && (size_t)col[k] < nf ? f[col[k]] : NULL;
    if (!txt[C_ID] || !*txt[C_ID]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ID] + 1, hname[C_ID], "empty item id");
      break;
    }
    if (mx_idmap_find(ps->ids, txt[C_ID], strlen(txt[C_ID])) >= 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ID] + 1, hname[C_ID],
                       "item '%s' appears twice in the stock file", txt[C_ID]);
      break;
    }
    if (ps->n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      mx_plan_input *ni = realloc(ps->items, nc * sizeof *ni);
      if (!ni) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      ps->items = ni;
      cap = nc;
    }
    mx_plan_input *it = &ps->items[ps->n];
    memset(it, 0, sizeof *it);
    it->line = line;
    double v[C_N];
    int has[C_N];
    memset(has, 0, sizeof has);
    for (int k = C_OH; k < C_N && rc >= 0; k++) {
      if (k == C_ST) continue;
      rc = field_number(path, line, col[k], hname[k], txt[k], &v[k], &has[k], err);
    }
    if (rc < 0) break;
    if (!has[C_OH]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_OH] + 1, hname[C_OH], "on_hand is empty");
      break;
    }
    it->item.on_hand = v[C_OH];
    it->item.on_order = has[C_OO] ? v[C_OO] : 0;
    it->item.lead_time = has[C_LT] ? v[C_LT] : def->lead_time;
    it->item.review = has[C_RV] ? v[C_RV] : def->review;
    it->item.moq = has[C_MOQ] ? v[C_MOQ] : 0;
    it->item.pack_size = has[C_PACK] ? v[C_PACK] : 1; /* whole units by default */
    it->item.dist = def->dist;
    it->unit_cost = has[C_UC] ? v[C_UC] : NAN;
    if (has[C_UC] && !(v[C_UC] >= 0 && v[C_UC] <= MX_PLAN_MAX_UNITS)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_UC] + 1, hname[C_UC],
                       "unit_cost must be a number >= 0, got '%s'", txt[C_UC]);
      break;
    }
    if (!isfinite(it->item.lead_time)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_LT] + 1, hname[C_LT],
                       "no lead time (add a lead_time column or --lead-time)");
      break;
    }
    int type = def->service_type;
    if (txt[C_ST] && *txt[C_ST] && parse_service_type(txt[C_ST], &type) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ST] + 1, hname[C_ST],
                       "expected cycle or fill, got '%s'", txt[C_ST]);
      break;
    }
    if (has[C_SV]) {
      it->item.service_type = type;
      it->item.service = v[C_SV];
    } else if (has[C_H] || has[C_P]) {
      it->item.service_type = 0; /* newsvendor ratio */
      it->item.h = has[C_H] ? v[C_H] : NAN;
      it->item.p = has[C_P] ? v[C_P] : NAN;
    } else {
      it->item.service_type = type;
      it->item.service = def->service;
    }
    /* Validate now so errors name the stock file line (the forecast is
     * checked once it is attached). */
    static const double one = 1.0;
    mx_plan_item probe = it->item;
    probe.mean = &one;
    probe.horizon = 1;
    mx_plan_row row;
    if ((rc = mx_plan_item_compute(&probe, &row, err)) != MX_OK) {
      char msg[MX_ERROR_MESSAGE_MAX];
      snprintf(msg, sizeof msg, "%s", err->message);
      int fk = strstr(msg, "service")       ? C_SV
               : strstr(msg, "lead")        ? C_LT
               : strstr(msg, "moq")         ? C_MOQ
               : strstr(msg, "pack")        ? C_PACK
               : strstr(msg, "on_order")    ? C_OO
               : strstr(msg, "on_hand")     ? C_OH
               : strstr(msg, "review")      ? C_RV
               : strstr(msg, "h (holding")  ? C_H
               : strstr(msg, "p (stockout") ? C_P
                                            : -1;
      const char *field = fk >= 0 ? hname[fk] : NULL;
      int c = fk >= 0 ? col[fk] + 1 : 0;
      rc = mx_error_at(err, MX_EINVAL, path, line, c, field, "%s", msg);
      break;
    }
    it->id = mx_strdup(txt[C_ID]);
    if (!it->id || mx_idmap_intern(ps->ids, txt[C_ID], strlen(txt[C_ID])) < 0) {
      free(it->id);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    ps->n++;
  }
  mx_csv_close(csv);
  if (rc < 0) {
    mx_plan_set_free(ps);
    return rc;
  }
  if (ps->n == 0) {
    mx_plan_set_free(ps);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no items in the stock file");
  }
  return MX_OK;
}

/* -------------------------------------------------------- forecast CSV */

/* Append value v at period h (1-based) of an item's arrays. */
static int put_period(mx_plan_input *it, long h, double mean, double sigma, int has_sigma,
                      mx_error *err) {
  size_t need = (size_t)h;
  if (need > it->cap) {
    size_t nc = it->cap ? it->cap : 8;
    while (nc < need) nc *= 2;
    double *m = realloc(it->mean, nc * sizeof *m);
    if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
    it->mean = m;
    double *s = realloc(it->sigma, nc * sizeof *s);
    if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
    it->sigma = s;
    for (size_t k = it->cap; k < nc; k++) {
      it->mean[k] = NAN;
      it->sigma[k] = NAN;
    }
    it->cap = nc;
  }
  it->mean[h - 1] = mean;
  it->sigma[h - 1] = has_sigma ? sigma : NAN;
  if ((size_t)h > it->horizon) it->horizon = (size_t)h;
  return MX_OK;
}

int mx_plan_read_forecast_csv(const char *path, mx_plan_set *ps, mx_error *err) {
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  int cid = -1, ch = -1, cf = -1, chi = -1;
  double best_level = 0;
  for (size_t j = 0; j < nh; j++) {
    if (strcmp(names[j], "id") == 0) cid = (int)j;
    else if (strcmp(names[j], "h") == 0) ch = (int)j;
    else if (strcmp(names[j], "forecast") == 0) cf = (int)j;
    else if (strncmp(names[j], "hi", 2) == 0) {
      double lv;
      if (mx_parse_double(names[j] + 2, &lv) == 0 && lv > 0 && lv < 100 && lv > best_level) {
        best_level = lv;
        chi = (int)j;
      }
    }
  }
  if (cid < 0 || ch < 0 || cf < 0) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, cid < 0 ? "id" : ch < 0 ? "h" : "forecast",
                       "a forecast CSV needs columns id, h and forecast (as merx forecast writes)");
  }
  /* Two-sided level-% interval: hi = forecast + z sigma, z = Phi^-1((1 + level) / 2). */
  double z = chi >= 0 ? mx_std_normal_quantile(0.5 + best_level / 200.0) : NAN;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if ((size_t)cid >= nf || (size_t)ch >= nf || (size_t)cf >= nf) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf, NULL, "too few fields (%zu)", nf);
      break;
    }
    int64_t k = mx_idmap_find(ps->ids, f[cid], strlen(f[cid]));
    if (k < 0) {
      ps->unplanned_rows++;
      continue;
    }
    double h, m, hi = NAN;
    if (mx_parse_double(f[ch], &h) != 0 || h < 1 || h != floor(h) || h > 100000) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ch + 1, "h",
                       "expected a step number 1, 2, ..., got '%s'", f[ch]);
      break;
    }
    if (mx_parse_double(f[cf], &m) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, cf + 1, "forecast", "not a finite number: '%s'",
                       f[cf]);
      break;
    }
    if (m < 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, cf + 1, "forecast",
                       "negative demand forecast %g (forecast with --nonneg)", m);
      break;
    }
    if (chi >= 0 && (size_t)chi < nf && f[chi][0]) {
      if (mx_parse_double(f[chi], &hi) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, chi + 1, names[chi],
                         "not a finite number: '%s'", f[chi]);
        break;
      }
    }
    mx_plan_input *it = &ps->items[k];
    if ((size_t)h <= it->horizon && !isnan(it->mean[(size_t)h - 1])) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ch + 1, "h", "item '%s' has step %g twice",
                       f[cid], h);
      break;
    }
    double sd = isfinite(hi) ? (hi > m ? (hi - m) / z : 0.0) : NAN;
    if ((rc = put_period(it, (long)h, m, sd, isfinite(sd), err))) break;
  }
  mx_csv_close(csv);
  if (rc < 0) return rc;
  /* Steps must be 1..H without gaps; the sd is known for all or none. */
  for (size_t i = 0; i < ps->n; i++) {
    mx_plan_input *it = &ps->items[i];
    int all_sd = 1;
    for (size_t t = 0; t < it->horizon; t++) {
      if (isnan(it->mean[t]))
        return mx_error_at(err, MX_EPARSE, path, 0, 0, "h", "item '%s' has no forecast for step %zu",
                           it->id, t + 1);
      if (isnan(it->sigma[t])) all_sd = 0;
    }
    if (!all_sd) {
      free(it->sigma);
      it->sigma = NULL;
    }
  }
  return MX_OK;
}

/* ---------------------------------------------------------------- main */

int mx_cmd_plan(int argc, char **argv) {
  mx_args a;
  int rc = mx_args_parse(&a, "plan",
                         "stock= forecast= history= out= service= service-type= lead-time= "
                         "review= dist= skip-missing actuals= replay-start= replay-out= period-days= json "
                         "format= freq= "
                         "method= season= horizon= threads= forecast-out= sep= no-header header "
                         "columns= stock-columns=",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx_cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx_args_require(&a, "stock")) || (rc = mx_args_require(&a, "out"))) return rc;
  int has_fc = mx_args_has(&a, "forecast"), has_hist = mx_args_has(&a, "history");
  if (has_fc == has_hist)
    return mx_cli_usage("plan", "give one of --forecast FILE.csv and --history FILE");
  mx_plan_defaults def;
  double lt;
  if ((rc = mx_args_double(&a, "service", 0.95, 0, 1, &def.service)) ||
      (rc = mx_args_double(&a, "lead-time", NAN, 0, MX_PLAN_MAX_PERIODS, &lt)) ||
      (rc = mx_args_double(&a, "review", 1, 1e-9, MX_PLAN_MAX_PERIODS, &def.review)))
    return rc;
  if (!(def.service > 0 && def.service < 1))
    return mx_cli_usage("plan", "--service: must be strictly between 0 and 1, got %g", def.service);
  def.lead_time = mx_args_has(&a, "lead-time") ? lt : NAN;
  if (parse_service_type(mx_args_get(&a, "service-type", NULL), &def.service_type) != 0)
    return mx_cli_usage("plan", "--service-type: expected cycle or fill, got '%s'",
                        mx_args_get(&a, "service-type", ""));
  const char *dist = mx_args_get(&a, "dist", "normal");
  if (strcmp(dist, "normal") == 0)
    def.dist = MX_DIST_NORMAL;
  else if (strcmp(dist, "poisson") == 0)
    def.dist = MX_DIST_POISSON;
  else if (strcmp(dist, "negbin") == 0)
    def.dist = MX_DIST_NEGBIN;
  else
    return mx_cli_usage("plan", "--dist: expected normal, poisson or negbin, got '%s'", dist);

  memset(&def.stock_columns, 0, sizeof def.stock_columns);
  const char *sc = mx_args_get(&a, "stock-columns", NULL);
  if (sc) {
    mx_error e;
    if (mx_columns_parse(sc, mx_plan_stock_roles, &def.stock_columns, &e) != 0)
      return mx_cli_usage("plan", "--stock-columns: %s", e.message);
  }
  const char *rs = mx_args_get(&a, "replay-start", "stock");
  int start_at_target = strcmp(rs, "target") == 0;
  if (!start_at_target && strcmp(rs, "stock") != 0)
    return mx_cli_usage("plan", "--replay-start: expected stock or target, got '%s'", rs);
  /* a period's length in days, for days of supply: --period-days, else the
   * --freq of a history, else a day */
  const char *freq = mx_args_get(&a, "freq", "day");
  double period_days = strcmp(freq, "week") == 0 ? 7 : strcmp(freq, "month") == 0 ? 30.4375 : 1;
  if ((rc = mx_args_double(&a, "period-days", period_days, 1e-9, 1e6, &period_days))) return rc;
  if ((mx_args_has(&a, "replay-out") || mx_args_has(&a, "period-days")) &&
      !mx_args_has(&a, "actuals"))
    return mx_cli_usage("plan", "--replay-out and --period-days need --actuals FILE");

  double t0 = mx_now_seconds();
  mx_error err;
  mx_error_clear(&err);
  mx_plan_set ps;
  if ((rc = mx_plan_read_stock(mx_args_get(&a, "stock", NULL), &def, &ps, &err)))
    return mx_cli_fail("plan", &err);
  if (has_fc) {
    rc = mx_plan_read_forecast_csv(mx_args_get(&a, "forecast", NULL), &ps, &err);
  } else {
    rc = mx_plan_forecast_history(&a, &ps, &err);
    if (rc == MX_EXIT_USAGE) {
      mx_plan_set_free(&ps);
      return MX_EXIT_USAGE;
    }
  }
  if (rc) {
    mx_plan_set_free(&ps);
    return mx_cli_fail("plan", &err);
  }

  size_t missing = 0, nordered = 0, nshort = 0;
  double units = 0;
  const char *stock_path = mx_args_get(&a, "stock", NULL);
  for (size_t i = 0; i < ps.n; i++) {
    if (ps.items[i].horizon == 0) {
      if (!mx_args_has(&a, "skip-missing")) {
        mx_error_at(&err, MX_ENOTFOUND, stock_path, ps.items[i].line, 1, "id",
                    "item '%s' has no forecast (add one, or pass --skip-missing)",
                    ps.items[i].id);
        mx_plan_set_free(&ps);
        return mx_cli_fail("plan", &err);
      }
      missing++;
    }
  }

  mx_atomic_file af;
  const char *out = mx_args_get(&a, "out", NULL);
  if ((rc = mx_atomic_open(&af, out, &err))) {
    mx_plan_set_free(&ps);
    return mx_cli_fail("plan", &err);
  }
  fputs("id,on_hand,on_order,position,lead_time,review,ltd_mean,ltd_sd,safety_stock,order_up_to,"
        "raw_order,order,note\n",
        af.f);
  for (size_t i = 0; i < ps.n; i++) {
    mx_plan_input *it = &ps.items[i];
    if (it->horizon == 0) continue;
    it->item.mean = it->mean;
    it->item.sigma = it->sigma;
    it->item.cum_sigma = it->cum_sigma;
    it->item.horizon = it->horizon;
    mx_plan_row row;
    if ((rc = mx_plan_item_compute(&it->item, &row, &err))) {
      char msg[MX_ERROR_MESSAGE_MAX + 256];
      snprintf(msg, sizeof msg, "item '%.200s': %s", it->id, err.message);
      mx_error_at(&err, rc, stock_path, it->line, 0, NULL, "%s", msg);
      mx_atomic_abort(&af);
      mx_plan_set_free(&ps);
      return mx_cli_fail("plan", &err);
    }
    mx_csv_write_field(af.f, it->id, ',');
    fprintf(af.f, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.6f,%.6f,%.6f,%.6f,%.6f,%.10g,%s\n",
            it->item.on_hand, it->item.on_order, row.position, it->item.lead_time,
            it->item.review, row.ltd_mean, row.ltd_sd, row.safety_stock, row.target, row.raw,
            row.order, row.horizon_short ? "forecast shorter than lead_time+review" : "");
    if (row.order > 0) nordered++;
    units += row.order;
    nshort += row.horizon_short;
  }
  if ((rc = mx_atomic_commit(&af, &err))) {
    mx_plan_set_free(&ps);
    return mx_cli_fail("plan", &err);
  }

  mx_plan_replay ev;
  memset(&ev, 0, sizeof ev);
  int has_eval = mx_args_has(&a, "actuals");
  if (has_eval) {
    rc = mx_plan_replay_run(mx_args_get(&a, "actuals", NULL), &ps, start_at_target, period_days,
                            &ev, &err);
    const char *ro = mx_args_get(&a, "replay-out", NULL);
    if (rc == MX_OK && ro) rc = mx_plan_replay_write_csv(&ev, &ps, ro, &err);
    if (rc) {
      mx_plan_replay_free(&ev);
      mx_plan_set_free(&ps);
      return mx_cli_fail("plan", &err);
    }
  }
  double secs = mx_now_seconds() - t0;
  if (mx_args_has(&a, "json")) {
    mx_json j;
    mx_json_init(&j, stdout);
    mx_json_object_begin(&j);
    mx_json_key(&j, "items"); mx_json_int(&j, (int64_t)(ps.n - missing));
    mx_json_key(&j, "orders"); mx_json_int(&j, (int64_t)nordered);
    mx_json_key(&j, "units"); mx_json_double(&j, units);
    mx_json_key(&j, "skipped_no_forecast"); mx_json_int(&j, (int64_t)missing);
    mx_json_key(&j, "short_horizon"); mx_json_int(&j, (int64_t)nshort);
    mx_json_key(&j, "forecast_rows_not_in_stock"); mx_json_int(&j, (int64_t)ps.unplanned_rows);
    if (has_eval) {
      mx_json_key(&j, "evaluation");
      mx_plan_replay_json(&ev, &ps, &j);
    }
    mx_json_key(&j, "seconds"); mx_json_double(&j, secs);
    mx_json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("items planned   %zu (%zu skipped: no forecast)\n", ps.n - missing, missing);
    printf("orders          %zu items, %.10g units\n", nordered, units);
    if (nshort) printf("short forecast  %zu items (last period repeated)\n", nshort);
    if (has_eval) mx_plan_replay_print(&ev, stdout);
    printf("wrote           %s\n", out);
  }
  mx_plan_replay_free(&ev);
  mx_plan_set_free(&ps);
  return MX_EXIT_OK;
}
