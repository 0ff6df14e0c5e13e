/* Beta–Bernoulli Thompson sampling (merx/bandit.h): the Gamma and Beta
 * samplers, the conjugate update with forgetting, and the choice. */
#include "merx/bandit.h"

#include <math.h>

#include "util/util.h"

double mx_gamma_draw(void *rngp, double shape) {
  mx_rng *rng = rngp;
  if (!(shape > 0) || !isfinite(shape)) return NAN;
  if (shape < 1) {
    /* Marsaglia & Tsang §6: G(a) = G(a + 1) U^(1/a) */
    double u = mx__rng_uniform(rng);
    return mx_gamma_draw(rng, shape + 1.0) * pow(u, 1.0 / shape);
  }
  /* Marsaglia & Tsang 2000, the algorithm of §3 with the squeeze
   * 1 - 0.0331 x^4 that accepts ~98% of candidates without a log. */
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = mx__rng_normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = mx__rng_uniform(rng), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
  }
}

double mx_beta_draw(void *rng, double a, double b) {
  double x = mx_gamma_draw(rng, a), y = mx_gamma_draw(rng, b);
  /* both may underflow to 0 for tiny shapes: the mean is the honest answer */
  if (!(x + y > 0)) return a / (a + b);
  return x / (x + y);
}

static int positive(double v) { return v > 0 && isfinite(v); }

int mx_bandit_check(const mx_bandit *b, mx_error *err) {
  if (b->n_offers == 0) return mx_error_set(err, MX_EINVAL, "bandit: no offers");
  if (b->n_segments == 0) return mx_error_set(err, MX_EINVAL, "bandit: no segments");
  if (!positive(b->prior_alpha) || !positive(b->prior_beta))
    return mx_error_set(err, MX_EINVAL, "bandit: the prior (%g, %g) must be two numbers > 0",
                        b->prior_alpha, b->prior_beta);
  if (!(b->discount > 0 && b->discount <= 1))
    return mx_error_set(err, MX_EINVAL, "bandit: discount %g must be in (0, 1]", b->discount);
  size_t n = (size_t)b->n_offers * b->n_segments;
  for (size_t i = 0; i < n; i++)
    if (!positive(b->alpha[i]) || !positive(b->beta[i]))
      return mx_error_set(err, MX_EINVAL,
                          "bandit: arm (segment %zu, offer %zu) has posterior (%g, %g); both "
                          "must be > 0",
                          i / b->n_offers, i % b->n_offers, b->alpha[i], b->beta[i]);
  for (uint32_t o = 0; b->value && o < b->n_offers; o++)
    if (!positive(b->value[o]))
      return mx_error_set(err, MX_EINVAL, "bandit: value of offer %u is %g; it must be > 0", o,
                          b->value[o]);
  return MX_OK;
}

void mx_bandit_reset(mx_bandit *b) {
  size_t n = (size_t)b->n_offers * b->n_segments;
  for (size_t i = 0; i < n; i++) {
    b->alpha[i] = b->prior_alpha;
    b->beta[i] = b->prior_beta;
  }
}

int mx_bandit_update(mx_bandit *b, const double *successes, const double *failures,
                     mx_error *err) {
  size_t n = (size_t)b->n_offers * b->n_segments;
  for (size_t i = 0; i < n; i++)
    if (!(successes[i] >= 0 && isfinite(successes[i])) ||
        !(failures[i] >= 0 && isfinite(failures[i])))
      return mx_error_set(err, MX_EINVAL,
                          "bandit update: arm (segment %zu, offer %zu) has counts (%g, %g); "
                          "they must be >= 0",
                          i / b->n_offers, i % b->n_offers, successes[i], failures[i]);
  double d = b->discount;
  for (size_t i = 0; i < n; i++) {
    /* Russo et al. 2018 §6.3 with gamma = 1 - d; d = 1 leaves the sums exact */
    if (d < 1) {
      b->alpha[i] = b->prior_alpha + d * (b->alpha[i] - b->prior_alpha);
      b->beta[i] = b->prior_beta + d * (b->beta[i] - b->prior_beta);
    }
    b->alpha[i] += successes[i];
    b->beta[i] += failures[i];
  }
  return MX_OK;
}

uint32_t mx_bandit_choose(const mx_bandit *b, uint32_t segment, uint64_t seed, double *draw) {
  mx_rng rng;
  mx__rng_seed(&rng, seed);
  const double *a = b->alpha + (size_t)segment * b->n_offers;
  const double *bb = b->beta + (size_t)segment * b->n_offers;
  uint32_t best = 0;
  double best_v = -1;
  for (uint32_t o = 0; o < b->n_offers; o++) {
    double v = mx_beta_draw(&rng, a[o], bb[o]) * (b->value ? b->value[o] : 1.0);
    if (v > best_v) {
      best_v = v;
      best = o;
    }
  }
  if (draw) *draw = best_v;
  return best;
}

int mx_bandit_choose_batch(const mx_bandit *b, size_t n, const uint32_t *segments,
                           const uint64_t *seeds, uint32_t *offers, double *draws,
                           mx_error *err) {
  for (size_t i = 0; i < n; i++)
    if (segments[i] >= b->n_segments)
      return mx_error_set(err, MX_EINVAL, "bandit: user %zu has segment index %u of %u", i,
                          segments[i], b->n_segments);
  for (size_t i = 0; i < n; i++)
    offers[i] = mx_bandit_choose(b, segments[i], seeds[i], draws ? &draws[i] : NULL);
  return MX_OK;
}
