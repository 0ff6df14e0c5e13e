/* merx — fairness audit of a decision run (`merx audit`, merx.audit{...}).
 *
 * The population is an attribute table: user -> group (e.g. age band,
 * region). Decisions (user, value, score) are added one by one. Per group:
 * users in the population, users offered (at least one decision), their
 * share with a Wilson 95% interval, mean offer value per decision and mean
 * predicted score per decision, and the disparate-impact ratio share /
 * share of the most favoured group. The four-fifths rule (US EEOC Uniform
 * Guidelines, 29 CFR 1607.4(D)) flags a group whose ratio is below 0.8.
 *
 * Users decided for without a row in the table form the group "unknown":
 * reported (offered count, means), but its population is not known, so it
 * has no share and no ratio. */
#ifndef MERX_AUDIT_H
#define MERX_AUDIT_H

#include <stddef.h>
#include <stdio.h>

#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MX_AUDIT_UNKNOWN "unknown"

typedef struct mx_audit mx_audit;

/* *out owned by the caller (mx_audit_free). */
MX_API int mx_audit_create(mx_audit **out, mx_error *err);
MX_API void mx_audit_free(mx_audit *a); /* accepts NULL */

/* One population row. A user listed twice is an error naming both lines
 * (file/line label the error; file may be NULL). An empty group is an
 * error too. */
MX_API int mx_audit_add_member(mx_audit *a, const char *user, size_t user_len, const char *group,
                               size_t group_len, const char *file, long line, mx_error *err);
/* Read the population from a CSV/TSV (.gz) file with a header: the group is
 * column group_column, the user column user_column (NULL: "user"). Errors
 * name file, line and field. */
MX_API int mx_audit_read_attribute(mx_audit *a, const char *path, const char *group_column,
                                   const char *user_column, mx_error *err);
/* User ids of later mx_audit_read_attribute calls go through rewrite first
 * (a keyed store's pseudonyms, so raw ids in the file meet the ledger's
 * pseudonyms); the result is borrowed until the next call. NULL: as read. */
typedef const char *(*mx_audit_rewrite_fn)(void *ctx, const char *id, size_t len, size_t *out_len);
MX_API void mx_audit_set_rewrite(mx_audit *a, mx_audit_rewrite_fn fn, void *ctx);
/* The group of user from the population (borrowed, valid while a lives),
 * NULL when the user has no row. merx allocate's --groups reads the same file. */
MX_API const char *mx_audit_group_of(const mx_audit *a, const char *user, size_t user_len);
/* Users of group in the population (0 for a group it does not have). */
MX_API long mx_audit_group_size(const mx_audit *a, const char *group);
/* One decision for user; value and score NaN when the decision has none. */
MX_API int mx_audit_add_decision(mx_audit *a, const char *user, size_t user_len, double value,
                                 double score, mx_error *err);

typedef struct mx_audit_group {
  const char *name;   /* borrowed from the result */
  long users;         /* population (unknown group: users offered) */
  long offered;       /* users with at least one decision */
  long decisions;
  double share, lo95, hi95; /* offered / users, Wilson; NaN for "unknown" */
  double mean_value;  /* per decision carrying a value; NaN when none */
  double mean_score;  /* per decision carrying a score; NaN when none */
  long valued, scored;/* decisions with a value / a score */
  double ratio;       /* share / best share; NaN for "unknown" or best 0 */
  int flagged;        /* ratio < threshold */
  int unknown;        /* the group of users without an attribute row */
} mx_audit_group;

typedef struct mx_audit_result {
  int n_groups;            /* population groups by name, then "unknown" if any */
  mx_audit_group *groups;
  const char *reference;   /* most favoured group (highest share), NULL when none */
  double threshold;        /* the ratio below which a group is flagged */
  double min_ratio;        /* lowest ratio over the groups; NaN when none */
  int flagged;             /* number of flagged groups */
  long users, offered, decisions;
  char *names;             /* storage of the group names */
} mx_audit_result;

/* The report at threshold (0.8 for the four-fifths rule; <= 0 takes 0.8).
 * res owned by the caller (mx_audit_result_free). */
MX_API int mx_audit_finish(const mx_audit *a, double threshold, mx_audit_result *res,
                           mx_error *err);
MX_API void mx_audit_result_free(mx_audit_result *res);

/* Reports: JSON (one object: "reference", "threshold", "min_ratio",
 * "flagged", "users", "offered", "decisions", "groups": [{"group", "users",
 * "offered", "decisions", "share", "lo95", "hi95", "mean_value",
 * "mean_score", "ratio", "flagged"}]; numbers that cannot be computed are
 * null), CSV (one row per group, the same fields) and a terminal table. */
MX_API void mx_audit_write_json(const mx_audit_result *r, FILE *f);
MX_API void mx_audit_write_csv(const mx_audit_result *r, FILE *f);
MX_API void mx_audit_write_text(const mx_audit_result *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
