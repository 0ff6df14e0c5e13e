/* The replay behind merx plan --actuals (merx/replenish.h): replay the plan's policy against realised demand and
 * report its inventory effect — fill rate, cycle service, stock-outs, and
 * inventory turnover and days of supply — per item and in total.
 *
 * Definitions (over the replayed periods; APICS Dictionary, 16th ed.:
 * "inventory turnover — the number of times that an inventory cycles, or
 * turns over, during the year ... the annual cost of sales divided by the
 * average inventory level"; "days of supply — inventory on hand expressed in
 * days of average usage"):
 *   shipped_i        units delivered to customers (met at once, plus
 *                    backorders filled by later receipts): item i's sales
 *   avg_i            average ending on-hand of item i per period
 *   turnover_i       shipped_i / avg_i, in units, over the replay (not annual:
 *                    multiply by periods-per-year / periods for an annual rate)
 *   daily_i          demand_i / (periods_i x period_days): average daily demand
 *   days_of_supply_i avg_i / daily_i
 * In total, the inventory is the sum of the items' average inventories:
 *   turnover         sum shipped_i / sum avg_i
 *   days_of_supply   sum avg_i / sum daily_i
 *   cost_turnover    sum c_i shipped_i / sum c_i avg_i  (cost of sales over
 *                    average inventory value; items with a unit_cost c_i)
 * Per item the cost version equals the unit version (one unit cost); in total
 * it weighs items by value, as accountants do. A ratio whose denominator is
 * zero (no stock held, no demand) is reported as null / empty. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/replenish.h"
#include "util/util.h"

static int read_actuals(const char *path, mx_plan_set *ps, double **act, size_t *nact,
                        mx_error *err) {
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 0;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    int64_t k = mx_idmap_find(ps->ids, f[0], strlen(f[0]));
    if (k < 0) continue; /* a header line or an item not planned */
    size_t n = 0;
    double *v = malloc((nf ? nf : 1) * sizeof *v);
    if (!v) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    for (size_t j = 1; j < nf; j++) {
      if (!f[j][0]) break; /* trailing empty fields: series ended */
      if (mx_parse_double(f[j], &v[n]) != 0 || v[n] < 0) {
        free(v);
        /* the message first: the field dies with the reader */
        rc = mx_error_at(err, MX_EPARSE, path, line, (long)j + 1, NULL,
                         "demand must be a number >= 0, got '%s'", f[j]);
        mx_csv_close(csv);
        return rc;
      }
      n++;
    }
    free(act[k]);
    act[k] = v;
    nact[k] = n;
  }
  mx_csv_close(csv);
  return rc < 0 ? rc : MX_OK;
}

/* Replay: in period t the order-up-to level is computed from the forecast
 * of periods t .. t+L+R-1 (the plan the policy would have made then, with
 * the forecast origin fixed), and demand is the realised one. */
