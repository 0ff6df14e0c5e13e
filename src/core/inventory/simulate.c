/* Periodic-review inventory simulation over given demand paths (a sales
 * history, a test horizon, or sample paths drawn from a forecast).
 *
 * Period sequence (Snyder & Shen's periodic-review convention): receive the
 * order placed L periods ago; review (every R periods) and order; demand
 * arrives and is met from stock on hand, the rest backordered (or lost);
 * holding and shortage costs are charged on the ending state. With L = 0 an
 * order arrives before that period's demand, so a base-stock level S covers
 * the demand of L + 1 periods, as in the analytic models.
 *
 * Statistics (after `warmup` periods, pooled over paths):
 *   fill rate          units met from stock at once / units demanded (type 2)
 *   cycle service      review cycles without unmet demand / cycles (type 1)
 *   average on-hand    mean ending on-hand inventory
 *   shipped            units delivered: met from stock at once, plus backorders
 *                      filled by later receipts (sales, for the cost of goods sold)
 *   turnover           units shipped / average on-hand (APICS Dictionary, 16th ed.,
 *                      "inventory turnover": cost of sales / average inventory, here
 *                      in units and over the simulated periods, per path)
 *   total cost         K per order + h per unit on hand per period + p per unit
 *                      backordered per period (per unit lost, with lost sales) */
#include <stdlib.h>
#include <string.h>

#include "core/inventory/internal.h"

mx_inv_sim_options mx_inv_sim_defaults(void) {
  mx_inv_sim_options o;
  memset(&o, 0, sizeof o);
  o.policy = MX_POLICY_BASE_STOCK;
  o.R = 1;
  o.initial = NAN;
  return o;
}

static double order_quantity(const mx_inv_sim_options *o, double ip, size_t t) {
  switch (o->policy) {
  case MX_POLICY_BASE_STOCK: {
    double S = o->levels ? o->levels[t] : o->S;
    return S > ip ? S - ip : 0.0;
  }
  case MX_POLICY_SS: return ip <= o->s ? o->S - ip : 0.0;
  case MX_POLICY_RQ: {
    if (ip > o->r) return 0.0;
    double k = floor((o->r - ip) / o->Q) + 1.0; /* smallest k with ip + k Q > r */
    return k * o->Q;
  }
  }
  return 0.0;
}

