/* Continuous-review (r,Q) policies (Snyder & Shen, ch. 5): when the inventory
 * position falls to r, order Q; orders arrive after L periods; unmet demand
 * is backordered. Lead-time demand D_L has mean mu = lambda L and sd
 * sigma = tau sqrt(L) (normal), or is Poisson(lambda L) (tau < 0).
 *
 * Exact cost (S&S eq. 5.7): with g(y) = h nbar(y) + p n(y) = h (y - mu) +
 * (h + p) n(y) the newsvendor cost on D_L, and the inventory position
 * uniform on [r, r+Q],
 *   g(r,Q) = (K lambda + integral_r^{r+Q} g(y) dy) / Q,
 * and since n2' = -n the integral is closed-form:
 *   h ((r+Q-mu)^2 - (r-mu)^2) / 2 + (h+p) (n2(r) - n2(r+Q)).
 * For Poisson demand the position is uniform on {r+1..r+Q} (eq. 5.48) and
 * sum_{y=r+1}^{r+Q} n(y) = n2(r) - n2(r+Q) with the discrete n2.
 *
 * The optimal r for a fixed Q solves g(r) = g(r+Q) (eq. 5.9); min_r g(r,Q)
 * is convex in Q (Zheng 1992), so the exact optimum is a golden-section
 * search over Q around the bisection for r. Poisson demand uses the
 * Federgruen & Zheng (1992) algorithm. */
#include <string.h>

#include "core/inventory/internal.h"

typedef struct {
  double K, h, p, lambda;
  int poisson;
  mx_dist ltd; /* lead-time demand (no owned arrays: normal or Poisson) */
} rq_problem;

static int rq_setup(rq_problem *pb, double K, double h, double p, double lambda, double tau,
                    double L, int need_k, mx_error *err) {
  int rc;
  memset(pb, 0, sizeof *pb);
  if ((need_k ? (rc = mx__inv_check_positive(K, "K (fixed order cost)", err))
              : (rc = mx__inv_check_nonneg(K, "K (fixed order cost)", err))) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_positive(lambda, "lambda (demand rate)", err)) ||
      (rc = mx__inv_check_nonneg(L, "L (lead time)", err)))
    return rc;
  if (isnan(tau)) return mx_error_set(err, MX_EINVAL, "tau (demand sd) must be a number");
  pb->K = K;
  pb->h = h;
  pb->p = p;
  pb->lambda = lambda;
  pb->poisson = tau < 0;
  if (pb->poisson) return mx_dist_poisson(&pb->ltd, lambda * L, err);
  if (!isfinite(tau)) return mx_error_set(err, MX_EINVAL, "tau (demand sd) must be finite");
  return mx_dist_normal(&pb->ltd, lambda * L, tau * sqrt(L), err);
}

static double g1(const rq_problem *pb, double y) {
  return mx_inv_newsvendor_g(pb->h, pb->p, &pb->ltd, y);
}

static double rq_cost_of(const rq_problem *pb, double r, double Q) {
  double mu = mx_dist_mean(&pb->ltd), hp = pb->h + pb->p, integral;
  if (pb->poisson) {
    integral = pb->h * Q * (r + (Q + 1.0) / 2.0 - mu) +
               hp * (mx_dist_loss2(&pb->ltd, r) - mx_dist_loss2(&pb->ltd, r + Q));
  } else {
    double a = r - mu, b = r + Q - mu;
    integral = pb->h * (b * b - a * a) / 2.0 +
               hp * (mx_dist_loss2(&pb->ltd, r) - mx_dist_loss2(&pb->ltd, r + Q));
  }
  return (pb->K * pb->lambda + integral) / Q;
}

