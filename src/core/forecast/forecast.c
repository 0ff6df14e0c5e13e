/* Method dispatch, fallbacks, intervals and the parallel batch driver. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/inventory.h" /* mx_std_normal_quantile */
#include "util/util.h"

static const char *method_names[MX_FC_METHOD_COUNT] = {
    "auto", "naive", "snaive", "naive2", "ses", "holt", "damped", "hw",
    "theta", "ets", "croston", "sba", "tsb", "arima", "combo"};

const char *mx_forecast_method_name(int method) {
  return method >= 0 && method < MX_FC_METHOD_COUNT ? method_names[method] : "?";
}

int mx_forecast_method_parse(const char *name, int *method, mx_error *err) {
  for (int i = 0; i < MX_FC_COMBO; i++)
    if (strcmp(name, method_names[i]) == 0) {
      *method = i;
      return MX_OK;
    }
  return mx_error_set(err, MX_ENOTFOUND,
                      "unknown method '%s' (auto, naive, snaive, naive2, ses, holt, damped, hw, "
                      "theta, ets, croston, sba, tsb, arima)", name);
}

mx_forecast_options mx_forecast_defaults(void) {
  mx_forecast_options o;
  memset(&o, 0, sizeof o);
  o.method = MX_FC_AUTO;
  o.horizon = 1;
  o.nlevels = 2;
  o.levels[0] = 80;
  o.levels[1] = 95;
  return o;
}

void mx_forecast_result_free(mx_forecast_result *r) {
  if (!r) return;
  free(r->mean);
  free(r->sigma);
  free(r->cum_sigma);
  free(r->lo);
  free(r->hi);
  r->mean = r->sigma = r->cum_sigma = r->lo = r->hi = NULL;
}

int fc_m4_forecast(const double *y, size_t n, int m, int h, int base, double *f) {
  double *adj = malloc(n * sizeof *adj), *si = malloc((size_t)h * sizeof *si);
  if (!adj || !si) {
    free(adj), free(si);
    fc_naive(y, n, h, f);
    return FC_ADJ_NONE;
  }
  int mode = fc_m4_adjust(y, n, m, h, adj, si);
  if (base == FC_M4_NAIVE) fc_naive(adj, n, h, f);
  else if (base == FC_M4_SES) {
    double l = fc_ses_mse(adj, n, NULL, NULL);
    for (int j = 0; j < h; j++) f[j] = l;
  } else fc_theta(adj, n, h, f);
  fc_m4_reseason(f, h, si, mode);
  free(adj), free(si);
  return mode;
}

void fc_m4_adjust_note(int mode, int m, char *note, size_t note_size) {
  if (mode == FC_ADJ_ADD)
    snprintf(note, note_size, "a multiplicative seasonal index at %d is zero or negative (periods "
             "without sales): additive seasonal adjustment", m);
  else if (mode == FC_ADJ_FAILED)
    snprintf(note, note_size, "no seasonal decomposition at %d could be made: not deseasonalised", m);
}

/* The recent level: the mean of the last max(4, m) values when they are all
 * positive (0 otherwise: no guard). A smoothing method's forecast must not fall
 * below FC_LEVEL_FLOOR of it (per step without a season, per first cycle with
 * one): a trend extrapolated through an outlier or a fit that missed a level
 * shift is replaced by SES, and SES by that mean, named in the note. */
#define FC_LEVEL_FLOOR 0.1
static double recent_level(const double *y, size_t n, int m) {
  size_t k = m > 4 ? (size_t)m : 4;
  if (n < 2 * k) return 0;
  double s = 0;
  for (size_t t = n - k; t < n; t++) {
    if (!(y[t] > 0)) return 0;
    s += y[t];
  }
  return s / (double)k;
}

