/* Replenishment planning from files (what `merx plan` runs): the stock file,
 * the forecast attached to each stocked item, and the plan's policy replayed
 * against realised demand with its inventory effect (fill rate, cycle
 * service, turnover, days of supply). One item's order is
 * mx_plan_item_compute (merx/inventory.h). */
#ifndef MERX_REPLENISH_H
#define MERX_REPLENISH_H

#include <stddef.h>
#include "merx/csv.h"
#include "merx/error.h"
#include "merx/idmap.h"
#include "merx/inventory.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults for items whose stock row leaves a field empty. */
typedef struct mx_plan_defaults {
  double service;   /* target in (0,1) */
  int service_type; /* MX_SERVICE_CYCLE or MX_SERVICE_FILL */
  double lead_time; /* NaN: the stock file must give it */
  double review;
  int dist;         /* MX_DIST_NORMAL, MX_DIST_POISSON or MX_DIST_NEGBIN */
  mx_columns stock_columns; /* role=header overrides (count 0: none) */
} mx_plan_defaults;

/* Roles of the stock file's columns (also their default header names):
 * id, on_hand, on_order, lead_time, review, moq, pack_size, service,
 * service_type, h, p, unit_cost; NULL-terminated. */
MX_API extern const char *const mx_plan_stock_roles[];

/* "cycle" / "1" / "type1" / NULL -> MX_SERVICE_CYCLE, "fill" / "2" / "type2"
 * -> MX_SERVICE_FILL (returns MX_OK); MX_EINVAL for anything else. */
MX_API int mx_service_type_parse(const char *s, int *type);

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
  int freq;           /* MX_FREQ_* of the forecast periods when known (a long history), else 0 */
  int64_t first_time; /* with freq: epoch seconds of the first forecast period */
} mx_plan_input;

typedef struct mx_plan_set {
  mx_plan_input *items;
  size_t n;
  mx_idmap *ids;          /* id -> index into items */
  size_t unplanned_rows;  /* forecast rows whose id is not in the stock file */
} mx_plan_set;

/* Reads the stock file (CSV with a header) into ps; every row is checked as
 * mx_plan_item_compute would check it, errors name file, line and column. */
MX_API int mx_plan_read_stock(const char *path, const mx_plan_defaults *def, mx_plan_set *ps,
                              mx_error *err);
/* Attaches a forecast CSV (id,h,forecast[,loNN,hiNN...]) to ps's items: the
 * sd of each step is (hi - forecast) / z of the widest interval; rows of
 * items not stocked are counted in ps->unplanned_rows. */
MX_API int mx_plan_read_forecast_csv(const char *path, mx_plan_set *ps, mx_error *err);
MX_API void mx_plan_set_free(mx_plan_set *ps);

/* The policy replayed against realised demand, per item and in total
 * (definitions at the top of src/core/inventory/replay.c). Actuals: one
 * line per item, "id,d1,d2,..." (no header; unknown ids are skipped). */
typedef struct mx_plan_replay_item {
  size_t item;        /* index into the plan set */
  mx_inv_sim_result s;
} mx_plan_replay_item;
typedef struct mx_plan_replay {
  mx_plan_replay_item *items; /* the items with actuals and a forecast */
  size_t n;
  mx_inv_sim_result total;        /* pooled fill rate, cycle service, stock-outs, shipped */
  double period_days;         /* length of a period in days */
  double sum_avg_on_hand;     /* the inventory: sum of the items' average on hand */
  double daily_demand;        /* sum of the items' average daily demand */
  double turnover, days_of_supply;
  size_t cost_items;          /* items with a unit cost */
  double cost_of_sales, avg_inventory_value, cost_turnover;
} mx_plan_replay;
MX_API int mx_plan_replay_run(const char *actuals, mx_plan_set *ps, int start_at_target,
                              double period_days, mx_plan_replay *r, mx_error *err);
MX_API void mx_plan_replay_free(mx_plan_replay *r);
MX_API double mx_plan_replay_item_turnover(const mx_inv_sim_result *s);
MX_API double mx_plan_replay_item_days(const mx_inv_sim_result *s, double period_days);
/* One row per replayed item (written atomically). */
MX_API int mx_plan_replay_write_csv(const mx_plan_replay *r, const mx_plan_set *ps,
                                    const char *path, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
