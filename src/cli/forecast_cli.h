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
int mx__cli_read_series(const mx_args *a, mx_series_set **out);
/* Fill --season (default by --freq for long input: day 7, week 1, month 12;
 * wide: 1), --levels, --threads, --nonneg. */
int mx__cli_forecast_options(const mx_args *a, const mx_series_set *s, mx_forecast_options *o);

/* The --plot pages (forecast_plot.c, drawn by plot_html.c), written to f:
 * the command publishes the page with its other outputs (mx__plot_commit). */
typedef struct mx_forecast_plot_options {
  size_t max_series;               /* --plot-max: panels drawn, the rest counted */
  long window;                     /* --plot-window: periods of history (0: all) */
  int accuracy;                    /* 1: backtest each drawn series at one origin */
  const mx_forecast_options *fc;   /* the forecast's options (method, horizon, levels) */
} mx_forecast_plot_options;

/* merx forecast: per series the history, forecast, 80/95% fan, method and
 * (po->accuracy) a one-origin backtest of the requested method. */
void mx__forecast_plot_html(FILE *f, const mx_series_set *s, const mx_forecast_result *r,
                           const mx_forecast_plot_options *po);
/* merx backtest: accuracy by method and horizon (m from mx_backtest with
 * by_horizon), then the first max_series series at the last origin,
 * forecast by the first method. */
void mx__backtest_plot_html(FILE *f, const mx_series_set *s, const mx_backtest_options *bo,
                           const mx_backtest_metrics *m, int nm, size_t max_series, long window);
#endif