int mx_inv_simulate(const mx_inv_sim_options *o, const double *demand, size_t n, size_t npaths,
                mx_inv_sim_result *out, mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if (o->policy != MX_POLICY_BASE_STOCK && o->policy != MX_POLICY_SS && o->policy != MX_POLICY_RQ)
    return mx_error_set(err, MX_EINVAL, "policy must be base_stock, ss or rq");
  if (o->L < 0) return mx_error_set(err, MX_EINVAL, "L (lead time) must be >= 0 (got %d)", o->L);
  if (o->R < 1) return mx_error_set(err, MX_EINVAL, "R (review period) must be >= 1 (got %d)", o->R);
  if (o->warmup < 0 || (size_t)o->warmup >= n)
    return mx_error_set(err, MX_EINVAL, "warmup (%d) must be >= 0 and below the %zu periods",
                        o->warmup, n);
  if (npaths == 0 || n == 0) return mx_error_set(err, MX_EEMPTY, "no demand to simulate");
  if ((rc = mx__inv_check_nonneg(o->K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_nonneg(o->h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_nonneg(o->p, "p (stockout cost)", err)))
    return rc;
  double start;
  switch (o->policy) {
  case MX_POLICY_BASE_STOCK:
    if (!o->levels && !isfinite(o->S)) return mx_error_set(err, MX_EINVAL, "S must be finite");
    start = o->levels ? o->levels[0] : o->S;
    break;
  case MX_POLICY_SS:
    if (!isfinite(o->s) || !isfinite(o->S) || !(o->S > o->s))
      return mx_error_set(err, MX_EINVAL, "(s,S) needs finite s < S (got s = %g, S = %g)", o->s,
                          o->S);
    start = o->S;
    break;
  default:
    if (!isfinite(o->r)) return mx_error_set(err, MX_EINVAL, "r must be finite");
    if ((rc = mx__inv_check_positive(o->Q, "Q (order quantity)", err))) return rc;
    start = o->r + o->Q;
    break;
  }
  if (o->levels)
    for (size_t t = 0; t < n; t++)
      if (!isfinite(o->levels[t]))
        return mx_error_set(err, MX_EINVAL, "order-up-to level of period %zu is not finite", t + 1);
  if (isfinite(o->initial)) start = o->initial;
  if (start < 0) start = 0;
  for (size_t i = 0; i < n * npaths; i++)
    if (!isfinite(demand[i]) || demand[i] < 0)
      return mx_error_set(err, MX_EINVAL, "demand of period %zu (path %zu) must be >= 0 (got %g)",
                          i % n + 1, i / n + 1, demand[i]);

  double *pipe = calloc(n + (size_t)o->L + 1, sizeof *pipe);
  if (!pipe) return mx_error_set(err, MX_ENOMEM, "out of memory");
  double sum_on_hand = 0, sum_back = 0, cost = 0;
  size_t cycles = 0, cycles_ok = 0;
  for (size_t k = 0; k < npaths; k++) {
    const double *dm = demand + k * n;
    memset(pipe, 0, (n + (size_t)o->L + 1) * sizeof *pipe);
    double inv = start, on_order = 0; /* inv: net inventory (negative = backorders) */
    int cycle_short = 0, in_cycle = 0;
    for (size_t t = 0; t < n; t++) {
      int counted = t >= (size_t)o->warmup;
      double back_before = inv < 0 ? -inv : 0;
      inv += pipe[t];
      on_order -= pipe[t];
      if (t % (size_t)o->R == 0) {
        if (in_cycle) {
          cycles++;
          cycles_ok += !cycle_short;
        }
        in_cycle = counted;
        cycle_short = 0;
        double q = order_quantity(o, inv + on_order, t);
        if (q > 0) {
          if (counted) {
            out->orders++;
            out->ordered += q;
            cost += o->K;
          }
          if (o->L == 0) {
            inv += q;
          } else {
            pipe[t + (size_t)o->L] += q;
            on_order += q;
          }
        }
      }
      /* backorders the period's receipts (and an L = 0 order) filled */
      double cleared = back_before - (inv < 0 ? -inv : 0);
      double d = dm[t];
      double avail = inv > 0 ? inv : 0;
      double met = d < avail ? d : avail;
      double unmet = d - met;
      if (o->lost_sales)
        inv -= met;
      else
        inv -= d;
      double on_hand = inv > 0 ? inv : 0, back = inv < 0 ? -inv : 0;
      if (unmet > 0) cycle_short = 1;
      if (!counted) continue;
      out->periods++;
      out->demand += d;
      out->filled += met;
      out->shipped += met + (cleared > 0 ? cleared : 0);
      sum_on_hand += on_hand;
      sum_back += back;
      if (unmet > 0) out->stockout_periods++;
      if (o->lost_sales) {
        out->lost += unmet;
        cost += o->h * on_hand + o->p * unmet;
      } else {
        cost += o->h * on_hand + o->p * back;
      }
    }
    if (in_cycle) {
      cycles++;
      cycles_ok += !cycle_short;
    }
  }
  free(pipe);
  out->fill_rate = out->demand > 0 ? out->filled / out->demand : 1.0;
  out->cycle_service = cycles ? (double)cycles_ok / (double)cycles : 1.0;
  out->avg_on_hand = sum_on_hand / (double)out->periods;
  out->avg_backorders = sum_back / (double)out->periods;
  if (!o->lost_sales) out->lost = out->demand - out->filled;
  out->turnover = out->avg_on_hand > 0 ? out->shipped / (double)npaths / out->avg_on_hand : NAN;
  out->total_cost = cost / (double)npaths;
  return MX_OK;
}
