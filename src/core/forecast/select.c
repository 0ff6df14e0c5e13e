/* Automatic method choice. Per series:
 *  1. all zeros: zero forecast; intermittent (ADI > 1.32, Syntetos-Boylan-
 *     Croston 2005): SBA.
 *  2. otherwise a holdout of the last h observations scores every component
 *     forecaster and every equal-weight combination of the best three by
 *     sMAPE + scaled MAE (the two halves of the M4 OWA); the winner is refitted
 *     on the whole series. Combinations of a few diverse methods are the most
 *     robust gain known from M3/M4 (Makridakis et al. 2020, sec. 4).
 * Series too short for a holdout use ETS (AICc) alone, or Theta. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"

static const char *component_name[FC_C_COUNT] = {"snaive", "snaive_week", "theta", "ets",
                                                 "naive2", "ses", "seasonal_mean"};

static int component_run(const double *y, size_t n, fc_config *cfg, int c, int h, double *f) {
  int m = cfg->m;
  switch (c) {
    case FC_C_SNAIVE: fc_snaive(y, n, m, h, f); return 0;
    case FC_C_SNAIVE2: fc_snaive(y, n, cfg->m2 > 1 ? cfg->m2 : m, h, f); return 0;
    case FC_C_SAVG: {
      /* mean of the same position over the last K second-periods */
      int p = cfg->m2 > 1 ? cfg->m2 : m;
      if (p <= 1 || n < (size_t)p) {
        fc_naive(y, n, h, f);
        return 0;
      }
      int K = (int)(n / (size_t)p);
      if (K > 4) K = 4;
      for (int j = 0; j < h; j++) {
        double s = 0;
        for (int k = 1; k <= K; k++) s += y[n - (size_t)k * (size_t)p + (size_t)(j % p)];
        f[j] = s / K;
      }
      return 0;
    }
    case FC_C_THETA:
    case FC_C_NAIVE2:
    case FC_C_SES:
      fc_m4_forecast(y, n, m, h, c == FC_C_THETA ? FC_M4_THETA : c == FC_C_SES ? FC_M4_SES : FC_M4_NAIVE, f);
      return 0;
    case FC_C_ETS: {
      fc_ets_fit fit;
      int rc;
      if (cfg->ets_fixed) rc = fc_ets_fit_model(y, n, cfg->ets_error, cfg->ets_trend, cfg->ets_season,
                                                m, &fit);
      else rc = fc_ets_auto(y, n, m, -1, -1, 0, &fit);
      if (rc != 0) {
        fc_m4_forecast(y, n, m, h, FC_M4_THETA, f);
        return 0;
      }
      if (!cfg->ets_fixed) {
        cfg->ets_fixed = 1;
        cfg->ets_error = fit.error, cfg->ets_trend = fit.trend, cfg->ets_season = fit.season;
      }
      fc_ets_forecast(&fit, h, f, NULL, NULL);
      return 0;
    }
  }
  fc_naive(y, n, h, f);
  return 0;
}

int fc_config_run(const double *y, size_t n, fc_config *cfg, int h, double *f) {
  double *tmp = malloc((size_t)h * sizeof *tmp);
  if (!tmp) {
    fc_naive(y, n, h, f);
    return 0;
  }
  int k = 0;
  for (int j = 0; j < h; j++) f[j] = 0;
  for (int c = 0; c < FC_C_COUNT; c++) {
    if (!(cfg->mask & (1u << c))) continue;
    component_run(y, n, cfg, 1 << c, h, tmp);
    for (int j = 0; j < h; j++) f[j] += tmp[j];
    k++;
  }
  if (k == 0) fc_naive(y, n, h, f);
  else
    for (int j = 0; j < h; j++) f[j] /= k;
  free(tmp);
  return 0;
}

/* Holdout score: sMAPE/100 + MAE / in-sample seasonal-naive MAE. */
static double score(const double *x, size_t n, int m, const double *y, const double *f, int h) {
  double sm = 0, ae = 0, scale = 0;
  size_t lag = (m > 1 && n > (size_t)m) ? (size_t)m : 1, cnt = 0;
  for (size_t t = lag; t < n; t++, cnt++) scale += fabs(x[t] - x[t - lag]);
  scale = cnt ? scale / (double)cnt : 0;
  for (int j = 0; j < h; j++) {
    double d = fabs(y[j]) + fabs(f[j]);
    sm += d > 0 ? 2 * fabs(y[j] - f[j]) / d : 0;
    ae += fabs(y[j] - f[j]);
  }
  sm /= h, ae /= h;
  return sm + (scale > 0 ? ae / scale : 0);
}

