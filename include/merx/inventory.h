/* merx — inventory policies: demand distributions, loss functions, EOQ family,
 * newsvendor / base-stock, (r,Q), (s,S), service-level tools, simulation and
 * replenishment plans.
 *
 * Notation and conventions follow Snyder & Shen, *Fundamentals of Supply Chain
 * Theory* (2nd ed., Wiley 2019), "S&S" below:
 *   K       fixed cost per order
 *   h       holding cost per unit per period (must be > 0)
 *   p       stockout (backorder) cost per unit per period (must be > 0)
 *   lambda  demand rate per period (continuous-review models)
 *   mu, sigma  mean and standard deviation of demand per period
 *   L       lead time in periods
 * Periodic-review policies (base-stock, (s,S), order-up-to with review period
 * R = 1) protect against the demand of L + 1 periods; the (s,S) policy orders
 * when the inventory position is <= s. Continuous-review (r,Q) protects L.
 *
 * Every function validates its parameters: h <= 0, p <= 0, a service level
 * outside (0,1), a negative lead time, NaN, ... return MX_EINVAL with a message
 * naming the parameter. Nothing here allocates except the distributions
 * (mx_dist owns its arrays; release with mx_dist_free) and mx_plan_rows. */
#ifndef MERX_INVENTORY_H
#define MERX_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- loss functions
 * For a random variable X (S&S Appendix C):
 *   n(x)     = E[(X - x)+]                          first-order loss
 *   nbar(x)  = E[(x - X)+]  = x - E[X] + n(x)       complementary loss
 *   n2(x)    = 1/2 E[((X - x)+)^2]                   continuous X (C.17)
 *   n2(x)    = 1/2 E[(X - x)+ (X - x - 1)+]          discrete X, so that
 *                                                    n2(x) = sum_{y>x} n(y)
 * The standard normal versions are written script-L in S&S (C.22, C.27). */
MX_API double mx_std_normal_pdf(double z);
MX_API double mx_std_normal_cdf(double z);
/* z with Phi(z) = q, 0 < q < 1 (relative error ~1e-15). NaN outside (0,1). */
MX_API double mx_std_normal_quantile(double q);
MX_API double mx_std_normal_loss(double z);  /* L(z) = phi(z) - z (1 - Phi(z)) */
MX_API double mx_std_normal_loss2(double z); /* L2(z) = 1/2 [(z^2+1)(1-Phi(z)) - z phi(z)] */
/* Normal N(mu, sigma^2): n(x) = sigma L((x-mu)/sigma), n2(x) = sigma^2 L2(.). */
MX_API double mx_normal_loss(double x, double mu, double sigma);
MX_API double mx_normal_loss2(double x, double mu, double sigma);
/* Poisson(mean), any real x (discrete definitions above). */
MX_API double mx_poisson_pmf(double k, double mean);
MX_API double mx_poisson_cdf(double x, double mean);
MX_API double mx_poisson_loss(double x, double mean);
MX_API double mx_poisson_loss2(double x, double mean);

/* ------------------------------------------------------------ distributions */

typedef enum mx_dist_kind {
  MX_DIST_NORMAL = 1,    /* a = mu, b = sigma (sigma >= 0; 0 is a point mass) */
  MX_DIST_POISSON = 2,   /* a = mean */
  MX_DIST_LOGNORMAL = 3, /* a = mu, b = sigma of log X */
  MX_DIST_DISCRETE = 4,  /* finite support x[] with probabilities p[] */
  MX_DIST_EMPIRICAL = 5, /* samples, each with weight 1/n (stored as discrete) */
  MX_DIST_NEGBIN = 6     /* negative binomial, a = mean, b = sd (sd^2 > mean), stored as
                            discrete up to a tail of 1e-12 */
} mx_dist_kind;

/* A demand distribution. Value type: copy only with mx_dist_copy. For the
 * discrete kinds the arrays are owned (mx_dist_free releases them). */
typedef struct mx_dist {
  mx_dist_kind kind;
  double a, b;
  size_t n;     /* support size (discrete kinds) */
  double *x;    /* [n] support, strictly increasing */
  double *p;    /* [n] probabilities, sum 1 */
  double *cp;   /* [n] cumulative P(X <= x[i]) */
  double *tx;   /* [n+1] tail sums: tx[i] = sum_{j>=i} x[j] p[j] */
  double *txx;  /* [n+1] tail sums of x^2 p */
} mx_dist;

