/* Rolling-origin backtests (Tashman 2000): for every series and origin the
 * method is refitted on the history before the origin and scored on the next
 * h actuals. sMAPE, MASE and RMSSE are averaged over series-origins (the M4
 * convention); WAPE and bias are pooled over all forecast points. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "util/util.h"

mx_backtest_options mx_backtest_defaults(void) {
  mx_backtest_options o;
  memset(&o, 0, sizeof o);
  o.fc = mx_forecast_defaults();
  o.origins = 3;
  o.refit = 1;
  return o;
}

typedef struct {
  double smape, mase, rmsse, abs_err, abs_y, err, pinball;
  double covered[MX_FC_MAX_LEVELS];
  size_t n_mase, n_rmsse, points, evaluated, skipped;
  size_t chosen[MX_FC_METHOD_COUNT];
} acc;

typedef struct {
  const mx_series_set *s;
  const mx_backtest_options *opt;
  int method;
  acc *per_series; /* summed in series order afterwards: reproducible totals */
  double *per_h;   /* by_horizon: [count][3 * horizon] sums of |e|, |y|, sMAPE per step */
  pthread_mutex_t lock;
  size_t next;
  int failed;
  mx_error err;
} bt_ctx;

static int bt_worker(void *vctx, int t, int nthreads) {
  bt_ctx *c = vctx;
  const mx_backtest_options *o = c->opt;
  int h = o->fc.horizon;
  size_t step = (size_t)(o->step > 0 ? o->step : h);
  int mm = o->mase_m > 0 ? o->mase_m : (o->fc.season > 1 ? o->fc.season : 1);
  mx_forecast_options fo = o->fc;
  fo.method = c->method;
  for (;;) {
    pthread_mutex_lock(&c->lock);
    size_t i = c->next++;
    int stop = c->failed;
    pthread_mutex_unlock(&c->lock);
    if (stop || i >= c->s->count) break;
    mx_error ce;
    if (mx_cancel_check(o->fc.cancel, "backtest", &ce) != MX_OK) {
      pthread_mutex_lock(&c->lock);
      if (!c->failed) c->err = ce;
      c->failed = 1;
      pthread_mutex_unlock(&c->lock);
      break;
    }
    acc *a = &c->per_series[i];
    const double *y = c->s->values[i];
    size_t n = c->s->len[i];
    int any = 0;
    fc_replay rep;
    int have_rep = 0;
    for (int k = o->origins - 1; k >= 0; k--) {
      size_t back = (size_t)h + (size_t)k * step;
      if (n < back + 3) continue;
      size_t origin = n - back;
      mx_forecast_result r;
      mx_error e;
      mx_error_clear(&e);
      /* refit 0: the method / auto's selection is made at the earliest origin
       * and replayed (parameters re-estimated) at the later ones */
      int replay = o->refit == 0 && have_rep;
      int rc = fc_forecast_series(y, origin, &fo, replay ? &rep : NULL, &r,
                                  o->refit == 0 && !have_rep ? &rep : NULL, &e);
      if (rc == MX_OK && o->refit == 0) have_rep = 1;
      if (rc != MX_OK) {
        pthread_mutex_lock(&c->lock);
        if (!c->failed) mx_error_set(&c->err, rc, "series '%s': %s", c->s->ids[i], e.message);
        c->failed = 1;
        pthread_mutex_unlock(&c->lock);
        break;
      }
      const double *act = y + origin;
      a->smape += mx_metric_smape(act, r.mean, (size_t)h);
      double ms = mx_metric_mase(y, origin, mm, act, r.mean, (size_t)h);
      if (isfinite(ms)) a->mase += ms, a->n_mase++;
      double rs = mx_metric_rmsse(y, origin, mm, act, r.mean, (size_t)h);
      if (isfinite(rs)) a->rmsse += rs, a->n_rmsse++;
      for (int j = 0; j < h; j++) {
        a->abs_err += fabs(act[j] - r.mean[j]);
        a->abs_y += fabs(act[j]);
        a->err += r.mean[j] - act[j];
      }
      if (c->per_h) {
        double *ph = c->per_h + i * 3 * (size_t)h;
        for (int j = 0; j < h; j++) {
          ph[j] += fabs(act[j] - r.mean[j]);
          ph[h + j] += fabs(act[j]);
          ph[2 * h + j] += mx_metric_smape(act + j, r.mean + j, 1);
        }
      }
      double pin = 0;
      for (int l = 0; l < r.nlevels; l++) {
        double q = (1 - r.levels[l] / 100) / 2;
        const double *lo = r.lo + (size_t)l * (size_t)h, *hi = r.hi + (size_t)l * (size_t)h;
        pin += mx_metric_pinball(act, lo, q, (size_t)h) + mx_metric_pinball(act, hi, 1 - q, (size_t)h);
        a->covered[l] += mx_metric_coverage(act, lo, hi, (size_t)h) * h;
      }
      if (r.nlevels) a->pinball += pin / (2 * r.nlevels);
      a->points += (size_t)h;
      a->evaluated++;
      if (r.method >= 0 && r.method < MX_FC_METHOD_COUNT) a->chosen[r.method]++;
      any = 1;
      mx_forecast_result_free(&r);
    }
    if (!any) a->skipped++;
  }
  return 0;
}