static void describe(unsigned mask, const fc_config *cfg, char *buf, size_t size) {
  buf[0] = '\0';
  for (int c = 0; c < FC_C_COUNT; c++) {
    if (!(mask & (1u << c))) continue;
    if (buf[0]) strncat(buf, "+", size - strlen(buf) - 1);
    if ((1 << c) == FC_C_ETS && cfg->ets_fixed) {
      fc_ets_fit tmp;
      memset(&tmp, 0, sizeof tmp);
      tmp.error = cfg->ets_error, tmp.trend = cfg->ets_trend, tmp.season = cfg->ets_season;
      char name[24];
      fc_ets_name(&tmp, name, sizeof name);
      strncat(buf, name, size - strlen(buf) - 1);
    } else {
      strncat(buf, component_name[c], size - strlen(buf) - 1);
    }
  }
}

int fc_auto(const double *y, size_t n, int m, int h, double *f, fc_config *chosen, char *model,
            size_t model_size, char *note, size_t note_size) {
  memset(chosen, 0, sizeof *chosen);
  chosen->m = m;
  chosen->m2 = m == 24 ? 168 : 0;
  unsigned cand = FC_C_THETA | FC_C_ETS;
  if (m > 1) cand |= FC_C_SNAIVE;
  if (chosen->m2) cand |= FC_C_SNAIVE2 | FC_C_SAVG;
  size_t need = (size_t)h + (size_t)(m > 1 ? 3 * m : 10);
  if (chosen->m2) need = (size_t)h + 2 * (size_t)chosen->m2;
  if (n < need) {
    fc_ets_fit fit;
    if (fc_ets_auto(y, n, m, -1, -1, 0, &fit) == 0) {
      chosen->mask = FC_C_ETS;
      chosen->ets_fixed = 1;
      chosen->ets_error = fit.error, chosen->ets_trend = fit.trend, chosen->ets_season = fit.season;
      snprintf(note, note_size, "series of %zu too short for a holdout of %d: ets by AICc", n, h);
    } else {
      /* too short even for ETS: Theta needs 3 values, naive2 falls back to naive */
      chosen->mask = n >= 3 ? FC_C_THETA : FC_C_NAIVE2;
      snprintf(note, note_size, "series of %zu too short for ets: %s", n,
               n >= 3 ? "theta" : "naive");
    }
    fc_config_run(y, n, chosen, h, f);
    describe(chosen->mask, chosen, model, model_size);
    return 0;
  }
  size_t nt = n - (size_t)h;
  double *fc[FC_C_COUNT], *buf = malloc((size_t)FC_C_COUNT * (size_t)h * sizeof(double));
  double *comb = malloc((size_t)h * sizeof(double));
  if (!buf || !comb) {
    free(buf), free(comb);
    fc_naive(y, n, h, f);
    snprintf(model, model_size, "naive");
    return 0;
  }
  double sc[FC_C_COUNT];
  int order[FC_C_COUNT], no = 0;
  fc_config hold = *chosen;
  for (int c = 0; c < FC_C_COUNT; c++) {
    fc[c] = buf + (size_t)c * (size_t)h;
    sc[c] = INFINITY;
    if (!(cand & (1u << c))) continue;
    component_run(y, nt, &hold, 1 << c, h, fc[c]);
    sc[c] = score(y, nt, m, y + nt, fc[c], h);
    order[no++] = c;
  }
  /* rank components by holdout score */
  for (int i = 1; i < no; i++)
    for (int j = i; j > 0 && sc[order[j]] < sc[order[j - 1]]; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  unsigned best_mask = 1u << order[0];
  double best = sc[order[0]];
  /* combinations of the top three: pairs and the triple */
  int top = no < 3 ? no : 3;
  for (unsigned sub = 1; sub < (1u << top); sub++) {
    if (__builtin_popcount(sub) < 2) continue;
    unsigned mask = 0;
    int k = 0;
    for (int j = 0; j < h; j++) comb[j] = 0;
    for (int i = 0; i < top; i++)
      if (sub & (1u << i)) {
        mask |= 1u << order[i];
        for (int j = 0; j < h; j++) comb[j] += fc[order[i]][j];
        k++;
      }
    for (int j = 0; j < h; j++) comb[j] /= k;
    double s = score(y, nt, m, y + nt, comb, h);
    if (s < best) {
      best = s;
      best_mask = mask;
    }
  }
  chosen->mask = best_mask;
  /* keep the ETS form selected on the holdout when refitting */
  fc_config_run(y, n, chosen, h, f);
  describe(chosen->mask, chosen, model, model_size);
  free(buf), free(comb);
  return 0;
}
