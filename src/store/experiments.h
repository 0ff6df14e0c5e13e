/* Experiments in the ledger (schema step 2 of decisions.c), beside the
 * decisions of the same runs and written in the same transaction:
 *
 *   experiments(name, salt, arms, stratify, control, created, run_id)
 *       arms: JSON [["control",0.1],["coupon",0.9]] in the arm order
 *       (merx/experiment.h); created: merx.now() of the first run
 *   experiment_arms(experiment, position, arm, share)
 *       the same arms as rows, for SQL
 *   assignments(experiment, user, arm, stratum, run_id, assigned_at)
 *       one row per user: the first assignment, kept by every later run
 *   exposures(id, run_id, experiment, arm, user, kind, delivered, record,
 *             time, committed_at)
 *       one row per decision a user got (delivered = 1) or, in the control
 *       arm, would have got (delivered = 0); record is its JSON
 *
 * An experiment's definition is fixed by its first run: a run with another
 * salt, arms, shares, stratify column or control arm under the same name is
 * refused (mx__experiments_define). */
#ifndef MERX_STORE_EXPERIMENTS_H
#define MERX_STORE_EXPERIMENTS_H

#include <stddef.h>

#include "merx/error.h"
#include "store/decisions.h"

/* The SQL of schema step 2 (decisions.c applies it). */
extern const char mx__ledger_schema_experiments[];

/* Strings NUL-terminated; stratify NULL when not stratified. */
typedef struct mx_experiment_def {
  const char *name, *salt, *arms, *stratify, *control, *created, *run_id;
  /* for mx__experiments_define only: the arms as rows */
  int n_arms;
  const char *const *arm_names;
  const double *shares;
} mx_experiment_def;

/* Inside begin/commit: record def when the ledger has no experiment of that
 * name, else check that it is the same one (MX_EINVAL naming both
 * definitions when not). */
int mx__experiments_define(mx_decision_log *log, const mx_experiment_def *def, mx_error *err);
/* The same check without writing: *found = 1 when the ledger has name. */
int mx__experiments_check(mx_decision_log *log, const mx_experiment_def *def, int *found,
                         mx_error *err);
/* The definition of name: *found = 0 when the ledger has none (or predates
 * experiments). fn gets strings that live during the call. */
typedef int (*mx_experiment_fn)(void *ctx, const mx_experiment_def *def);
int mx__experiments_each(mx_decision_log *log, const char *name, mx_experiment_fn fn, void *ctx,
                        mx_error *err);
/* "name: salt 'S', arms [..], stratify C, control A" of def, into buf. */
void mx__experiments_describe(const mx_experiment_def *def, char *buf, size_t size);

typedef struct mx_assignment_row {
  const char *experiment, *user, *arm, *stratum, *run_id, *assigned_at;
  size_t user_len; /* 0: NUL-terminated */
} mx_assignment_row;
/* Rows of one commit go through a writer (its statements prepared once);
 * close it before the log. */
typedef struct mx_experiment_writer mx_experiment_writer;
int mx__experiment_writer_open(mx_decision_log *log, mx_experiment_writer **out, mx_error *err);
void mx__experiment_writer_close(mx_experiment_writer *w);
/* Inside begin/commit: the user's first assignment (a later one is
 * ignored). */
int mx__experiments_assign(mx_experiment_writer *w, const mx_assignment_row *row, mx_error *err);
/* Every assignment of experiment, by user; fn returns non-zero to stop. */
typedef int (*mx_assignment_fn)(void *ctx, const mx_assignment_row *row);
int mx__experiments_assignments(mx_decision_log *log, const char *experiment, mx_assignment_fn fn,
                               void *ctx, mx_error *err);

typedef struct mx_exposure_row {
  const char *run_id, *experiment, *arm, *user, *kind, *record, *time, *committed_at;
  int delivered;
  size_t user_len, record_len; /* 0: NUL-terminated */
} mx_exposure_row;
/* Inside begin/commit. */
int mx__experiments_expose(mx_experiment_writer *w, const mx_exposure_row *row, mx_error *err);
/* Every exposure of experiment (of run_id when not NULL), oldest first. */
typedef int (*mx_exposure_fn)(void *ctx, const mx_exposure_row *row);
int mx__experiments_exposures(mx_decision_log *log, const char *experiment, const char *run_id,
                             mx_exposure_fn fn, void *ctx, mx_error *err);

/* Every exposure of user in any experiment, oldest first. */
int mx__experiments_user_exposures(mx_decision_log *log, const char *user, mx_exposure_fn fn,
                                  void *ctx, mx_error *err);

/* The measurement units of experiment: every exposed user once, with the
 * arm and stratum of the assignment and the time of the first exposure
 * (of run_id's exposures when not NULL), by user. */
typedef struct mx_exposed_unit {
  const char *user, *arm, *stratum, *first_exposure;
  size_t user_len;
} mx_exposed_unit;
typedef int (*mx_exposed_unit_fn)(void *ctx, const mx_exposed_unit *u);
int mx__experiments_units(mx_decision_log *log, const char *experiment, const char *run_id,
                         mx_exposed_unit_fn fn, void *ctx, mx_error *err);

/* Per arm of experiment, in arm order: share, users assigned, users exposed, exposures,
 * delivered exposures, first and last exposure time (NULL when none). */
typedef struct mx_arm_summary {
  const char *arm, *first, *last;
  double share;
  long users, exposed_users, exposures, delivered;
} mx_arm_summary;
typedef int (*mx_arm_summary_fn)(void *ctx, const mx_arm_summary *s);
int mx__experiments_summary(mx_decision_log *log, const char *experiment, mx_arm_summary_fn fn,
                           void *ctx, mx_error *err);

#endif
