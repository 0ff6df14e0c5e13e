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
#include "cli/plot_html.h"
#include "util/util.h"

static const char *usage =
    "usage: merx plan --stock FILE (--forecast FILE.csv | --history FILE --format long|wide)\n"
    "                 --out ORDERS.csv [--service 0.95] [--service-type cycle|fill]\n"
    "                 [--lead-time L] [--review R] [--dist normal|poisson|negbin]\n"
    "                 [--skip-missing]\n"
    "                 [--actuals FILE [--replay-start stock|target] [--replay-out FILE.csv]\n"
    "                 [--period-days D]] [--plot FILE.html [--plot-max N]] [--json]\n\n"
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
    "  --plot FILE        an HTML page (offline, one file): per item the projected stock\n"
    "                     with and without the order, its 80/95% band, the safety stock\n"
    "                     and order-up-to level (dated with a long --history), with a\n"
    "                     search box over the ids\n"
    "  --plot-max N       items drawn on the page (default 200)\n"
    "  --json             summary as one JSON object on stdout\n\n"
    "Output columns: id,on_hand,on_order,position,lead_time,review,ltd_mean,ltd_sd,\n"
    "safety_stock,order_up_to,raw_order,order,note\n"
    "\nExample:\n"
    "  merx plan --stock examples/stock.csv\n"
    "      --stock-columns id=StockCode,lead_time=lead_time_days\n"
    "      --history examples/data/daily_sales.csv --format long\n"
    "      --columns id=StockCode,time=date,value=quantity --freq day --review 7\n"
    "      --out orders.csv\n";

/* ------------------------------------------------- replay output (--actuals) */

void mx__plan_replay_json(const mx_plan_replay *r, const mx_plan_set *ps, mx_json *j) {
  const mx_inv_sim_result *t = &r->total;
  mx__json_object_begin(j);
  mx__json_key(j, "items"); mx__json_int(j, (int64_t)r->n);
  mx__json_key(j, "periods"); mx__json_int(j, (int64_t)t->periods);
  mx__json_key(j, "demand"); mx__json_double(j, t->demand);
  mx__json_key(j, "fill_rate"); mx__json_double(j, t->fill_rate);
  mx__json_key(j, "cycle_service"); mx__json_double(j, t->cycle_service);
  mx__json_key(j, "avg_on_hand"); mx__json_double(j, t->avg_on_hand);
  mx__json_key(j, "stockout_periods"); mx__json_int(j, (int64_t)t->stockout_periods);
  mx__json_key(j, "orders"); mx__json_int(j, (int64_t)t->orders);
  mx__json_key(j, "shipped"); mx__json_double(j, t->shipped);
  mx__json_key(j, "inventory"); mx__json_double(j, r->sum_avg_on_hand);
  mx__json_key(j, "turnover"); mx__json_double(j, r->turnover);
  mx__json_key(j, "period_days"); mx__json_double(j, r->period_days);
  mx__json_key(j, "days_of_supply"); mx__json_double(j, r->days_of_supply);
  if (r->cost_items) {
    mx__json_key(j, "cost_items"); mx__json_int(j, (int64_t)r->cost_items);
    mx__json_key(j, "cost_of_sales"); mx__json_double(j, r->cost_of_sales);
    mx__json_key(j, "avg_inventory_value"); mx__json_double(j, r->avg_inventory_value);
    mx__json_key(j, "cost_turnover"); mx__json_double(j, r->cost_turnover);
  }
  mx__json_key(j, "by_item");
  mx__json_array_begin(j);
  for (size_t k = 0; k < r->n; k++) {
    const mx_inv_sim_result *s = &r->items[k].s;
    const mx_plan_input *it = &ps->items[r->items[k].item];
    mx__json_object_begin(j);
    mx__json_key(j, "id"); mx__json_string(j, it->id);
    mx__json_key(j, "shipped"); mx__json_double(j, s->shipped);
    mx__json_key(j, "fill_rate"); mx__json_double(j, s->fill_rate);
    mx__json_key(j, "avg_on_hand"); mx__json_double(j, s->avg_on_hand);
    mx__json_key(j, "stockout_periods"); mx__json_int(j, (int64_t)s->stockout_periods);
    mx__json_key(j, "turnover"); mx__json_double(j, mx_plan_replay_item_turnover(s));
    mx__json_key(j, "days_of_supply");
    mx__json_double(j, mx_plan_replay_item_days(s, r->period_days));
    mx__json_object_end(j);
  }
  mx__json_array_end(j);
  mx__json_object_end(j);
}

static void text_ratio(char *buf, size_t n, double v) {
  if (isfinite(v)) snprintf(buf, n, "%.4f", v);
  else snprintf(buf, n, "n/a");
}

