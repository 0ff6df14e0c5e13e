/* Shared by `merx forecast` and `merx backtest`: series input options and the
 * HTML plot of forecasts. */
#ifndef MERX_CLI_FORECAST_H
#define MERX_CLI_FORECAST_H

#include "cli/cli.h"
#include "merx/forecast.h"

/* Option names both commands accept. */
#define MX_CLI_SERIES_SPEC \
  " data= format= columns= sep= header no-header freq= negative= season= levels= threads= nonneg"

/* Read --data per --format (long|wide), --columns, --freq, --negative, --sep,
 * --header/--no-header. Returns 0, MX_EXIT_USAGE or MX_EXIT_FAIL (printed). */
int mx_cli_read_series(const mx_args *a, mx_series_set **out);
/* Fill --season (default by --freq for long input: day 7, week 1, month 12;
 * wide: 1), --levels, --threads, --nonneg. */
int mx_cli_forecast_options(const mx_args *a, const mx_series_set *s, mx_forecast_options *o);

/* Write an HTML page with one inline SVG per series (history, forecast,
 * interval bands); at most max_series series, the rest counted. */
int mx_forecast_plot_html(const char *path, const mx_series_set *s,
                          const mx_forecast_result *r, size_t max_series, mx_error *err);
#endif
