/* Internal interface of the forecasting module (src/core/forecast/). Every
 * method is a plain function over a double array; mx_forecast_* in forecast.c
 * dispatches to them. Nothing here is exported from libmerx. */
#ifndef MERX_FORECAST_INTERNAL_H
#define MERX_FORECAST_INTERNAL_H

#include <stddef.h>
#include "merx/forecast.h"

/* ---- optim.c: Nelder-Mead simplex minimiser.
 * The variant of Nash (1990, Compact Numerical Methods, Algorithm 19), as R's
 * optim() implements it, so that fits of R-defined benchmarks (ses, ets)
 * reproduce R's optimiser path: reflection 1, contraction 0.5, expansion 2,
 * initial step 10% of the largest |parameter|, relative tolerance reltol.
 * Non-finite objective values count as 1e35. x: start in, optimum out.
 * Returns the objective at x; *evals receives the evaluation count. */
typedef double (*fc_objective)(const double *x, void *ctx);
double fc_nelder_mead(fc_objective fn, void *ctx, double *x, int k, double reltol, int maxit,
                      int *evals);

/* ---- naive.c */
void fc_naive(const double *y, size_t n, int h, double *f);
/* Repeat the last m values (needs n >= m; otherwise naive). */
void fc_snaive(const double *y, size_t n, int m, int h, double *f);
/* M4 seasonality test: |acf(m)| > 1.645 sqrt((1 + 2 sum_{k<m} acf_k^2) / n),
 * only when n >= 3m and R's default acf lag.max = floor(10 log10 n) >= m. */
int fc_seasonality_test(const double *y, size_t n, int m);

/* ---- decompose.c: classical decomposition as R's stats::decompose:
 * centred moving average of order m (2 x m when m is even) as the trend,
 * y / trend (or y - trend) averaged per position of the cycle counted from the
 * first observation, normalised to mean 1 (or 0). figure[m] out. Needs n >= 2m.
 * Returns 0, or -1 when the series is too short or the trend is zero. */
int fc_decompose(const double *y, size_t n, int m, int multiplicative, double *figure);
/* The M4 benchmarks' seasonal adjustment: when m > 1 and the seasonality test
 * passes, adj = y / seasonal index and si_out[h] = the index continued over the
 * horizon (FC_ADJ_MULT). When a multiplicative index is zero or negative (zero
 * sales on one weekday: the division would write NaN), the additive
 * decomposition instead: adj = y - figure, si_out = the figure (FC_ADJ_ADD).
 * Otherwise adj = y and si_out = 1 (FC_ADJ_NONE, or FC_ADJ_FAILED when the
 * test passed but neither decomposition could be made). Returns the mode. */
enum { FC_ADJ_NONE = 0, FC_ADJ_MULT = 1, FC_ADJ_ADD = 2, FC_ADJ_FAILED = 3 };
int fc_m4_adjust(const double *y, size_t n, int m, int h, double *adj, double *si_out);
/* Put the season back on forecasts of the adjusted series (mode from above). */
void fc_m4_reseason(double *f, int h, const double *si, int mode);
/* The M4 benchmarks Naive2, SES and Theta: base on the adjusted series, then
 * reseasonalised (forecast.c; also used by auto's components in select.c). */
enum { FC_M4_NAIVE = 0, FC_M4_SES = 1, FC_M4_THETA = 2 };
int fc_m4_forecast(const double *y, size_t n, int m, int h, int base, double *f);
/* fc_m4_forecast returns the adjustment mode (FC_ADJ_*). The note of a
 * fallback from multiplicative (empty for NONE and MULT). */
void fc_m4_adjust_note(int mode, int m, char *note, size_t note_size);

/* ---- ses.c: SES as forecast::ses(initial = "optimal"), i.e. ETS(A,N,N) with
 * alpha and l0 chosen by minimising the in-sample one-step MSE with R's
 * optimiser path and bounds 1e-4 <= alpha <= 0.9999. Needs n >= 1.
 * Returns the final level (the flat forecast); fitted[n] may be NULL. */
double fc_ses_mse(const double *y, size_t n, double *alpha_out, double *fitted);

/* ---- ets.c: the ETS family (Hyndman et al. 2008, Table 2.1 / fpp 7.8).
 * error A|M, trend N|A|Ad, season N|A|M. */
enum { FC_E_A = 0, FC_E_M = 1 };
enum { FC_T_N = 0, FC_T_A = 1, FC_T_AD = 2 };
enum { FC_S_N = 0, FC_S_A = 1, FC_S_M = 2 };