static int below_level(const double *f, int h, int m, double level) {
  if (m <= 1) {
    for (int j = 0; j < h; j++)
      if (f[j] < FC_LEVEL_FLOOR * level) return j + 1;
    return 0;
  }
  int k = h < m ? h : m;
  double s = 0;
  for (int j = 0; j < k; j++) s += f[j];
  return s / k < FC_LEVEL_FLOOR * level ? 1 : 0;
}

static void level_guard(const double *y, size_t n, int m, int h, double *f, int *u, char *note,
                        size_t note_size, fc_ets_fit *ets_out, fc_config *cfg_out) {
  double level = recent_level(y, n, m);
  int j = level > 0 ? below_level(f, h, m, level) : 0;
  if (!j) return;
  double was = f[j - 1];
  int k = m > 4 ? m : 4;
  fc_m4_forecast(y, n, m, h, FC_M4_SES, f);
  const char *to = "ses";
  if (below_level(f, h, m, level)) {
    for (int i = 0; i < h; i++) f[i] = level;
    to = "their mean";
  }
  snprintf(note, note_size, "%s forecast %.4g at step %d is below %g%% of the last %d values' "
           "mean %.4g: %s", mx_forecast_method_name(*u), was, j, FC_LEVEL_FLOOR * 100, k, level, to);
  *u = MX_FC_SES;
  if (ets_out) ets_out->m = -1;
  if (cfg_out) {
    memset(cfg_out, 0, sizeof *cfg_out);
    cfg_out->m = m;
  }
}

