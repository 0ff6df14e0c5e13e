/* Experiment arms: which arm of an experiment a user is in, by a documented
 * hash that Python, SQL or Spark can reproduce (docs/lua.md "Experiment arms").
 *
 *   key  = salt ":" user            (or salt ":" stratum ":" user when the
 *                                    experiment is stratified)
 *   h    = XXH64(key bytes, seed 0)  (standard xxHash64)
 *   u    = (h >> 11) * 2^-53         (the top 53 bits: a double in [0, 1))
 *   arm  = the first arm i (in the experiment's order) with u < c_i, where
 *          c_i = share_1 + ... + share_i summed left to right in doubles;
 *          when rounding leaves u >= c_k, the last arm with a share > 0.
 *
 * Pure functions of their arguments: the same arm in every run, shard,
 * process and machine. */
#ifndef MERX_EXPERIMENT_H
#define MERX_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "merx/error.h"

/* u of the key above; stratum NULL for an unstratified experiment. */
MX_API double mx_experiment_unit(const char *salt, size_t salt_len, const char *stratum,
                                 size_t stratum_len, const char *user, size_t user_len);
/* The arm index (0-based) of unit value u for n shares (n >= 1, shares >= 0,
 * summing to 1). */
MX_API int mx_experiment_pick(const double *shares, int n, double u);

#endif