MX_API int mx_dist_normal(mx_dist *d, double mu, double sigma, mx_error *err);
MX_API int mx_dist_poisson(mx_dist *d, double mean, mx_error *err);
MX_API int mx_dist_lognormal(mx_dist *d, double mu, double sigma, mx_error *err);
/* x[n] values (any order, repeats add up) with weights p[n] >= 0 that are
 * normalised to sum 1 (a sum off by more than 1e-6 is refused unless
 * normalise is set). Arrays are copied. */
MX_API int mx_dist_discrete(mx_dist *d, const double *x, const double *p, size_t n, int normalise,
                            mx_error *err);
/* Negative binomial with the given mean and sd (variance > mean: the
 * over-dispersed counts of lumpy demand); pmf f(0) = q^r,
 * f(k) = f(k-1) (k-1+r)/k (1-q) with q = mean/var, r = mean^2/(var-mean). */
MX_API int mx_dist_negbin(mx_dist *d, double mean, double sd, mx_error *err);
/* Empirical distribution of n samples (copied). */
MX_API int mx_dist_empirical(mx_dist *d, const double *samples, size_t n, mx_error *err);
/* Deep copy. */
MX_API int mx_dist_copy(mx_dist *dst, const mx_dist *src, mx_error *err);
/* Release owned arrays (accepts a zeroed or NULL d). */
MX_API void mx_dist_free(mx_dist *d);

MX_API const char *mx_dist_kind_name(mx_dist_kind kind);
/* 1 for Poisson, negative binomial, discrete and empirical; 0 for normal and
 * lognormal. */
MX_API int mx_dist_is_discrete(const mx_dist *d);
/* 1 when discrete with non-negative integer support (what exact (s,S) and
 * discrete (r,Q) need). */
MX_API int mx_dist_is_integer(const mx_dist *d);
MX_API double mx_dist_mean(const mx_dist *d);
MX_API double mx_dist_sd(const mx_dist *d);
MX_API double mx_dist_pdf(const mx_dist *d, double x); /* pmf for discrete kinds */
MX_API double mx_dist_cdf(const mx_dist *d, double x);
/* Smallest x with F(x) >= q (discrete kinds), F^{-1}(q) otherwise; 0 < q < 1. */
MX_API double mx_dist_quantile(const mx_dist *d, double q);
MX_API double mx_dist_loss(const mx_dist *d, double x);      /* n(x) */
MX_API double mx_dist_loss_bar(const mx_dist *d, double x);  /* nbar(x) */
MX_API double mx_dist_loss2(const mx_dist *d, double x);     /* n2(x) */
/* One random draw (rng: an mx_rng from src/util/util.h, passed as void*). */
MX_API double mx_dist_sample(const mx_dist *d, void *rng);

/* Demand over `periods` independent periods, each distributed as d: normal
 * N(k mu, k sigma^2), Poisson(k mean), negative binomial with k times the
 * mean and the variance (a sum of iid NB(r, q) is NB(k r, q)), lognormal by moment matching
 * (Fenton-Wilkinson), discrete and empirical by k-fold convolution (k must be
 * a whole number; support must be integer when k > 1 so the result stays
 * finite: at most 2^20 support points). periods = 0 is a point mass at 0. */
MX_API int mx_dist_periods(const mx_dist *d, double periods, mx_dist *out, mx_error *err);

/* ---------------------------------------------------------- EOQ family (S&S ch. 3) */

typedef struct mx_eoq_result {
  double Q;     /* order quantity */
  double cost;  /* cost per period (purchase cost included for discounts) */
  double x;     /* EOQB: fraction of demand backordered, h/(h+p); else 0 */
  double T;     /* cycle length Q / lambda */
  int region;   /* quantity discounts: 0-based price region chosen; else -1 */
} mx_eoq_result;

/* Q* = sqrt(2 K lambda / h), g* = sqrt(2 K lambda h)  (S&S eq. 3.4, 3.5). */
MX_API int mx_eoq(double K, double h, double lambda, mx_eoq_result *out, mx_error *err);
/* Cost of a given Q: K lambda / Q + h Q / 2. */
MX_API int mx_eoq_cost(double K, double h, double lambda, double Q, double *cost, mx_error *err);
/* Planned backorders (S&S eq. 3.27-3.29): Q* = sqrt(2 K lambda (h+p) / (h p)),
 * x* = h / (h+p), g* = sqrt(2 K lambda h p / (h+p)). */
