/* Fault injection for the inventory module (as test_alloc_faults.c does for
 * ingest): make the N-th allocation fail, for every N, in the calls that
 * allocate (discrete distributions, convolution to lead-time demand, exact
 * (s,S), fill-rate order-up-to, simulation); each must end in MX_ENOMEM with
 * a message or succeed completely, and leak nothing (LeakSanitizer in the
 * sanitizer build). */
#include "testutil.h"
#include "faultalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/inventory.h"


/* Empirical demand -> 3-period convolution -> exact (s,S), order-up-to for a
 * fill rate; every intermediate distribution released on every path. */
static int inventory_once(void) {
  mx_error err;
  mx_error_clear(&err);
  double samples[] = {0, 0, 1, 3, 0, 2, 5, 0, 1, 1, 0, 4};
  mx_dist d, d3;
  int rc = mx_dist_empirical(&d, samples, 12, &err);
  if (rc) goto check;
  rc = mx_dist_periods(&d, 3, &d3, &err);
  if (rc == MX_OK) {
    if (fabs(mx_dist_mean(&d3) - 3 * mx_dist_mean(&d)) > 1e-12) rc = MX_EINVAL;
    mx_dist_free(&d3);
  }
  mx_inv_ss_result ss;
  if (rc == MX_OK) rc = mx_inv_ss(MX_SS_EXACT, 5, 1, 4, &d, 1, &ss, &err);
  double S;
  if (rc == MX_OK) rc = mx_order_up_to(MX_SERVICE_FILL, 0.95, &d, 1, 2, &S, &err);
  mx_dist cp;
  if (rc == MX_OK && (rc = mx_dist_copy(&cp, &d, &err)) == MX_OK) mx_dist_free(&cp);
  if (rc == MX_OK) {
    mx_inv_sim_options o = mx_inv_sim_defaults();
    o.S = S;
    o.L = 2;
    mx_inv_sim_result s;
    rc = mx_inv_simulate(&o, samples, 12, 1, &s, &err);
  }
  mx_dist_free(&d);
check:
  if (rc == MX_ENOMEM && err.message[0] == '\0') rc = MX_EINVAL; /* must say why */
  return rc;
}

static void test_inventory_every_allocation(void **s) {
  (void)s;
  long points = fa_sweep(inventory_once, "inventory");
  fprintf(stderr, "inventory: %ld allocation-failure points tested\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inventory_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
