/* merx — adaptive offers: Beta–Bernoulli Thompson sampling per offer × segment.
 *
 * Each arm (segment s, offer o) keeps a Beta(alpha, beta) posterior of its
 * conversion probability p. Choosing for a user draws one p~ from every offer's
 * posterior in the user's segment and takes the offer with the largest
 * p~ × value[o] (value: the margin of a conversion; 1 when not weighted), so
 * an offer is chosen with the posterior probability that it is the best
 * (Thompson 1933; Russo, Van Roy et al., "A Tutorial on Thompson Sampling",
 * Found. Trends ML 11(1), 2018, alg. 2 "BernTS").
 *
 * Updates (conjugacy): s conversions and f non-conversions of an arm give
 * Beta(alpha + s, beta + f). With a discount d in (0, 1] every arm of the
 * bandit first forgets towards the prior once per update batch (one nightly
 * run of outcomes):
 *   alpha <- alpha0 + d (alpha - alpha0),  beta <- beta0 + d (beta - beta0)
 * — Russo et al. §6.3 (nonstationary systems) with their gamma = 1 - d; the
 * evidence of a batch k nights old weighs d^k, so 1/(1 - d) batches is the
 * memory. d = 1 is the stationary bandit.
 *
 * Draws are reproducible: each choice draws from its own stream seeded by a
 * 64-bit seed (merx derives it from the user id and the run's seed), so the
 * same user gets the same draw whatever the order, batch size or shard.
 * Nothing here allocates. */
#ifndef MERX_BANDIT_H
#define MERX_BANDIT_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The state of one bandit. The caller owns the arrays: alpha and beta hold
 * n_segments × n_offers posteriors, row-major by segment; value is NULL (every
 * conversion is worth 1) or n_offers margins > 0. */
typedef struct mx_bandit {
  uint32_t n_offers, n_segments;
  double prior_alpha, prior_beta; /* > 0 */
  double discount;                /* (0, 1]; 1 = no forgetting */
  double *alpha, *beta;
  const double *value;
} mx_bandit;

/* Check the parameters and the state (every posterior parameter finite and
 * > 0, values finite and > 0): MX_EINVAL naming what is wrong. */
MX_API int mx_bandit_check(const mx_bandit *b, mx_error *err);
/* Set every arm to the prior. */
MX_API void mx_bandit_reset(mx_bandit *b);

/* One update batch: discount every arm (see above), then add successes[i]
 * and failures[i] (n_segments × n_offers counts, >= 0) to arm i. */
MX_API int mx_bandit_update(mx_bandit *b, const double *successes, const double *failures,
                            mx_error *err);

/* Thompson choice for one user of segment (< n_segments) with the stream of
 * seed: returns the offer index; *draw (may be NULL) receives the winning
 * p~ × value. Ties go to the lower offer index. */
MX_API uint32_t mx_bandit_choose(const mx_bandit *b, uint32_t segment, uint64_t seed,
                                 double *draw);
/* The same for n users at once: offers[i], draws[i] (may be NULL) for
 * segments[i], seeds[i]. Equal to n calls of mx_bandit_choose. */
MX_API int mx_bandit_choose_batch(const mx_bandit *b, size_t n, const uint32_t *segments,
                                  const uint64_t *seeds, uint32_t *offers, double *draws,
                                  mx_error *err);

/* Random variates (rng: an mx_rng from src/util/util.h, passed as void*, as
 * mx_dist_sample takes it). Gamma(shape, 1) by Marsaglia & Tsang, "A simple
 * method for generating gamma variables", ACM TOMS 26(3), 2000, with shape < 1
 * boosted as in their §6: G(a) = G(a + 1) U^(1/a). Beta(a, b) = X / (X + Y)
 * with X ~ G(a), Y ~ G(b) independent. */
MX_API double mx_gamma_draw(void *rng, double shape);
MX_API double mx_beta_draw(void *rng, double a, double b);

#ifdef __cplusplus
}
#endif

#endif
