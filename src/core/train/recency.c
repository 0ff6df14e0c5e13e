/* Recency for implicit models: time-decayed interaction weights and the
 * "recently popular" blend for users with little history.
 *
 * Decay: a pair whose latest event is `age` days before `now` weighs
 * 2^(-age / half_life) (an exponential forgetting curve with a half-life, as
 * Ding and Li 2005, "Time weight collaborative filtering", weight purchases
 * by their age). Each trainer uses the weight where its loss has a natural
 * per-pair weight: iALS multiplies the stored value (so the confidence
 * 1 + alpha r decays towards 1, the weight of an unobserved pair), EASE builds
 * its Gram matrix from the weighted rows (X'WX with X_ui = w_ui), and BPR draws
 * its positive pairs in proportion to w instead of uniformly.
 *
 * Blend: a user with few training items gets a ranking dominated by what
 * everyone bought lately:
 *   score'_ui = (1 - beta_u) score_ui + beta_u S pop_i / max pop,
 *   beta_u = h / (h + n_u)
 * (n_u: the user's training items; at n_u = h the mix is half and half),
 * where pop_i counts the users whose latest event with i falls in the last
 * `days` before now, and S makes the two terms commensurate: the mean score
 * of a training pair minus that of a random pair is the same for both, so
 * the same h means the same mix whatever the algorithm's score units. It is
 * stored as one extra factor (user: (1 - beta_u) x_u, beta_u S; item: y_i,
 * pop_i / max pop), so every scoring path (eval, recommend, serve, Lua)
 * applies it unchanged; bpr's item biases stay outside the mix. */
#include "core/train/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t resolve_now(const mx_dataset *d, int64_t now, int now_set) {
  return now_set ? now : d->time_max;
}

static void decay(const mx_csr *c, double half_life_days, int64_t now, const float *scale,
                  float *out) {
  double per_second = 1.0 / (half_life_days * 86400.0);
  for (uint64_t q = 0; q < c->nnz; q++) {
    double age = (double)(now - c->times[q]);
    if (age < 0) age = 0;
    float w = (float)exp2(-age * per_second);
    out[q] = scale ? scale[q] * w : w;
  }
}

static int check_times(const mx_dataset *d, const char *what, mx_error *err) {
  if (!d->has_time || !d->by_user.times || !d->by_item.times)
    return mx_error_set(err, MX_EINVAL,
                        "%s needs event times: select a time column (--columns time=NAME)", what);
  return MX_OK;
}

int mx_train_decay_weights(const mx_dataset *d, double half_life_days, int64_t now, int now_set,
                           float *out, mx_error *err) {
  if (!(half_life_days > 0) || !isfinite(half_life_days))
    return mx_error_set(err, MX_EINVAL, "--half-life must be a number of days > 0 (got %g)",
                        half_life_days);
  int rc = check_times(d, "--half-life", err);
  if (rc != MX_OK) return rc;
  decay(&d->by_user, half_life_days, resolve_now(d, now, now_set), NULL, out);
  return MX_OK;
}

int mx__recency_check(const mx_dataset *d, const mx_train_options *o, mx_error *err) {
  int decays = o->half_life_days != 0, blends = o->recent_popular_days != 0;
  if (!decays && !blends) return MX_OK;
  if (decays && (!(o->half_life_days > 0) || !isfinite(o->half_life_days)))
    return mx_error_set(err, MX_EINVAL, "--half-life must be a number of days > 0 (got %g)",
                        o->half_life_days);
  if (blends && (!(o->recent_popular_days > 0) || !isfinite(o->recent_popular_days)))
    return mx_error_set(err, MX_EINVAL, "--recent-popular must be a number of days > 0 (got %g)",
                        o->recent_popular_days);
  if (!(o->recent_popular_users >= 0) || !isfinite(o->recent_popular_users))
    return mx_error_set(err, MX_EINVAL, "--recent-popular-users must be a number >= 0 (got %g)",
                        o->recent_popular_users);
  if (decays && o->algo != MX_MODEL_IALS && o->algo != MX_MODEL_BPR && o->algo != MX_MODEL_EASE)
    return mx_error_set(err, MX_EINVAL, "--half-life works with ials, bpr and ease, not %s",
                        mx_model_kind_name(o->algo));
  if (blends && o->algo != MX_MODEL_IALS && o->algo != MX_MODEL_BPR)
    return mx_error_set(err, MX_EINVAL,
                        "--recent-popular works with the factor models ials and bpr, not %s",
                        mx_model_kind_name(o->algo));
  return check_times(d, decays ? "--half-life" : "--recent-popular", err);
}