int fc_point(const double *y, size_t n, int method, int h, int m, double *f, int *used,
             char *model, size_t model_size, char *note, size_t note_size, fc_ets_fit *ets_out,
             fc_config *cfg_out) {
  int u = method;
  if (model) model[0] = '\0';
  if (note) note[0] = '\0';
  if (ets_out) ets_out->m = -1; /* marks "no ETS fit" */
  int allzero = 1;
  for (size_t t = 0; t < n; t++)
    if (y[t] != 0) allzero = 0;
  switch (method) {
    case MX_FC_NAIVE: fc_naive(y, n, h, f); break;
    case MX_FC_SNAIVE:
      if (m <= 1 || n < (size_t)m) {
        snprintf(note, note_size, "snaive needs a season and %d values, got %zu: naive",
                 m > 1 ? m : 2, n);
        u = MX_FC_NAIVE;
      }
      fc_snaive(y, n, m, h, f);
      break;
    case MX_FC_NAIVE2:
    case MX_FC_SES:
    case MX_FC_THETA:
      if (m > 1 && n < 3 * (size_t)m)
        snprintf(note, note_size, "%zu values < 3 seasons of %d: not deseasonalised", n, m);
      fc_m4_adjust_note(fc_m4_forecast(y, n, m, h,
                                       method == MX_FC_NAIVE2 ? FC_M4_NAIVE
                                       : method == MX_FC_SES  ? FC_M4_SES
                                                              : FC_M4_THETA,
                                       f),
                        m, note, note_size);
      break;
    case MX_FC_HOLT:
    case MX_FC_DAMPED:
    case MX_FC_HW:
    case MX_FC_ETS: {
      fc_ets_fit fit, f2;
      int rc;
      if (method == MX_FC_HOLT || method == MX_FC_DAMPED) {
        /* as the M4 benchmarks: on the deseasonalised series, reseasonalised */
        double *adj = malloc(n * sizeof *adj), *si = malloc((size_t)h * sizeof *si);
        if (!adj || !si) {
          free(adj), free(si);
          fc_naive(y, n, h, f);
          u = MX_FC_NAIVE;
          break;
        }
        int mode = fc_m4_adjust(y, n, m, h, adj, si);
        rc = fc_ets_auto(adj, n, 1, method == MX_FC_HOLT ? FC_T_A : FC_T_AD, FC_S_N, 0, &fit);
        if (rc == 0) {
          fc_ets_forecast(&fit, h, f, NULL, NULL);
          fc_m4_reseason(f, h, si, mode);
          fc_ets_name(&fit, model, model_size);
          fc_m4_adjust_note(mode, m, note, note_size);
          /* the analytic variance is rescaled by a multiplicative index only:
           * after an additive adjustment the intervals are empirical */
          if (ets_out) *ets_out = fit;
          if (ets_out && mode != FC_ADJ_MULT && mode != FC_ADJ_NONE) ets_out->m = -1;
        }
        free(adj), free(si);
        if (rc == 0) break;
      } else if (method == MX_FC_HW) {
        /* Holt-Winters: additive trend, additive or multiplicative season by AICc */
        rc = fc_ets_auto(y, n, m, FC_T_A, FC_S_A, FC_ETS_FIXED_SEASON, &fit);
        if (fc_ets_auto(y, n, m, FC_T_A, FC_S_M, FC_ETS_FIXED_SEASON, &f2) == 0 && (rc != 0 || f2.aicc < fit.aicc)) {
          fit = f2;
          rc = 0;
        }
      } else {
        rc = fc_ets_auto(y, n, m, -1, -1, FC_ETS_DAMPED, &fit);
      }
      if (rc != 0) {
        /* too short (or not positive) for the model: the next simpler one */
        if (method == MX_FC_HW && fc_ets_auto(y, n, 1, FC_T_A, FC_S_N, 0, &fit) == 0) {
          snprintf(note, note_size, "hw needs a season and > 2 seasons of data (%zu values, "
                   "season %d): holt", n, m);
          u = MX_FC_HOLT;
        } else if (n >= 1) {
          snprintf(note, note_size, "%zu values too few for %s: ses", n, method_names[method]);
          fc_m4_forecast(y, n, 1, h, FC_M4_SES, f);
          u = MX_FC_SES;
          break;
        }
      }
      fc_ets_forecast(&fit, h, f, NULL, NULL);
      fc_ets_name(&fit, model, model_size);
      if (ets_out) *ets_out = fit;
      break;
    }
    case MX_FC_CROSTON:
    case MX_FC_SBA:
    case MX_FC_TSB: {
      int v = method == MX_FC_CROSTON ? FC_CROSTON : method == MX_FC_SBA ? FC_SBA : FC_TSB;
      double fv = fc_intermittent(y, n, v);
      if (allzero) snprintf(note, note_size, "all values are zero: zero forecast");
      for (int j = 0; j < h; j++) f[j] = fv;
      break;
    }
    case MX_FC_ARIMA: {
      fc_arima_fit af;
      if (fc_arima_auto(y, n, m, NULL, &af, NULL, 0) == 0 &&
          fc_arima_forecast(&af, y, n, NULL, h, f, NULL, NULL) == 0) {
        fc_arima_name(&af, model, model_size);
      } else {
        snprintf(note, note_size, "%zu values too few for arima: naive", n);
        fc_naive(y, n, h, f);
        u = MX_FC_NAIVE;
      }
      break;
    }
    case MX_FC_AUTO:
    default: {
      if (allzero) {
        snprintf(note, note_size, "all values are zero: zero forecast");
        for (int j = 0; j < h; j++) f[j] = 0;
        u = MX_FC_NAIVE;
        break;
      }
      double adi, cv2;
      if (fc_classify(y, n, &adi, &cv2)) {
        int v = fc_intermittent_choose(y, n, h);
        double fv = fc_intermittent(y, n, v);
        for (int j = 0; j < h; j++) f[j] = fv;
        u = v == FC_CROSTON ? MX_FC_CROSTON : v == FC_SBA ? MX_FC_SBA : MX_FC_TSB;
        snprintf(model, model_size, "intermittent (ADI %.2f, CV2 %.2f): %s", adi, cv2,
                 method_names[u]);
        break;
      }
      fc_config cfg;
      fc_auto(y, n, m, h, f, &cfg, model, model_size, note, note_size);
      if (cfg_out) *cfg_out = cfg;
      unsigned mask = cfg.mask;
      if (__builtin_popcount(mask) > 1) u = MX_FC_COMBO;
      else if (mask == FC_C_SNAIVE) u = MX_FC_SNAIVE;
      else if (mask == FC_C_THETA) u = MX_FC_THETA;
      else if (mask == FC_C_NAIVE2) u = n >= 3 * (size_t)m && m > 1 ? MX_FC_NAIVE2 : MX_FC_NAIVE;
      else if (mask == FC_C_SES) u = MX_FC_SES;
      else u = mask == FC_C_ETS ? MX_FC_ETS : MX_FC_COMBO; /* snaive_week, seasonal_mean */
      if (u == MX_FC_ETS && ets_out && cfg.ets_fixed) {
        if (fc_ets_fit_model(y, n, cfg.ets_error, cfg.ets_trend, cfg.ets_season, m, ets_out) != 0)
          ets_out->m = -1;
      }
      break;
    }
  }
  if (u == MX_FC_SES || u == MX_FC_HOLT || u == MX_FC_DAMPED || u == MX_FC_HW || u == MX_FC_THETA ||
      u == MX_FC_ETS || u == MX_FC_COMBO)
    level_guard(y, n, m, h, f, &u, note, note_size, ets_out, cfg_out);
  if (used) *used = u;
  return MX_OK;
}