void mx_backtest_metrics_free(mx_backtest_metrics *m) {
  if (!m) return;
  free(m->wape_h);
  free(m->smape_h);
  m->wape_h = m->smape_h = NULL;
}

int mx_backtest(const mx_series_set *s, const mx_backtest_options *opt, const int *methods,
                int nmethods, mx_backtest_metrics *out, mx_error *err) {
  if (nmethods > 0) memset(out, 0, (size_t)nmethods * sizeof *out);
  if (opt->fc.horizon < 1) return mx_error_set(err, MX_EINVAL, "horizon must be >= 1");
  if (opt->origins < 1) return mx_error_set(err, MX_EINVAL, "origins must be >= 1");
  int threads = mx__threads_resolve(opt->fc.threads);
  if ((size_t)threads > s->count) threads = (int)(s->count ? s->count : 1);
  for (int mi = 0; mi < nmethods; mi++) {
    double t0 = mx__now_seconds();
    bt_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s, c.opt = opt, c.method = methods[mi];
    c.per_series = calloc(s->count ? s->count : 1, sizeof(acc));
    size_t hh = (size_t)opt->fc.horizon;
    if (opt->by_horizon) c.per_h = calloc((s->count ? s->count : 1) * 3 * hh, sizeof(double));
    double *wape_h = opt->by_horizon ? calloc(hh, sizeof(double)) : NULL;
    double *smape_h = opt->by_horizon ? calloc(hh, sizeof(double)) : NULL;
    if (!c.per_series || (opt->by_horizon && (!c.per_h || !wape_h || !smape_h))) {
      free(c.per_series), free(c.per_h), free(wape_h), free(smape_h);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&c.lock, NULL);
    mx__blas_begin(1); /* on this thread, never in the workers (util.h) */
    mx__parallel_run(threads, bt_worker, &c);
    mx__blas_end();
    pthread_mutex_destroy(&c.lock);
    if (c.failed) {
      free(c.per_series), free(c.per_h), free(wape_h), free(smape_h);
      if (err) *err = c.err;
      return c.err.code;
    }
    acc a;
    memset(&a, 0, sizeof a);
    for (size_t t = 0; t < s->count; t++) {
      acc *p = &c.per_series[t];
      a.smape += p->smape, a.mase += p->mase, a.rmsse += p->rmsse;
      a.abs_err += p->abs_err, a.abs_y += p->abs_y, a.err += p->err, a.pinball += p->pinball;
      a.n_mase += p->n_mase, a.n_rmsse += p->n_rmsse, a.points += p->points;
      a.evaluated += p->evaluated, a.skipped += p->skipped;
      for (int l = 0; l < MX_FC_MAX_LEVELS; l++) a.covered[l] += p->covered[l];
      for (int k = 0; k < MX_FC_METHOD_COUNT; k++) a.chosen[k] += p->chosen[k];
    }
    free(c.per_series);
    mx_backtest_metrics *m = &out[mi];
    memset(m, 0, sizeof *m);
    if (c.per_h) {
      for (size_t j = 0; j < hh; j++) {
        double e = 0, y = 0, sm = 0;
        for (size_t t = 0; t < s->count; t++) {
          const double *ph = c.per_h + t * 3 * hh;
          e += ph[j], y += ph[hh + j], sm += ph[2 * hh + j];
        }
        wape_h[j] = y > 0 ? e / y : NAN;
        smape_h[j] = a.evaluated ? sm / (double)a.evaluated : NAN;
      }
      free(c.per_h);
      m->wape_h = wape_h;
      m->smape_h = smape_h;
    }
    m->method = methods[mi];
    double ev = a.evaluated ? (double)a.evaluated : NAN;
    m->smape = a.smape / ev;
    m->mase = a.n_mase ? a.mase / (double)a.n_mase : NAN;
    m->rmsse = a.n_rmsse ? a.rmsse / (double)a.n_rmsse : NAN;
    m->wape = a.abs_y > 0 ? a.abs_err / a.abs_y : NAN;
    m->bias = a.points ? a.err / (double)a.points : NAN;
    m->pinball = a.pinball / ev;
    for (int l = 0; l < opt->fc.nlevels; l++)
      m->coverage[l] = a.points ? a.covered[l] / (double)a.points : NAN;
    m->evaluated = a.evaluated;
    m->skipped = a.skipped;
    memcpy(m->chosen, a.chosen, sizeof m->chosen);
    m->seconds = mx__now_seconds() - t0;
  }
  return MX_OK;
}