void mx__plan_replay_print(const mx_plan_replay *r, FILE *f) {
  const mx_inv_sim_result *t = &r->total;
  fprintf(f,
          "replay          %zu items, %zu periods: fill rate %.4f, cycle service %.4f, "
          "average on hand %.4f, stockout periods %zu\n",
          r->n, t->periods, t->fill_rate, t->cycle_service, t->avg_on_hand, t->stockout_periods);
  char tv[32], dv[32], cv[32];
  text_ratio(tv, sizeof tv, r->turnover);
  text_ratio(dv, sizeof dv, r->days_of_supply);
  fprintf(f, "turnover        %s (%.10g units shipped / %.10g average on hand), days of supply %s",
          tv, t->shipped, r->sum_avg_on_hand, dv);
  if (r->cost_items) {
    text_ratio(cv, sizeof cv, r->cost_turnover);
    fprintf(f, ", cost turnover %s (%zu items with a unit cost)", cv, r->cost_items);
  }
  fputc('\n', f);
}

/* ---------------------------------------------------------------- main */

int mx__cmd_plan(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "plan",
                         "stock= forecast= history= out= service= service-type= lead-time= "
                         "review= dist= skip-missing actuals= replay-start= replay-out= period-days= json "
                         "format= freq= "
                         "method= season= horizon= threads= forecast-out= sep= no-header header "
                         "columns= stock-columns= plot= plot-max=",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "stock")) || (rc = mx__args_require(&a, "out"))) return rc;
  int has_fc = mx__args_has(&a, "forecast"), has_hist = mx__args_has(&a, "history");
  if (has_fc == has_hist)
    return mx__cli_usage("plan", "give one of --forecast FILE.csv and --history FILE");
  mx_plan_defaults def;
  double lt;
  if ((rc = mx__args_double(&a, "service", 0.95, 0, 1, &def.service)) ||
      (rc = mx__args_double(&a, "lead-time", NAN, 0, MX_PLAN_MAX_PERIODS, &lt)) ||
      (rc = mx__args_double(&a, "review", 1, 1e-9, MX_PLAN_MAX_PERIODS, &def.review)))
    return rc;
  if (!(def.service > 0 && def.service < 1))
    return mx__cli_usage("plan", "--service: must be strictly between 0 and 1, got %g", def.service);
  def.lead_time = mx__args_has(&a, "lead-time") ? lt : NAN;
  if (mx_service_type_parse(mx__args_get(&a, "service-type", NULL), &def.service_type) != 0)
    return mx__cli_usage("plan", "--service-type: expected cycle or fill, got '%s'",
                        mx__args_get(&a, "service-type", ""));
  const char *dist = mx__args_get(&a, "dist", "normal");
  if (strcmp(dist, "normal") == 0)
    def.dist = MX_DIST_NORMAL;
  else if (strcmp(dist, "poisson") == 0)
    def.dist = MX_DIST_POISSON;
  else if (strcmp(dist, "negbin") == 0)
    def.dist = MX_DIST_NEGBIN;
  else
    return mx__cli_usage("plan", "--dist: expected normal, poisson or negbin, got '%s'", dist);

  memset(&def.stock_columns, 0, sizeof def.stock_columns);
  const char *sc = mx__args_get(&a, "stock-columns", NULL);
  if (sc) {
    mx_error e;
    if (mx_columns_parse(sc, mx_plan_stock_roles, &def.stock_columns, &e) != 0)
      return mx__cli_usage("plan", "--stock-columns: %s", e.message);
  }
  const char *rs = mx__args_get(&a, "replay-start", "stock");
  int start_at_target = strcmp(rs, "target") == 0;
  if (!start_at_target && strcmp(rs, "stock") != 0)
    return mx__cli_usage("plan", "--replay-start: expected stock or target, got '%s'", rs);
  /* a period's length in days, for days of supply: --period-days, else the
   * --freq of a history, else a day */
  const char *freq = mx__args_get(&a, "freq", "day");
  double period_days = strcmp(freq, "week") == 0 ? 7 : strcmp(freq, "month") == 0 ? 30.4375 : 1;
  if ((rc = mx__args_double(&a, "period-days", period_days, 1e-9, 1e6, &period_days))) return rc;
  if ((mx__args_has(&a, "replay-out") || mx__args_has(&a, "period-days")) &&
      !mx__args_has(&a, "actuals"))
    return mx__cli_usage("plan", "--replay-out and --period-days need --actuals FILE");

  long plot_max;
  if ((rc = mx__args_int(&a, "plot-max", 200, 1, 1000000, &plot_max))) return rc;
  const char *plot = mx__args_get(&a, "plot", NULL);
  double t0 = mx__now_seconds();
  mx_error err;
  mx_error_clear(&err);
  mx_plan_set ps;
  if ((rc = mx_plan_read_stock(mx__args_get(&a, "stock", NULL), &def, &ps, &err)))
    return mx__cli_fail("plan", &err);
  if (has_fc) {
    rc = mx_plan_read_forecast_csv(mx__args_get(&a, "forecast", NULL), &ps, &err);
  } else {
    rc = mx__plan_forecast_history(&a, &ps, &err);
    if (rc == MX_EXIT_USAGE) {
      mx_plan_set_free(&ps);
      return MX_EXIT_USAGE;
    }
  }
  if (rc) {
    mx_plan_set_free(&ps);
    return mx__cli_fail("plan", &err);
  }

  size_t missing = 0, nordered = 0, nshort = 0;
  double units = 0;
  const char *stock_path = mx__args_get(&a, "stock", NULL);
  for (size_t i = 0; i < ps.n; i++) {
    if (ps.items[i].horizon == 0) {
      if (!mx__args_has(&a, "skip-missing")) {
        mx_error_at(&err, MX_ENOTFOUND, stock_path, ps.items[i].line, 1, "id",
                    "item '%s' has no forecast (add one, or pass --skip-missing)",
                    ps.items[i].id);
        mx_plan_set_free(&ps);
        return mx__cli_fail("plan", &err);
      }
      missing++;
    }
  }

  mx_atomic_file af;
  const char *out = mx__args_get(&a, "out", NULL);
  mx_plan_row *rows = plot ? calloc(ps.n ? ps.n : 1, sizeof *rows) : NULL;
  if (plot && !rows) {
    mx_plan_set_free(&ps);
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    return mx__cli_fail("plan", &err);
  }
  if ((rc = mx__atomic_open(&af, out, &err))) {
    free(rows);
    mx_plan_set_free(&ps);
    return mx__cli_fail("plan", &err);
  }
  /* the page is published with the orders, or neither */
  mx_atomic_file paf;
  if (plot && (rc = mx__atomic_open(&paf, plot, &err))) {
    mx__atomic_abort(&af);
    free(rows);
    mx_plan_set_free(&ps);
    return mx__cli_fail("plan", &err);
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
      mx__atomic_abort(&af);
      if (plot) mx__atomic_abort(&paf);
      free(rows);
      mx_plan_set_free(&ps);
      return mx__cli_fail("plan", &err);
    }
    if (rows) rows[i] = row;
    mx_csv_write_field(af.f, it->id, ',');
    fprintf(af.f, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.6f,%.6f,%.6f,%.6f,%.6f,%.10g,%s\n",
            it->item.on_hand, it->item.on_order, row.position, it->item.lead_time,
            it->item.review, row.ltd_mean, row.ltd_sd, row.safety_stock, row.target, row.raw,
            row.order, row.horizon_short ? "forecast shorter than lead_time+review" : "");
    if (row.order > 0) nordered++;
    units += row.order;
    nshort += row.horizon_short;
  }
  if (plot) mx__plan_plot_html(paf.f, &ps, rows, (size_t)plot_max);
  free(rows);
  if ((rc = mx__plot_commit(&af, plot ? &paf : NULL, &err))) {
    mx_plan_set_free(&ps);
    return mx__cli_fail("plan", &err);
  }

  mx_plan_replay ev;
  memset(&ev, 0, sizeof ev);
  int has_eval = mx__args_has(&a, "actuals");
  if (has_eval) {
    rc = mx_plan_replay_run(mx__args_get(&a, "actuals", NULL), &ps, start_at_target, period_days,
                            &ev, &err);
    const char *ro = mx__args_get(&a, "replay-out", NULL);
    if (rc == MX_OK && ro) rc = mx_plan_replay_write_csv(&ev, &ps, ro, &err);
    if (rc) {
      mx_plan_replay_free(&ev);
      mx_plan_set_free(&ps);
      return mx__cli_fail("plan", &err);
    }
  }
  double secs = mx__now_seconds() - t0;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "items"); mx__json_int(&j, (int64_t)(ps.n - missing));
    mx__json_key(&j, "orders"); mx__json_int(&j, (int64_t)nordered);
    mx__json_key(&j, "units"); mx__json_double(&j, units);
    mx__json_key(&j, "skipped_no_forecast"); mx__json_int(&j, (int64_t)missing);
    mx__json_key(&j, "short_horizon"); mx__json_int(&j, (int64_t)nshort);
    mx__json_key(&j, "forecast_rows_not_in_stock"); mx__json_int(&j, (int64_t)ps.unplanned_rows);
    if (has_eval) {
      mx__json_key(&j, "evaluation");
      mx__plan_replay_json(&ev, &ps, &j);
    }
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("items planned   %zu (%zu skipped: no forecast)\n", ps.n - missing, missing);
    printf("orders          %zu items, %.10g units\n", nordered, units);
    if (nshort) printf("short forecast  %zu items (last period repeated)\n", nshort);
    if (has_eval) mx__plan_replay_print(&ev, stdout);
    printf("wrote           %s\n", out);
  }
  mx_plan_replay_free(&ev);
  mx_plan_set_free(&ps);
  return MX_EXIT_OK;
}