static int check_series(const double *y, size_t n, mx_error *err) {
  if (n == 0) return mx_error_set(err, MX_EEMPTY, "empty series");
  for (size_t t = 0; t < n; t++) {
    if (!isfinite(y[t]))
      return mx_error_set(err, MX_EINVAL, "value %zu of the series is not a finite number", t + 1);
    if (fabs(y[t]) > MX_SERIES_MAX_VALUE)
      return mx_error_set(err, MX_EINVAL, "value %zu of the series (%g) is beyond +-%g",
                          t + 1, y[t], MX_SERIES_MAX_VALUE);
  }
  return MX_OK;
}

int mx_forecast_point(const double *y, size_t n, int method, int horizon, int season, double *f,
                      int *used, mx_error *err) {
  int rc = check_series(y, n, err);
  if (rc) return rc;
  if (horizon < 1) return mx_error_set(err, MX_EINVAL, "horizon must be >= 1");
  if (method < 0 || method >= MX_FC_COMBO) return mx_error_set(err, MX_EINVAL, "bad method");
  char model[48], note[200];
  return fc_point(y, n, method, horizon, season, f, used, model, sizeof model, note, sizeof note,
                  NULL, NULL);
}

/* Re-forecast callback for rolling-origin intervals. */
typedef struct {
  int method, m;
  fc_config cfg;
  int use_cfg;
} reforecast_ctx;

static void reforecast(const double *y, size_t n, int h, double *f, void *vctx) {
  reforecast_ctx *c = vctx;
  if (c->use_cfg) {
    fc_config cfg = c->cfg;
    fc_config_run(y, n, &cfg, h, f);
    return;
  }
  char model[48], note[200];
  fc_point(y, n, c->method, h, c->m, f, NULL, model, sizeof model, note, sizeof note, NULL, NULL);
}

int mx_forecast_series(const double *y, size_t n, const mx_forecast_options *opt,
                       mx_forecast_result *out, mx_error *err) {
  return fc_forecast_series(y, n, opt, NULL, out, NULL, err);
}

int fc_forecast_series(const double *y, size_t n, const mx_forecast_options *opt,
                       const fc_replay *replay, mx_forecast_result *out, fc_replay *chosen,
                       mx_error *err) {
  return fc_forecast_series_x(y, n, NULL, 0, opt, replay, out, chosen, err);
}

int mx_forecast_series_xreg(const double *y, size_t n, const double *x, int nx,
                            const mx_forecast_options *opt, mx_forecast_result *out,
                            mx_error *err) {
  return fc_forecast_series_x(y, n, x, nx, opt, NULL, out, NULL, err);
}

