/* Special functions shared by the core's statistics (inventory loss
 * functions, campaign measurement): regularised incomplete gamma and beta.
 * Internal to libmerx (mx__ prefix); the distributions built on them are
 * public in merx/measure.h (Student t, chi-square). */
#ifndef MERX_CORE_SPECIAL_H
#define MERX_CORE_SPECIAL_H

/* Regularised incomplete gamma P(a, x) = gamma(a, x) / Gamma(a) and its
 * complement Q = 1 - P, each computed directly (no 1 - P cancellation in the
 * tail). a > 0, x >= 0. */
double mx__gamma_p(double a, double x);
double mx__gamma_q(double a, double x);

/* log B(a, b), accurate also when a or b is large (Stirling differences
 * instead of lgamma(a) + lgamma(b) - lgamma(a + b), which loses digits). */
double mx__log_beta(double a, double b);

/* Regularised incomplete beta I_x(a, b). y must be 1 - x, passed separately
 * so a caller that knows 1 - x exactly (a t tail) keeps its digits. */
double mx__beta_inc(double a, double b, double x, double y);

#endif