int mx__recency_view(const mx_dataset *d, const mx_train_options *o, mx_dataset *view,
                    mx_error *err) {
  *view = *d;
  view->by_user.values = view->by_item.values = NULL;
  float *vu = malloc((d->by_user.nnz ? d->by_user.nnz : 1) * sizeof *vu);
  float *vi = malloc((d->by_item.nnz ? d->by_item.nnz : 1) * sizeof *vi);
  if (!vu || !vi) {
    free(vu);
    free(vi);
    return mx_error_set(err, MX_ENOMEM, "out of memory weighting %llu interactions",
                        (unsigned long long)d->by_user.nnz);
  }
  /* iALS decays the value (its confidence); ease and bpr, which binarise
   * the data, take the weight alone */
  int keep_value = o->algo == MX_MODEL_IALS;
  int64_t now = resolve_now(d, o->now_seconds, o->now_set);
  decay(&d->by_user, o->half_life_days, now, keep_value ? d->by_user.values : NULL, vu);
  decay(&d->by_item, o->half_life_days, now, keep_value ? d->by_item.values : NULL, vi);
  view->by_user.values = vu;
  view->by_item.values = vi;
  return MX_OK;
}

void mx__recency_view_free(mx_dataset *view) {
  free(view->by_user.values);
  free(view->by_item.values);
  view->by_user.values = view->by_item.values = NULL;
}

static float score(const mx_model *m, uint32_t u, uint32_t i) {
  uint32_t k = m->factors;
  float s = mx_dotf(m->user_factors + (size_t)u * k, m->item_factors + (size_t)i * k, k);
  return m->item_bias ? s + m->item_bias[i] : s;
}

int mx__recent_popular_blend(const mx_dataset *d, const mx_train_options *o, mx_model *m,
                            mx_error *err) {
  const mx_csr *R = &d->by_user;
  uint32_t k = m->factors, nu = m->n_users, ni = m->n_items;
  int64_t now = resolve_now(d, o->now_seconds, o->now_set);
  int64_t from = now - (int64_t)llround(o->recent_popular_days * 86400.0);
  double *pop = calloc(ni ? ni : 1, sizeof *pop);
  float *U = mx_alloc_aligned((size_t)nu * (k + 1) * sizeof(float), 1);
  float *V = mx_alloc_aligned((size_t)ni * (k + 1) * sizeof(float), 1);
  if (!pop || !U || !V) {
    free(pop);
    mx_free_aligned(U);
    mx_free_aligned(V);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  double top = 0;
  for (uint64_t q = 0; q < R->nnz; q++)
    if (R->times[q] > from && R->times[q] <= now) pop[R->indices[q]] += 1;
  for (uint32_t i = 0; i < ni; i++) top = pop[i] > top ? pop[i] : top;
  if (top == 0) {
    free(pop);
    mx_free_aligned(U);
    mx_free_aligned(V);
    char when[40];
    return mx_error_set(err, MX_EINVAL,
                        "--recent-popular %g: no interaction in the %g days before %s",
                        o->recent_popular_days, o->recent_popular_days,
                        mx_format_time(now, 0, when, sizeof when));
  }
  /* Scales: the mean score of a training pair minus that of a random
   * (user, item) pair, for the model and for the popularity term, drawn
   * with a fixed seed; the popularity term is multiplied by their ratio so
   * both separate bought from random items by the same amount on average. */
  double pos = 0, neg = 0, ppos = 0, pneg = 0;
  mx_rng g;
  mx__rng_seed(&g, o->seed ^ 0x7ecea7ULL);
  for (uint32_t u = 0; u < nu; u++)
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) {
      uint32_t j = mx__rng_below(&g, ni);
      pos += score(m, u, R->indices[q]);
      neg += score(m, u, j);
      ppos += pop[R->indices[q]] / top;
      pneg += pop[j] / top;
    }
  double gap = (pos - neg) / (double)R->nnz, pgap = (ppos - pneg) / (double)R->nnz;
  double scale = gap > 0 && pgap > 0 && isfinite(gap / pgap) ? gap / pgap : 1;
  double h = o->recent_popular_users;
  for (uint32_t u = 0; u < nu; u++) {
    /* (1 - beta) x_u: the user's own ranking by the model is unchanged,
     * only its share of the mix */
    double n_u = (double)(R->indptr[u + 1] - R->indptr[u]);
    double beta = h > 0 ? h / (h + n_u) : 0;
    const float *x = m->user_factors + (size_t)u * k;
    float *y = U + (size_t)u * (k + 1);
    for (uint32_t f = 0; f < k; f++) y[f] = (float)((1 - beta) * x[f]);
    y[k] = (float)(beta * scale);
  }
  for (uint32_t i = 0; i < ni; i++) {
    memcpy(V + (size_t)i * (k + 1), m->item_factors + (size_t)i * k, k * sizeof(float));
    V[(size_t)i * (k + 1) + k] = (float)(pop[i] / top);
  }
  free(pop);
  mx_free_aligned(m->user_factors);
  mx_free_aligned(m->item_factors);
  m->user_factors = U;
  m->item_factors = V;
  m->factors = k + 1;
  return MX_OK;
}