int fc_forecast_series_x(const double *y, size_t n, const double *x, int nx,
                         const mx_forecast_options *opt, const fc_replay *replay,
                         mx_forecast_result *out, fc_replay *chosen, mx_error *err) {
  memset(out, 0, sizeof *out);
  int rc = check_series(y, n, err);
  if (rc) return rc;
  int h = opt->horizon;
  if (h < 1 || h > 100000) return mx_error_set(err, MX_EINVAL, "horizon must be in 1..100000");
  if (opt->nlevels < 0 || opt->nlevels > MX_FC_MAX_LEVELS)
    return mx_error_set(err, MX_EINVAL, "at most %d interval levels", MX_FC_MAX_LEVELS);
  for (int l = 0; l < opt->nlevels; l++)
    if (!(opt->levels[l] > 0 && opt->levels[l] < 100))
      return mx_error_set(err, MX_EINVAL, "interval level %g is not in (0, 100)", opt->levels[l]);
  if (opt->method < 0 || opt->method >= MX_FC_COMBO)
    return mx_error_set(err, MX_EINVAL, "bad method %d", opt->method);
  int m = opt->season > 1 ? opt->season : 1;
  if (m > 400) return mx_error_set(err, MX_EINVAL, "season %d is longer than 400", m);
  if (nx > 0 && (opt->method != MX_FC_ARIMA || replay))
    return mx_error_set(err, MX_EINVAL,
                        "method %s does not use regressors (only arima does); drop the "
                        "regressors or use --method arima",
                        mx_forecast_method_name(replay ? replay->method : opt->method));
  if (nx < 0 || nx > MX_FC_MAX_REGRESSORS || (nx > 0 && !x))
    return mx_error_set(err, MX_EINVAL, "at most %d regressors", MX_FC_MAX_REGRESSORS);
  for (size_t i = 0; i < (size_t)(nx > 0 ? nx : 0) * (n + (size_t)h); i++)
    if (!isfinite(x[i]))
      return mx_error_set(err, MX_EINVAL, "regressor %zu, period %zu: not a finite number",
                          i / (n + (size_t)h) + 1, i % (n + (size_t)h) + 1);
  fc_arima_xreg xr = {x, nx, n + (size_t)h};
  size_t H = (size_t)h, L = (size_t)opt->nlevels;
  out->horizon = h;
  out->nlevels = opt->nlevels;
  memcpy(out->levels, opt->levels, sizeof out->levels);
  out->mean = malloc(H * sizeof(double));
  out->sigma = malloc(H * sizeof(double));
  out->cum_sigma = malloc(H * sizeof(double));
  out->lo = malloc((L ? L : 1) * H * sizeof(double));
  out->hi = malloc((L ? L : 1) * H * sizeof(double));
  if (!out->mean || !out->sigma || !out->cum_sigma || !out->lo || !out->hi) {
    mx_forecast_result_free(out);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  fc_ets_fit fit;
  fc_config cfg;
  memset(&cfg, 0, sizeof cfg);
  int used, arima_done = 0, arc = 0;
  fc_arima_fit af;
  if (replay && replay->cfg.mask) {
    /* a selection made earlier (backtest --refit first): same components and
     * ETS form, parameters re-estimated on this history */
    cfg = replay->cfg;
    cfg.m = m;
    fc_config run = cfg;
    fc_config_run(y, n, &run, h, out->mean);
    used = replay->method;
    fit.m = -1;
    if (cfg.mask == FC_C_ETS && cfg.ets_fixed &&
        fc_ets_fit_model(y, n, cfg.ets_error, cfg.ets_trend, cfg.ets_season, m, &fit) != 0)
      fit.m = -1;
    snprintf(out->model, sizeof out->model, "replayed selection");
  } else if (!replay && opt->method == MX_FC_ARIMA &&
             (arc = fc_arima_auto(y, n, m, nx ? &xr : NULL, &af, out->note, sizeof out->note)) ==
                 0 &&
             fc_arima_forecast(&af, y, n, nx ? &xr : NULL, h, out->mean, out->sigma,
                               out->cum_sigma) == 0) {
    /* one fit for the mean and the psi-weight variances */
    used = MX_FC_ARIMA;
    arima_done = 1;
    fit.m = -1;
    fc_arima_name(&af, out->model, sizeof out->model);
  } else if (nx > 0) {
    /* no fallback that would silently drop the regressors */
    int rc2 = mx_error_set(err, MX_EINVAL, "arima with regressors: %s",
                           arc == -2 ? "the regressors are collinear"
                                     : "no model could be fitted (series too short?)");
    mx_forecast_result_free(out);
    return rc2;
  } else {
    fc_point(y, n, replay ? replay->method : opt->method, h, m, out->mean, &used, out->model,
             sizeof out->model, out->note, sizeof out->note, &fit, &cfg);
  }
  out->method = used;
  if (chosen) {
    chosen->method = used;
    chosen->cfg = cfg;
    if (!cfg.mask && used == MX_FC_ETS && fit.m >= 0) {
      chosen->cfg.mask = FC_C_ETS;
      chosen->cfg.m = m;
      chosen->cfg.ets_fixed = 1;
      chosen->cfg.ets_error = fit.error, chosen->cfg.ets_trend = fit.trend;
      chosen->cfg.ets_season = fit.season;
    }
  }
  if (opt->season > (int)n && !out->note[0])
    snprintf(out->note, sizeof out->note, "season %d is longer than the series (%zu values)",
             opt->season, n);
  if (arima_done) {
    for (int l = 0; l < opt->nlevels; l++) {
      double z = mx_std_normal_quantile(0.5 + opt->levels[l] / 200.0);
      for (int j = 0; j < h; j++) {
        out->lo[(size_t)l * H + (size_t)j] = out->mean[j] - z * out->sigma[j];
        out->hi[(size_t)l * H + (size_t)j] = out->mean[j] + z * out->sigma[j];
      }
    }
  } else if (fit.m >= 0 && (used == MX_FC_ETS || used == MX_FC_HOLT || used == MX_FC_DAMPED ||
                     used == MX_FC_HW)) {
    /* analytic ETS variances (Hyndman et al. 2008, ch. 6) */
    double *tmp = malloc(H * sizeof *tmp);
    if (!tmp) {
      mx_forecast_result_free(out);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    fc_ets_forecast(&fit, h, tmp, out->sigma, out->cum_sigma);
    /* holt and damped ran on the deseasonalised series: scale the spread by
     * the seasonal index (the ratio of the reseasonalised to the raw mean) */
    for (int j = 0; j < h; j++) {
      double r = tmp[j] != 0 ? out->mean[j] / tmp[j] : 1;
      if (!isfinite(r) || r <= 0) r = 1;
      out->sigma[j] *= r;
      out->cum_sigma[j] *= r;
    }
    free(tmp);
    for (int l = 0; l < opt->nlevels; l++) {
      double z = mx_std_normal_quantile(0.5 + opt->levels[l] / 200.0);
      for (int j = 0; j < h; j++) {
        out->lo[(size_t)l * H + (size_t)j] = out->mean[j] - z * out->sigma[j];
        out->hi[(size_t)l * H + (size_t)j] = out->mean[j] + z * out->sigma[j];
      }
    }
  } else {
    /* auto's holdout choice is replayed as chosen (not re-selected) per origin */
    reforecast_ctx c = {used, m, cfg, (opt->method == MX_FC_AUTO || replay) && cfg.mask != 0};
    if (c.method == MX_FC_COMBO) c.method = MX_FC_AUTO;
    /* fewer origins for the costlier refits */
    int origins = (c.use_cfg && (cfg.mask & FC_C_ETS)) ? 6 : 20;
    fc_empirical_intervals(y, n, h, reforecast, &c, origins, out->mean, opt->nlevels, opt->levels,
                           out->sigma, out->cum_sigma, out->lo, out->hi);
  }
  /* bounded inputs keep this from happening; should a method still overflow,
   * an error beats writing -nan or inf into a plan's input */
  for (size_t j = 0; j < H; j++) {
    int bad = !isfinite(out->mean[j]) || !isfinite(out->sigma[j]);
    for (size_t l = 0; l < L; l++)
      bad |= !isfinite(out->lo[l * H + j]) || !isfinite(out->hi[l * H + j]);
    if (bad) {
      int rc2 = mx_error_set(err, MX_EINVAL, "%s: step %zu of the forecast is not a finite number",
                             out->model[0] ? out->model : "forecast", j + 1);
      mx_forecast_result_free(out);
      return rc2;
    }
  }
  if (opt->nonneg) {
    for (size_t j = 0; j < H; j++)
      if (out->mean[j] < 0) out->mean[j] = 0;
    for (size_t j = 0; j < L * H; j++) {
      if (out->lo[j] < 0) out->lo[j] = 0;
      if (out->hi[j] < 0) out->hi[j] = 0;
    }
  }
  return MX_OK;
}

/* ---------------------------------------------------------------- batch */

typedef struct {
  const mx_series_set *s;
  const mx_forecast_options *opt;
  mx_forecast_result *results;
  mx_forecast_progress_fn progress;
  void *pctx;
  pthread_mutex_t lock;
  size_t next, done;
  int failed;
  mx_error err;
} batch_ctx;

static int batch_worker(void *vctx, int t, int nthreads) {
  batch_ctx *c = vctx;
  for (;;) {
    pthread_mutex_lock(&c->lock);
    size_t i = c->next++;
    int stop = c->failed;
    pthread_mutex_unlock(&c->lock);
    if (stop || i >= c->s->count) break;
    mx_error e;
    mx_error_clear(&e);
    int cancelled = mx_cancel_check(c->opt->cancel, "forecast", &e) != MX_OK;
    const mx_regressors *xr = c->opt->regressors;
    int rc;
    if (cancelled)
      rc = e.code;
    else if (xr && (xr->count != c->s->count ||
                    xr->len[i] != c->s->len[i] + (size_t)c->opt->horizon))
      rc = mx_error_set(&e, MX_EINVAL, "regressors do not cover the history plus horizon");
    else if (xr)
      rc = mx_forecast_series_xreg(c->s->values[i], c->s->len[i], xr->values[i], xr->nx, c->opt,
                                   &c->results[i], &e);
    else
      rc = mx_forecast_series(c->s->values[i], c->s->len[i], c->opt, &c->results[i], &e);
    pthread_mutex_lock(&c->lock);
    if (rc != MX_OK && !c->failed) {
      c->failed = 1;
      if (cancelled) c->err = e;
      else mx_error_set(&c->err, rc, "series '%s': %s", c->s->ids[i], e.message);
    }
    c->done++;
    if (c->progress) c->progress(c->pctx, c->done, c->s->count);
    pthread_mutex_unlock(&c->lock);
  }
  return 0;
}

int mx_forecast_batch(const mx_series_set *s, const mx_forecast_options *opt,
                      mx_forecast_result *results, mx_forecast_progress_fn progress, void *ctx,
                      mx_error *err) {
  batch_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s, c.opt = opt, c.results = results, c.progress = progress, c.pctx = ctx;
  pthread_mutex_init(&c.lock, NULL);
  int threads = mx__threads_resolve(opt->threads);
  if ((size_t)threads > s->count) threads = (int)(s->count ? s->count : 1);
  mx__blas_begin(1); /* on this thread, never in the workers (util.h) */
  mx__parallel_run(threads, batch_worker, &c);
  mx__blas_end();
  pthread_mutex_destroy(&c.lock);
  if (c.failed) {
    if (err) *err = c.err;
    return c.err.code;
  }
  return MX_OK;
}