typedef struct fc_ets_fit {
  int error, trend, season, m;
  double alpha, beta, gamma, phi;
  double sigma2;  /* variance of the innovations (relative for multiplicative error) */
  double lik;     /* -2 log likelihood up to a constant */
  double aicc;
  int nparams;
  double l, b;    /* final level and trend */
  double s[400];  /* final seasonal states, s[0] = oldest = the one used next */
  int stuck;      /* the last max(4, m) fitted values all miss on one side by more
                     than a factor 2: the fit did not follow a level shift */
} fc_ets_fit;

/* Fit one model by maximum likelihood: the smoothing parameters, l0, b0 and
 * (seasonal models) all m initial seasonal states, normalised to mean 0
 * (additive) or 1 (multiplicative) as R's ets(). Returns 0, or -1 when the
 * model does not apply (too short, multiplicative on non-positive data). */
int fc_ets_fit_model(const double *y, size_t n, int error, int trend, int season, int m,
                     fc_ets_fit *fit);
/* AICc selection over the admissible family (multiplicative components only
 * for positive data; seasonal only when m > 1 and n >= 2m + a few); a stuck
 * fit is chosen only when every candidate is stuck.
 * only_trend / only_season: -1 = choose, otherwise fixed. flags:
 * FC_ETS_DAMPED leaves the undamped additive trend out of the choice (12
 * models instead of R's 15): with the initial states optimised as R does, a
 * straight trend wins AICc on 58 of 104 M4 Hourly series (every 4th) and its
 * 48-hour extrapolation has sMAPE 25.3 there against 18.7 for the damped or
 * trendless choice (R 17.6, whose optimiser rarely gets that far). */
/* FC_ETS_FIXED_SEASON keeps the initial seasonal states at the whole
 * series' decomposition (not optimised): Holt-Winters' forced straight trend
 * runs away further with optimised states (M4 Hourly OWA 0.971 -> 1.059). */
enum { FC_ETS_DAMPED = 1, FC_ETS_FIXED_SEASON = 2 };
int fc_ets_auto(const double *y, size_t n, int m, int only_trend, int only_season, int flags,
                fc_ets_fit *best);
void fc_ets_forecast(const fc_ets_fit *fit, int h, double *f, double *sigma, double *cum_sigma);
void fc_ets_name(const fc_ets_fit *fit, char *buf, size_t size);

/* ---- regressors.c: zero-filled regressors nx x (history + horizon) for every
 * series of s, names copied; NULL when out of memory (holidays.c,
 * promotions.c). */
mx_regressors *fc_regressors_zeros(const mx_series_set *s, int horizon, int nx,
                                   const char *const *names);

/* ---- arima.c: seasonal ARIMA, optionally with regressors (regression with
 * ARIMA errors), orders chosen as forecast::auto.arima (Hyndman & Khandakar
 * 2008); CSS then exact ML by a Kalman filter, as R's arima(). */
#define FC_ARIMA_MAXX 16
typedef struct fc_arima_xreg {
  const double *x; /* column-major: column k is x[k * stride + t], t < stride */
  int nx;
  size_t stride;   /* history n plus the horizon h (forecasts need the future) */
} fc_arima_xreg;
typedef struct fc_arima_fit {
  int p, d, q, P, D, Q, m, constant, nx, ml;
  int xcol[FC_ARIMA_MAXX]; /* regressor columns used (constant ones are dropped) */
  double coef[32];         /* phi[p] theta[q] Phi[P] Theta[Q], mean/drift, beta[nx] */
  double sigma2, loglik, aicc;
} fc_arima_fit;
int fc_arima_ndiffs(const double *y, size_t n);         /* KPSS at 5%, at most 2 */
int fc_arima_nsdiffs(const double *y, size_t n, int m); /* seasonal strength > 0.64 */
/* 0, -1 (too short / nothing fits) or -2 (regressors collinear; note says so).
 * xr may be NULL; note (may be NULL) gets why regressors were dropped. */
int fc_arima_auto(const double *y, size_t n, int m, const fc_arima_xreg *xr, fc_arima_fit *best,
                  char *note, size_t note_size);
/* One order by CSS-ML, no regressors (tests). */
int fc_arima_fit_orders(const double *y, size_t n, int p, int d, int q, int P, int D, int Q, int m,
                        int constant, fc_arima_fit *fit);
/* Point forecasts f[h]; sigma and cum_sigma (may be NULL) from the psi
 * weights. xr: the regressors the fit used, over history and horizon. */
int fc_arima_forecast(const fc_arima_fit *fit, const double *y, size_t n, const fc_arima_xreg *xr,
                      int h, double *f, double *sigma, double *cum_sigma);
