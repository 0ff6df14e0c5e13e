/* Experiment arms (merx/experiment.h): the hash rule, in one place, so the
 * Lua binding, the store checks and any C caller share it. */
#include "merx/experiment.h"

#include "util/xxhash.h"

double mx_experiment_unit(const char *salt, size_t salt_len, const char *stratum,
                          size_t stratum_len, const char *user, size_t user_len) {
  mx_xxh64_state s;
  mx__xxh64_reset(&s, 0);
  mx__xxh64_update(&s, salt, salt_len);
  mx__xxh64_update(&s, ":", 1);
  if (stratum) {
    mx__xxh64_update(&s, stratum, stratum_len);
    mx__xxh64_update(&s, ":", 1);
  }
  mx__xxh64_update(&s, user, user_len);
  /* the top 53 bits, exactly representable: u in [0, 1) on every machine */
  return (double)(mx__xxh64_digest(&s) >> 11) * 0x1.0p-53;
}

int mx_experiment_pick(const double *shares, int n, double u) {
  double c = 0;
  int last = n - 1;
  for (int i = 0; i < n; i++) {
    c += shares[i];
    if (u < c) return i;
    if (shares[i] > 0) last = i;
  }
  return last;
}
