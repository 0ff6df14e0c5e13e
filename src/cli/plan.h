/* merx plan: the stock file, the forecast attached to each item, and the
 * readers shared by cmd_plan.c. Internal to the CLI. */
#ifndef MERX_CLI_PLAN_H
#define MERX_CLI_PLAN_H

#include <stddef.h>
#include "merx/data.h"
#include "merx/inventory.h"

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

#endif