static int evaluate(mx_plan_set *ps, double **act, size_t *nact, int start_at_target,
                    mx_plan_replay *r, mx_error *err) {
  mx_inv_sim_result *tot = &r->total;
  memset(tot, 0, sizeof *tot);
  double sum_oh = 0;
  size_t cycles = 0;
  double cyc_ok = 0;
  r->items = calloc(ps->n ? ps->n : 1, sizeof *r->items);
  if (!r->items) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < ps->n; i++) {
    mx_plan_input *it = &ps->items[i];
    if (!act[i] || nact[i] == 0 || !it->mean) continue;
    size_t n = nact[i];
    double *levels = malloc(n * sizeof *levels);
    if (!levels) return mx_error_set(err, MX_ENOMEM, "out of memory");
    for (size_t t = 0; t < n; t++) {
      mx_plan_item sub = it->item;
      size_t off = t < it->horizon ? t : it->horizon - 1;
      sub.mean = it->mean + off;
      sub.sigma = it->sigma ? it->sigma + off : NULL;
      sub.cum_sigma = t == 0 ? it->cum_sigma : NULL; /* valid from the origin only */
      sub.horizon = it->horizon - off;
      mx_plan_row row;
      int rc = mx_plan_item_compute(&sub, &row, err);
      if (rc) {
        free(levels);
        return rc;
      }
      levels[t] = row.target;
    }
    mx_inv_sim_options o = mx_inv_sim_defaults();
    o.policy = MX_POLICY_BASE_STOCK;
    o.levels = levels;
    o.L = (int)ceil(it->item.lead_time);
    o.R = it->item.review > 1 ? (int)it->item.review : 1;
    /* Outstanding orders are taken to arrive before the first period's demand. */
    o.initial = start_at_target ? levels[0] : it->item.on_hand + it->item.on_order;
    mx_inv_sim_result *s = &r->items[r->n].s;
    int rc = mx_inv_simulate(&o, act[i], n, 1, s, err);
    free(levels);
    if (rc) return rc;
    r->items[r->n++].item = i;
    tot->periods += s->periods;
    tot->demand += s->demand;
    tot->filled += s->filled;
    tot->shipped += s->shipped;
    tot->stockout_periods += s->stockout_periods;
    tot->orders += s->orders;
    tot->ordered += s->ordered;
    sum_oh += s->avg_on_hand * (double)s->periods;
    size_t nc = (s->periods + (size_t)o.R - 1) / (size_t)o.R;
    cycles += nc;
    cyc_ok += s->cycle_service * (double)nc;
    /* the inventory effect (definitions at the top) */
    double c = it->unit_cost;
    r->sum_avg_on_hand += s->avg_on_hand;
    if (s->demand > 0) r->daily_demand += s->demand / ((double)s->periods * r->period_days);
    if (isfinite(c)) {
      r->cost_items++;
      r->cost_of_sales += c * s->shipped;
      r->avg_inventory_value += c * s->avg_on_hand;
    }
  }
  tot->fill_rate = tot->demand > 0 ? tot->filled / tot->demand : 1.0;
  tot->avg_on_hand = tot->periods ? sum_oh / (double)tot->periods : 0;
  tot->cycle_service = cycles ? cyc_ok / (double)cycles : 1.0;
  r->turnover = r->sum_avg_on_hand > 0 ? tot->shipped / r->sum_avg_on_hand : NAN;
  r->days_of_supply = r->daily_demand > 0 ? r->sum_avg_on_hand / r->daily_demand : NAN;
  r->cost_turnover = r->avg_inventory_value > 0 ? r->cost_of_sales / r->avg_inventory_value : NAN;
  return MX_OK;
}

int mx_plan_replay_run(const char *actuals, mx_plan_set *ps, int start_at_target,
                       double period_days, mx_plan_replay *r, mx_error *err) {
  memset(r, 0, sizeof *r);
  r->period_days = period_days;
  double **act = calloc(ps->n ? ps->n : 1, sizeof *act);
  size_t *nact = calloc(ps->n ? ps->n : 1, sizeof *nact);
  int rc;
  if (!act || !nact) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  } else {
    rc = read_actuals(actuals, ps, act, nact, err);
    if (rc == MX_OK) rc = evaluate(ps, act, nact, start_at_target, r, err);
    for (size_t i = 0; i < ps->n; i++) free(act[i]);
  }
  free(act);
  free(nact);
  if (rc) mx_plan_replay_free(r);
  return rc;
}

void mx_plan_replay_free(mx_plan_replay *r) {
  free(r->items);
  r->items = NULL;
  r->n = 0;
}

double mx_plan_replay_item_turnover(const mx_inv_sim_result *s) {
  return s->avg_on_hand > 0 ? s->shipped / s->avg_on_hand : NAN;
}

double mx_plan_replay_item_days(const mx_inv_sim_result *s, double period_days) {
  return s->demand > 0 ? s->avg_on_hand * (double)s->periods * period_days / s->demand : NAN;
}

static void csv_number(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, ",%.10g", v);
  else fputc(',', f);
}

int mx_plan_replay_write_csv(const mx_plan_replay *r, const mx_plan_set *ps, const char *path,
                             mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  fputs("id,periods,demand,shipped,fill_rate,cycle_service,avg_on_hand,stockout_periods,"
        "turnover,days_of_supply,unit_cost,cost_of_sales,avg_inventory_value\n",
        af.f);
  for (size_t k = 0; k < r->n; k++) {
    const mx_inv_sim_result *s = &r->items[k].s;
    const mx_plan_input *it = &ps->items[r->items[k].item];
    double c = it->unit_cost;
    mx_csv_write_field(af.f, it->id, ',');
    fprintf(af.f, ",%zu", s->periods);
    csv_number(af.f, s->demand);
    csv_number(af.f, s->shipped);
    csv_number(af.f, s->fill_rate);
    csv_number(af.f, s->cycle_service);
    csv_number(af.f, s->avg_on_hand);
    fprintf(af.f, ",%zu", s->stockout_periods);
    csv_number(af.f, mx_plan_replay_item_turnover(s));
    csv_number(af.f, mx_plan_replay_item_days(s, r->period_days));
    csv_number(af.f, c);
    csv_number(af.f, c * s->shipped);
    csv_number(af.f, c * s->avg_on_hand);
    fputc('\n', af.f);
  }
  return mx__atomic_commit(&af, err);
}
