/* Bandit state in the store's ledger (merx.bandit, `merx bandit`):
 *
 *   bandit_arms(bandit, segment, offer, alpha, beta, updated)
 *       the Beta posterior of every arm that has seen an update; an arm
 *       without a row is at the script's prior. segment is "" for a bandit
 *       without segments. updated: ISO 8601 UTC run time of the last update.
 *   bandit_updates(bandit, source, run_id, applied_at, decisions, conversions)
 *       the update log: one row per batch of outcomes applied, so the same
 *       outcomes are never counted twice. source is the run id whose logged
 *       decisions were scored (the nightly loop), or the caller's label of
 *       an outcome window (rows given directly); run_id is the run that
 *       applied it.
 *
 * The decisions a bandit made are ordinary ledger decisions whose record
 * carries `bandit`, `segment` and `offer` (merx.bandit stages them so).
 * Writes happen inside the caller's mx__decisions_begin/commit, so the state
 * changes with the run that decided them, or not at all. */
#ifndef MERX_STORE_BANDIT_H
#define MERX_STORE_BANDIT_H

#include <stddef.h>

#include "merx/error.h"
#include "store/decisions.h"

/* The schema step that adds the tables above (decisions.c applies it). */
extern const char mx__bandit_schema[];

typedef struct mx_bandit_arm_row {
  const char *bandit, *segment, *offer, *updated;
  double alpha, beta;
} mx_bandit_arm_row;
typedef int (*mx_bandit_arm_fn)(void *ctx, const mx_bandit_arm_row *row);

/* Arms of bandit (every bandit when NULL), by bandit, segment, offer; fn
 * returns 0 to go on. *updates (may be NULL) receives the number of update
 * batches applied to bandit so far: the version a later save checks. */
int mx__bandit_store_arms(mx_decision_log *log, const char *bandit, mx_bandit_arm_fn fn,
                         void *ctx, long *updates, mx_error *err);

/* Has source been applied to bandit? */
int mx__bandit_store_applied(mx_decision_log *log, const char *bandit, const char *source,
                            int *applied, mx_error *err);

/* The bandit's logged decisions (kind, record.bandit = bandit) of runs whose
 * run time is before before_iso and whose outcomes were not applied yet, by
 * run. fn returns 0 to go on. segment is "" when the record has none. */
typedef int (*mx_bandit_decision_fn)(void *ctx, const char *run_id, const char *user,
                                     const char *segment, const char *offer);
int mx__bandit_store_pending(mx_decision_log *log, const char *bandit, const char *kind,
                            const char *before_iso, mx_bandit_decision_fn fn, void *ctx,
                            mx_error *err);

/* One save (inside mx__decisions_begin/commit): the posteriors of n_arms arms
 * and the update batches that produced them since version `updates`. Fails
 * with MX_ESTATE, changing nothing, when another run updated the bandit since
 * (its update count is no longer `updates`) or already applied a source. */
typedef struct mx_bandit_save {
  const char *bandit, *run_id, *time_iso;
  long updates;
  size_t n_arms;
  const char *const *segments, *const *offers;
  const double *alpha, *beta;
  size_t n_sources;
  const char *const *sources;
  const long *decisions, *conversions;
} mx_bandit_save;
int mx__bandit_store_save(mx_decision_log *log, const mx_bandit_save *s, mx_error *err);

#endif
