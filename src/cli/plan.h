/* merx plan: the stock file, the forecast attached to each item, and the
 * readers shared by cmd_plan.c. Internal to the CLI. */
#ifndef MERX_CLI_PLAN_H
#define MERX_CLI_PLAN_H

#include <stddef.h>
#include "merx/data.h"
#include "merx/inventory.h"
#include "util/util.h"

/* Command-line defaults for items whose stock row leaves a field empty. */
typedef struct mx_plan_defaults {
  double service;   /* target in (0,1) */
  int service_type; /* MX_SERVICE_CYCLE or MX_SERVICE_FILL */
  double lead_time; /* NaN: the stock file must give it */
  double review;
  int dist;         /* MX_DIST_NORMAL, MX_DIST_POISSON or MX_DIST_NEGBIN */
  mx_columns stock_columns; /* --stock-columns role=header overrides (count 0: none) */
} mx_plan_defaults;

/* Roles of the stock file's columns (also their default header names). */
extern const char *const mx_plan_stock_roles[];

/* One stock row and its forecast (arrays owned). */
typedef struct mx_plan_input {
  char *id;
  long line;          /* line in the stock file */
  mx_plan_item item;  /* parameters; forecast pointers set before computing */
  double *mean;       /* [horizon] */
  double *sigma;      /* [horizon] or NULL */
  double *cum_sigma;  /* [horizon] or NULL */
  size_t horizon, cap;
  double unit_cost;   /* stock file's unit_cost; NaN: none */
} mx_plan_input;

typedef struct mx_plan_set {
  mx_plan_input *items;
  size_t n;
  mx_idmap *ids;          /* id -> index into items */
  size_t unplanned_rows;  /* forecast rows whose id is not in the stock file */
} mx_plan_set;

int mx_plan_read_stock(const char *path, const mx_plan_defaults *def, mx_plan_set *ps,
                       mx_error *err);
int mx_plan_read_forecast_csv(const char *path, mx_plan_set *ps, mx_error *err);
void mx_plan_set_free(mx_plan_set *ps);
/* --history: read the sales histories named by a's options, forecast the
 * stocked items' series (plan_history.c) and attach the forecasts. Returns
 * MX_OK, a negative MX_E* with err filled, or MX_EXIT_USAGE (message printed). */
struct mx_args;
int mx_plan_forecast_history(const struct mx_args *a, mx_plan_set *ps, mx_error *err);

/* --actuals (plan_replay.c): the policy replayed against realised demand and
 * its inventory effect, per item and in total (definitions in plan_replay.c). */
typedef struct mx_plan_replay_item {
  size_t item;        /* index into the plan set */
  mx_sim_result s;
} mx_plan_replay_item;
typedef struct mx_plan_replay {
  mx_plan_replay_item *items; /* the items with actuals and a forecast */
  size_t n;
  mx_sim_result total;        /* pooled fill rate, cycle service, stock-outs, shipped */
  double period_days;         /* length of a period in days */
  double sum_avg_on_hand;     /* the inventory: sum of the items' average on hand */
  double daily_demand;        /* sum of the items' average daily demand */
  double turnover, days_of_supply;
  size_t cost_items;          /* items with a unit cost */
  double cost_of_sales, avg_inventory_value, cost_turnover;
} mx_plan_replay;
int mx_plan_replay_run(const char *actuals, mx_plan_set *ps, int start_at_target,
                       double period_days, mx_plan_replay *r, mx_error *err);
void mx_plan_replay_free(mx_plan_replay *r);
double mx_plan_replay_item_turnover(const mx_sim_result *s);
double mx_plan_replay_item_days(const mx_sim_result *s, double period_days);
/* One row per replayed item (written atomically). */
int mx_plan_replay_write_csv(const mx_plan_replay *r, const mx_plan_set *ps, const char *path,
                             mx_error *err);
/* The "evaluation" object of --json. */
void mx_plan_replay_json(const mx_plan_replay *r, const mx_plan_set *ps, mx_json *j);
/* The summary lines of the text output. */
void mx_plan_replay_print(const mx_plan_replay *r, FILE *f);

#endif