MX_API int mx_eoq_backorders(double K, double h, double p, double lambda, mx_eoq_result *out,
                             mx_error *err);
/* Finite production rate mu > lambda (S&S eq. 3.31-3.32), rho = lambda/mu:
 * Q* = sqrt(2 K lambda / (h (1 - rho))), g* = sqrt(2 K lambda h (1 - rho)). */
MX_API int mx_epq(double K, double h, double lambda, double mu, mx_eoq_result *out,
                  mx_error *err);

enum { MX_DISCOUNT_ALL_UNITS = 0, MX_DISCOUNT_INCREMENTAL = 1 };
/* Quantity discounts (S&S section 3.6): price c[j] applies from breakpoint
 * b[j] (b[0] = 0 < b[1] < ... ), holding cost per unit per period is i * c
 * (i = holding rate). All-units: every unit costs c[j] when Q is in region j.
 * Incremental: units in region j cost c[j]. Cost per period includes the
 * purchase cost c lambda. */
MX_API int mx_eoq_discount(int kind, double K, double i, double lambda, const double *b,
                           const double *c, size_t n, mx_eoq_result *out, mx_error *err);

/* ------------------------------------------------- newsvendor / base-stock (ch. 4) */

typedef struct mx_base_stock_result {
  double S;       /* base-stock (order-up-to) level */
  double cost;    /* expected cost per period g(S) = h nbar(S) + p n(S) */
  double alpha;   /* critical ratio p / (h + p) */
  double mean, sd; /* of the protected demand (L + 1 periods) */
} mx_base_stock_result;

/* Single period: S* = F^{-1}(p/(h+p)) (S&S eq. 4.27; the smallest S with
 * F(S) >= alpha for discrete demand), g(S) = h nbar(S) + p n(S) (eq. 4.24). */
MX_API int mx_newsvendor(double h, double p, const mx_dist *demand, mx_base_stock_result *out,
                         mx_error *err);
/* Cost of a given S. */
MX_API int mx_newsvendor_cost(double h, double p, const mx_dist *demand, double S, double *cost,
                              mx_error *err);
/* Periodic review base-stock with lead time L (whole periods): the newsvendor
 * on the demand of L + 1 periods (S&S section 4.3). */
MX_API int mx_base_stock(double h, double p, const mx_dist *per_period, double L,
                         mx_base_stock_result *out, mx_error *err);

/* ------------------------------------------------------------------- (r,Q) (ch. 5)
 * Continuous review, demand rate lambda per period with standard deviation tau
 * per period, lead time L: lead-time demand mean lambda L, sd tau sqrt(L)
 * (normal), or Poisson(lambda L) when tau < 0 (Poisson demand). */

enum {
  MX_RQ_EXACT = 0, /* minimise the exact cost (S&S eq. 5.7; Federgruen-Zheng 1992 for Poisson) */
  MX_RQ_EOQSS = 1, /* Q = EOQ, r = newsvendor on lead-time demand (S&S section 5.4.4) */
  MX_RQ_EOQB = 2,  /* Q = EOQ with backorders, r = r(Q) (S&S section 5.4.3, Zheng 1992) */
  MX_RQ_LOSS = 3,  /* loss-function approximation (S&S eq. 5.28-5.29, Hadley-Whitin 1963) */
  MX_RQ_EIL = 4    /* expected-inventory-level approximation (S&S eq. 5.16-5.18) */
};

typedef struct mx_inv_rq_result {
  double r, Q;
  double cost;       /* exact expected cost per period of (r, Q) */
  double fill_rate;  /* type-2: 1 - (n(r) - n(r+Q)) / Q (also the fraction of
                        time in stock, the two coincide for continuous review) */
  int iterations;
} mx_inv_rq_result;

MX_API int mx_inv_rq_method_parse(const char *name, int *method, mx_error *err);
MX_API int mx_inv_rq(int method, double K, double h, double p, double lambda, double tau, double L,
                 mx_inv_rq_result *out, mx_error *err);
/* Exact cost g(r,Q) = (K lambda + integral_r^{r+Q} g(y) dy) / Q, g(y) the
 * newsvendor cost on lead-time demand (sum over y = r+1..r+Q for Poisson). */
MX_API int mx_inv_rq_cost(double K, double h, double p, double lambda, double tau, double L, double r,
                      double Q, double *cost, mx_error *err);