static double fill_rate_of(const rq_problem *pb, double r, double Q) {
  double v = 1.0 - (mx_dist_loss(&pb->ltd, r) - mx_dist_loss(&pb->ltd, r + Q)) / Q;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* g(r) = g(r+Q): f(r) = g(r+Q) - g(r) increases in r (g convex); the root
 * lies in [S* - Q, S*] where S* minimises g. */
static double r_for_q(const rq_problem *pb, double Q) {
  double alpha = pb->p / (pb->h + pb->p);
  double S = mx_dist_quantile(&pb->ltd, alpha);
  if (pb->poisson) {
    /* Integer window {r+1..r+Q}: start with S* as its top point and slide up
     * while the point gained is cheaper than the point dropped. */
    double r = S - Q;
    while (g1(pb, r + Q + 1) < g1(pb, r + 1)) r += 1;
    return r;
  }
  double lo = S - Q, hi = S;
  for (int it = 0; it < 200 && hi - lo > 1e-11 * (1.0 + fabs(hi)); it++) {
    double mid = 0.5 * (lo + hi);
    if (g1(pb, mid + Q) - g1(pb, mid) < 0)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

static double cost_at_q(const rq_problem *pb, double Q, double *r) {
  *r = r_for_q(pb, Q);
  return rq_cost_of(pb, *r, Q);
}

static void exact_normal(const rq_problem *pb, mx_inv_rq_result *out) {
  double sd = mx_dist_sd(&pb->ltd);
  double hp = pb->h + pb->p;
  /* Q* lies below the loss-function approximation's Q at a very low r
   * (n2(mu - 5 sd) <= 13 sd^2), doubled for margin. */
  double hi = 2.0 * sqrt(2.0 * (pb->K * pb->lambda + hp * 13.0 * sd * sd) / pb->h) + 1.0;
  double lo = 0.0;
  const double gr = 0.61803398874989484820;
  double a = hi - gr * (hi - lo), b = lo + gr * (hi - lo), ra, rb;
  double fa = cost_at_q(pb, a, &ra), fb = cost_at_q(pb, b, &rb);
  int it = 0;
  for (; it < 300 && hi - lo > 1e-10 * (1.0 + hi); it++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - gr * (hi - lo);
      fa = cost_at_q(pb, a, &ra);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + gr * (hi - lo);
      fb = cost_at_q(pb, b, &rb);
    }
  }
  double Q = 0.5 * (lo + hi), r;
  out->cost = cost_at_q(pb, Q, &r);
  out->Q = Q;
  out->r = r;
  out->iterations = it;
}

/* Federgruen & Zheng (1992): start from Q = 1 with the single best point
 * {S*}, and grow the set {r+1..r+Q} by whichever neighbour (r or r+Q+1)
 * has the smaller newsvendor cost, while the average cost decreases. */
static void exact_poisson(const rq_problem *pb, mx_inv_rq_result *out) {
  double alpha = pb->p / (pb->h + pb->p);
  double S = mx_dist_quantile(&pb->ltd, alpha);
  double Q = 1, r = S - 1;
  double g = rq_cost_of(pb, r, Q);
  int it = 0;
  for (; it < 10000000; it++) {
    double rn = g1(pb, r) < g1(pb, r + Q + 1) ? r - 1 : r;
    double gn = rq_cost_of(pb, rn, Q + 1);
    if (gn > g) break;
    r = rn;
    Q += 1;
    g = gn;
  }
  out->r = r;
  out->Q = Q;
  out->cost = g;
  out->iterations = it;
}

int mx_inv_rq_method_parse(const char *name, int *method, mx_error *err) {
  static const char *names[] = {"exact", "eoqss", "eoqb", "loss", "eil"};
  for (int i = 0; i < 5; i++)
    if (name && strcmp(name, names[i]) == 0) {
      *method = i;
      return MX_OK;
    }
  return mx_error_set(err, MX_ENOTFOUND,
                      "unknown (r,Q) method '%s' (known: exact, eoqss, eoqb, loss, eil)",
                      name ? name : "");
}

/* Solve n(r) = target for r (n decreases in r). */
static double solve_loss(const mx_dist *d, double target) {
  double mu = mx_dist_mean(d), sd = mx_dist_sd(d) + 1.0;
  double lo = mu - 10.0 * sd, hi = mu + 10.0 * sd;
  while (mx_dist_loss(d, lo) < target) lo -= 10.0 * sd;
  while (mx_dist_loss(d, hi) > target) hi += 10.0 * sd;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * (1.0 + fabs(hi)); it++) {
    double mid = 0.5 * (lo + hi);
    if (mx_dist_loss(d, mid) > target)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

int mx_inv_rq(int method, double K, double h, double p, double lambda, double tau, double L,
          mx_inv_rq_result *out, mx_error *err) {
  rq_problem pb;
  int rc;
  memset(out, 0, sizeof *out);
  if (method < MX_RQ_EXACT || method > MX_RQ_EIL)
    return mx_error_set(err, MX_EINVAL, "unknown (r,Q) method %d", method);
  if ((rc = rq_setup(&pb, K, h, p, lambda, tau, L, 1, err))) return rc;
  double eoq = sqrt(2.0 * K * lambda / h);
  double r = 0, Q = 0;
  switch (method) {
  case MX_RQ_EXACT:
    if (pb.poisson)
      exact_poisson(&pb, out);
    else
      exact_normal(&pb, out);
    out->fill_rate = fill_rate_of(&pb, out->r, out->Q);
    return MX_OK;
  case MX_RQ_EOQSS: /* Q = EOQ; r = the newsvendor level on D_L (S&S eq. 5.21) */
    Q = eoq;
    r = mx_dist_quantile(&pb.ltd, p / (h + p));
    break;
  case MX_RQ_EOQB:
    Q = sqrt(2.0 * K * lambda * (h + p) / (h * p));
    if (pb.poisson) Q = fmax(1.0, round(Q));
    r = r_for_q(&pb, Q);
    break;
  case MX_RQ_LOSS: /* n(r) = h Q / (h+p); Q = sqrt(2 (K lambda + (h+p) n2(r)) / h) */
  case MX_RQ_EIL: { /* r = F^-1(1 - Q h / (p lambda)); Q = sqrt(2 lambda (K + p n(r)) / h) */
    Q = eoq;
    double rp = INFINITY, Qp = INFINITY;
    int it = 0;
    for (; it < 10000 && (fabs(r - rp) > 1e-9 * (1 + fabs(r)) || fabs(Q - Qp) > 1e-9 * (1 + Q));
         it++) {
      rp = r;
      Qp = Q;
      if (method == MX_RQ_LOSS) {
        r = solve_loss(&pb.ltd, h * Q / (h + p));
        Q = sqrt(2.0 * (K * lambda + (h + p) * mx_dist_loss2(&pb.ltd, r)) / h);
      } else {
        double q = 1.0 - Q * h / (p * lambda);
        if (!(q > 0))
          return mx_error_set(err, MX_EINFEASIBLE,
                              "EIL approximation undefined: Q h >= p lambda (Q = %g); "
                              "use method exact or loss",
                              Q);
        r = mx_dist_quantile(&pb.ltd, q);
        Q = sqrt(2.0 * lambda * (K + p * mx_dist_loss(&pb.ltd, r)) / h);
      }
    }
    out->iterations = it;
    break;
  }
  }
  if (pb.poisson) {
    r = round(r);
    Q = fmax(1.0, round(Q));
  }
  out->r = r;
  out->Q = Q;
  out->cost = rq_cost_of(&pb, r, Q);
  out->fill_rate = fill_rate_of(&pb, r, Q);
  return MX_OK;
}

int mx_inv_rq_cost(double K, double h, double p, double lambda, double tau, double L, double r,
               double Q, double *cost, mx_error *err) {
  rq_problem pb;
  int rc;
  if ((rc = rq_setup(&pb, K, h, p, lambda, tau, L, 0, err))) return rc;
  if ((rc = mx__inv_check_positive(Q, "Q (order quantity)", err))) return rc;
  if (!isfinite(r)) return mx_error_set(err, MX_EINVAL, "r (reorder point) must be finite");
  if (pb.poisson && (r != floor(r) || Q != floor(Q)))
    return mx_error_set(err, MX_EINVAL, "Poisson demand: r and Q must be whole numbers");
  *cost = rq_cost_of(&pb, r, Q);
  return MX_OK;
}

int mx_inv_rq_r_for_q(double h, double p, double lambda, double tau, double L, double Q, double *r,
                  mx_error *err) {
  rq_problem pb;
  int rc;
  if ((rc = rq_setup(&pb, 0, h, p, lambda, tau, L, 0, err))) return rc;
  if ((rc = mx__inv_check_positive(Q, "Q (order quantity)", err))) return rc;
  if (pb.poisson && Q != floor(Q))
    return mx_error_set(err, MX_EINVAL, "Poisson demand: Q must be a whole number");
  *r = r_for_q(&pb, Q);
  return MX_OK;
}