void fc_arima_name(const fc_arima_fit *fit, char *buf, size_t size);

/* ---- theta.c: the M4 Theta benchmark on the series it is given: the mean of
 * the linear trend (theta line 0) and SES of theta line 2 = 2y - line0. */
void fc_theta(const double *y, size_t n, int h, double *f);

/* ---- croston.c: intermittent demand. */
enum { FC_CROSTON = 0, FC_SBA = 1, FC_TSB = 2 };
/* Forecast per period (flat). alpha fixed at 0.1 for Croston/SBA (Syntetos &
 * Boylan practice); TSB with alpha 0.1 and beta 0.05 unless optimised. */
double fc_intermittent(const double *y, size_t n, int variant);
/* Syntetos-Boylan-Croston classification: ADI = mean interval between
 * non-zero demands, CV2 = squared coefficient of variation of the non-zero
 * sizes. Returns 1 when intermittent or lumpy (ADI > 1.32), and the variant
 * to use: SBA for ADI > 1.32 (intermittent, lumpy), Croston for erratic. */
int fc_classify(const double *y, size_t n, double *adi, double *cv2);
/* auto's choice among Croston, SBA and TSB for an intermittent series. */
int fc_intermittent_choose(const double *y, size_t n, int h);

/* ---- select.c: auto. A configuration is a set of component forecasters
 * (bit mask of FC_C_*), combined by their equal-weight mean. */
enum {
  FC_C_SNAIVE = 1,   /* seasonal naive at m */
  FC_C_SNAIVE2 = 2,  /* seasonal naive at the second period (7m for hourly, m = 24) */
  FC_C_THETA = 4,    /* M4 Theta on the deseasonalised series */
  FC_C_ETS = 8,      /* ETS chosen by AICc */
  FC_C_NAIVE2 = 16,
  FC_C_SES = 32,
  FC_C_SAVG = 64,    /* mean of the last 4 weeks at the same hour (hourly, m = 24) */
  FC_C_COUNT = 7
};
typedef struct fc_config {
  unsigned mask;
  int m, m2;               /* seasonal periods (m2 = 0: none) */
  int ets_fixed;           /* 1: reuse the ETS form below instead of selecting */
  int ets_error, ets_trend, ets_season;
} fc_config;
/* Forecast with a configuration; returns 0 (falls back to naive inside). */
int fc_config_run(const double *y, size_t n, fc_config *cfg, int h, double *f);
/* Choose a configuration for y on a holdout and forecast with it on all of y. */
int fc_auto(const double *y, size_t n, int m, int h, double *f, fc_config *chosen, char *model,
            size_t model_size, char *note, size_t note_size);

/* ---- forecast.c: mx_forecast_series with an optional replayed selection
 * (backtests with --refit first): replay->method and, when replay->cfg.mask
 * is set, the components and ETS form chosen at an earlier origin. chosen
 * (may be NULL) receives what this call selected. */
typedef struct fc_replay {
  int method;
  fc_config cfg;
} fc_replay;
int fc_forecast_series(const double *y, size_t n, const mx_forecast_options *opt,
                       const fc_replay *replay, mx_forecast_result *out, fc_replay *chosen,
                       mx_error *err);
/* The same with regressors (arima only): x column-major [nx][n + horizon]. */
int fc_forecast_series_x(const double *y, size_t n, const double *x, int nx,
                         const mx_forecast_options *opt, const fc_replay *replay,
                         mx_forecast_result *out, fc_replay *chosen, mx_error *err);
/* series_io.c: period index of an epoch time at MX_FREQ_* (weeks from Monday). */
int64_t fc_period_of(int64_t t, int freq);

/* ---- forecast.c: one method on y (fallbacks inside, named in note). */
int fc_point(const double *y, size_t n, int method, int h, int m, double *f, int *used,
             char *model, size_t model_size, char *note, size_t note_size,
             fc_ets_fit *ets_out, fc_config *cfg_out);

/* ---- intervals.c: empirical h-step errors from rolling origins inside the
 * history. point(y, n_origin, h, f, ctx) re-forecasts from each origin.
 * Fills sigma[h], cum_sigma[h] and lo/hi[nlevels*h] around mean.
 * Returns the number of origins used (0: a random-walk fallback was used). */
typedef void (*fc_point_fn)(const double *y, size_t n, int h, double *f, void *ctx);
int fc_empirical_intervals(const double *y, size_t n, int h, fc_point_fn point, void *ctx,
                           int max_origins, const double *mean, int nlevels, const double *levels,
                           double *sigma, double *cum_sigma, double *lo, double *hi);

#endif
