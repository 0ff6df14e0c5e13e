/* merx plan, internal to the CLI: the --history path and the replay's
 * output. The stock file, forecast CSV and replay are in the core
 * (merx/replenish.h). */
#ifndef MERX_CLI_PLAN_H
#define MERX_CLI_PLAN_H

#include <stdio.h>
#include "merx/replenish.h"
#include "util/util.h"

/* --history: read the sales histories named by a's options, forecast the
 * stocked items' series (plan_history.c) and attach the forecasts. Returns
 * MX_OK, a negative MX_E* with err filled, or MX_EXIT_USAGE (message printed). */
struct mx_args;
int mx__plan_forecast_history(const struct mx_args *a, mx_plan_set *ps, mx_error *err);

/* The "evaluation" object of --json. */
void mx__plan_replay_json(const mx_plan_replay *r, const mx_plan_set *ps, mx_json *j);
/* The summary lines of the text output. */
void mx__plan_replay_print(const mx_plan_replay *r, FILE *f);

/* --plot: the HTML page of the plan (plan_plot.c) written to f; rows[i] is
 * item i's row (items without a forecast are skipped); at most max_items. */
void mx__plan_plot_html(FILE *f, const mx_plan_set *ps, const mx_plan_row *rows,
                       size_t max_items);

#endif