/* The r minimising g(r,Q) for a fixed Q (g(r) = g(r+Q), S&S eq. 5.9). */
MX_API int mx_inv_rq_r_for_q(double h, double p, double lambda, double tau, double L, double Q,
                         double *r, mx_error *err);

/* ------------------------------------------------------------------- (s,S) (ch. 4.6) */

enum { MX_SS_EXACT = 0, MX_SS_POWER = 1 };

typedef struct mx_inv_ss_result {
  double s, S;
  double cost;  /* exact cost per period (exact method; NaN for power) */
} mx_inv_ss_result;

/* Periodic review (s,S), lead time L whole periods, order when IP <= s.
 * Exact: Zheng & Federgruen (1991) on a discrete, integer, non-negative
 * per-period demand (S&S Algorithm 4.2). Power approximation: Ehrhardt &
 * Mosier (1984), S&S eq. 4.77-4.80, on the mean and sd of any demand with
 * lead-time demand over L + 1 periods. */
MX_API int mx_inv_ss(int method, double K, double h, double p, const mx_dist *per_period, double L,
                 mx_inv_ss_result *out, mx_error *err);
/* Exact cost of (s,S) for discrete integer demand (S&S eq. 4.71-4.75). */
MX_API int mx_inv_ss_cost(double K, double h, double p, const mx_dist *per_period, double L, double s,
                      double S, double *cost, mx_error *err);

/* -------------------------------------------------------- service levels */

typedef struct mx_safety_stock_result {
  double z;             /* safety factor */
  double mean;          /* demand over the protection interval */
  double sd;            /* its sd, with lead-time variance */
  double safety_stock;  /* z * sd */
  double level;         /* reorder point (R = 0) or order-up-to level (R > 0): mean + ss */
} mx_safety_stock_result;

/* Type-1 (cycle) service: protection interval P = L + R periods (R = 0 for
 * continuous review; 1 for periodic review every period). With lead-time
 * variance sigma_L^2 (lead time uncertain, independent of demand):
 *   sd = sqrt(P sigma^2 + mu^2 sigma_L^2)   (variance of a random sum of
 *   periods; Silver, Pyke & Peterson 1998, ch. 7). z = Phi^{-1}(service). */
MX_API int mx_safety_stock(double service, double mu, double sigma, double L, double sigma_L,
                           double R, mx_safety_stock_result *out, mx_error *err);

/* Type-2 fill rate of (r,Q) with lead-time demand D_L: 1 - (n(r) - n(r+Q)) / Q
 * (S&S section 5.3; exact for continuous review with backorders). */
MX_API int mx_fill_rate_rq(const mx_dist *lead_time_demand, double r, double Q, double *beta,
                           mx_error *err);
/* Type-2 fill rate of periodic review (R,S), lead time L: expected shortage per
 * review cycle n_{L+R}(S) - n_L(S) over mean cycle demand R mu
 * (the loss-function form of Silver, Pyke & Peterson 1998, ch. 7). */
MX_API int mx_fill_rate_rs(const mx_dist *per_period, double R, double L, double S, double *beta,
                           mx_error *err);
/* The smallest r (searching real r; integer r for discrete demand) whose
 * (r,Q) fill rate reaches beta. */
MX_API int mx_reorder_point_fill(const mx_dist *lead_time_demand, double Q, double beta,
                                 double *r, mx_error *err);

enum { MX_SERVICE_CYCLE = 1, MX_SERVICE_FILL = 2 };
/* Order-up-to level of periodic review (R,S) with lead time L: type-1
 * (cycle service) quantile of demand over L + R periods, or type-2 (fill
 * rate) smallest S with mx_fill_rate_rs >= target. */
MX_API int mx_order_up_to(int service_type, double target, const mx_dist *per_period, double R,
                          double L, double *S, mx_error *err);

/* -------------------------------------------------------------- simulation */

enum { MX_POLICY_BASE_STOCK = 1, MX_POLICY_SS = 2, MX_POLICY_RQ = 3 };

typedef struct mx_inv_sim_options {
  int policy;        /* MX_POLICY_* */
  double S;          /* base-stock / order-up-to level; (s,S): S */
  double s;          /* (s,S): reorder when IP <= s */
  double r, Q;       /* (r,Q): while IP <= r, order Q */
  const double *levels; /* optional per-period order-up-to levels [n] (base-stock), overrides S */
  int L;             /* lead time, whole periods (>= 0) */
  int R;             /* review period (>= 1; default 1) */
  double initial;    /* starting on-hand; NaN: the policy's level (S, or r + Q) */
  int lost_sales;    /* 1: unmet demand is lost; 0: backordered (default) */
  double K, h, p;    /* costs for the total (may be 0) */
  int warmup;        /* periods excluded from the statistics */
} mx_inv_sim_options;

