/* Retention (`merx vacuum`, PRIVACY.md): what the store's policy
 * (store.conf, privacy.h) says has been kept long enough goes, by the time it
 * was stored: decisions and exposures by committed_at, assignments left
 * without an exposure, scheduler runs (their output tails) by start time,
 * stored queries (queries.h) by the time they were asked, cache files by
 * modification time. Then the ledger is rebuilt (VACUUM, with
 * secure_delete on) so the file shrinks and no freed page keeps old bytes. */
#ifndef MERX_STORE_RETENTION_H
#define MERX_STORE_RETENTION_H

#include <stdint.h>

#include "merx/error.h"
#include "store/privacy.h"

typedef struct mx_vacuum_counts {
  long decisions, exposures, assignments, runs, cache_files, queries;
  int64_t bytes_before, bytes_after; /* ledger.db + its WAL */
} mx_vacuum_counts;

/* now: epoch seconds the ages are measured from. */
int mx__store_vacuum(const char *dir, const mx_store_policy *p, int64_t now, mx_vacuum_counts *c,
                    mx_error *err);

#endif