MX_API mx_inv_sim_options mx_inv_sim_defaults(void);

typedef struct mx_inv_sim_result {
  size_t periods;          /* periods counted (after warm-up, summed over paths) */
  double demand;           /* total demand */
  double filled;           /* demand met from stock on hand at once */
  double fill_rate;        /* filled / demand (1 when demand is 0) */
  double cycle_service;    /* fraction of review cycles with no stockout */
  double avg_on_hand;      /* mean ending on-hand per period */
  double avg_backorders;   /* mean ending backorders per period */
  size_t stockout_periods; /* periods with unmet demand */
  double lost;             /* units not met at once (lost, or backordered) */
  size_t orders;           /* orders placed */
  double ordered;          /* units ordered */
  double turnover;         /* units shipped per path / average on-hand (NaN if no
                              stock): inventory turnover over the simulated periods */
  double total_cost;       /* K orders + h sum on-hand + p sum backorders (or p per
                              unit lost), summed over periods, averaged over paths */
  double shipped;          /* units delivered: filled at once + backorders filled later */
} mx_inv_sim_result;

/* Simulate npaths demand paths (demand[k * n .. k * n + n) for path k), each
 * of n periods. Sequence within a period (S&S periodic review): receive what
 * was ordered L periods ago, review and order (every R periods), demand,
 * then costs on ending on-hand and backorders. An order placed with L = 0
 * arrives before that period's demand. Negative demand is refused. */
MX_API int mx_inv_simulate(const mx_inv_sim_options *opt, const double *demand, size_t n, size_t npaths,
                       mx_inv_sim_result *out, mx_error *err);

/* ------------------------------------------------------ replenishment plan */

/* Bounds of a plan item: on_hand, on_order, moq and pack_size in units,
 * lead_time and review in periods. */
#define MX_PLAN_MAX_UNITS 1e12
#define MX_PLAN_MAX_PERIODS 10000

typedef struct mx_plan_item {
  double on_hand;     /* may be negative (backorders) */
  double on_order;    /* outstanding, >= 0 */
  double lead_time;   /* periods (whole periods for discrete demand), >= 0 */
  double review;      /* review period R >= 1 (protection L + R) */
  double moq;         /* minimum order quantity (0: none) */
  double pack_size;   /* orders are multiples of this (0 or 1: units) */
  int service_type;   /* MX_SERVICE_CYCLE or MX_SERVICE_FILL; 0 with h,p: newsvendor ratio */
  double service;     /* target in (0,1) when service_type != 0 */
  double h, p;        /* with service_type 0: critical ratio p/(h+p) */
  const double *mean;  /* [horizon] forecast per period from the next one on */
  const double *sigma; /* [horizon] sd of each period's forecast error, or NULL */
  const double *cum_sigma; /* [horizon] sd of the error of the sum of the first k+1 periods, or NULL */
  size_t horizon;
  int dist;           /* lead-time demand: MX_DIST_NORMAL, MX_DIST_POISSON, or
                         MX_DIST_NEGBIN (Poisson when the variance is <= the mean) */
} mx_plan_item;

typedef struct mx_plan_row {
  double position;     /* inventory position on_hand + on_order */
  double ltd_mean, ltd_sd; /* demand over the protection interval L + R */
  double target;       /* order-up-to level S */
  double safety_stock; /* target - ltd_mean */
  double raw;          /* S - position, >= 0 */
  double order;        /* after MOQ and pack rounding */
  int horizon_short;   /* 1 when the forecast covered fewer than L + R periods
                          (the last period's forecast was repeated) */
} mx_plan_row;

/* Order-up-to replenishment for one item: lead-time demand over the
 * protection interval from the forecast (sum of means; sd from cum_sigma, else
 * sqrt of summed sigma^2, else Poisson when dist is Poisson or no sd is
 * known), S from the service target, order max(0, S - position) raised to
 * the MOQ and rounded up to whole packs. */
MX_API int mx_plan_item_compute(const mx_plan_item *it, mx_plan_row *out, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
