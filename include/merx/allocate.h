/* merx — budget-constrained offer allocation (multiple-choice knapsack with
 * global constraints), solved through its Lagrangian dual, with a
 * certificate of how close the plan is to optimal.
 *
 * Problem. Users u, offers j; each eligible (u, j) pair is a candidate with a
 * value v_uj and costs c_ujk >= 0 for K global resources (budget, channel
 * capacity, ...) with limits b_k. Offer j may be capped at cap_j uses. Each
 * user gets at most per_user offers (default 1), each offer at most once;
 * "no offer" is always allowed. Maximise sum v x subject to
 *     sum_uj c_ujk x_uj <= b_k  (every k),   sum_u x_uj <= cap_j  (every j).
 *
 * Method (the approach of LinkedIn's DuaLip and the Ant / Meituan coupon
 * systems). Dualising the global constraints with prices lambda_k, mu_j >= 0
 * splits the problem per user:
 *     g(lambda, mu) = sum_k lambda_k b_k + sum_j mu_j cap_j
 *                   + sum_u max_{S, |S| <= m} sum_{j in S} (v_uj - sum_k lambda_k c_ujk - mu_j)^+
 * g is convex and, for EVERY lambda, mu >= 0, an upper bound on the optimum
 * (weak duality; its minimum equals the LP-relaxation optimum because each
 * user's block is a uniform matroid polytope). We minimise g by cyclic
 * coordinate descent with an exact line search (bisection on the monotone
 * usage of one constraint; one constraint = plain bisection), warm-started
 * from a random sample of users when there are many. The plan is the users'
 * choices at the final prices, then a repair that removes the least
 * efficient assignments until every limit holds, then a greedy fill of the
 * capacity that is left. The certificate is (objective, spend per
 * constraint, bound = the lowest g evaluated on the full data, gap).
 *
 * Storage is compact and streamed: candidates are kept in CSR arrays by
 * user (offer index, float value, K float costs: 8 + 4K bytes each), and an
 * evaluation of g is one parallel pass over them. 10M users x 10 offers x 3
 * resources is 2.0 GB. */
#ifndef MERX_ALLOCATE_H
#define MERX_ALLOCATE_H

#include <stdint.h>
#include <stddef.h>
#include "merx/error.h"
#include "merx/data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MX_ALLOC_MAX_RESOURCES 16
#define MX_ALLOC_NAME_MAX 128

/* The instance. Arrays are owned by the problem (mx_alloc_problem_free).
 * Candidates of user u are positions indptr[u] .. indptr[u+1]; each has an
 * offer index (< n_offers, distinct within a user), a value and n_resources
 * costs (cost[p * n_resources + k]). */
typedef struct mx_alloc_problem {
  uint32_t n_users;
  uint32_t n_offers;
  int n_resources;  /* K, 0..MX_ALLOC_MAX_RESOURCES */
  uint64_t n_candidates;
  uint64_t *indptr; /* n_users + 1 */
  uint32_t *offer;  /* n_candidates */
  float *value;     /* n_candidates, finite */
  float *cost;      /* n_candidates * n_resources, finite, >= 0 */
  /* limits */
  double limit[MX_ALLOC_MAX_RESOURCES];                 /* b_k >= 0 */
  char resource_name[MX_ALLOC_MAX_RESOURCES][MX_ALLOC_NAME_MAX];
  double *cap;      /* n_offers; INFINITY = uncapped */
  uint32_t per_user; /* m >= 1 */
  /* ids for output; NULL when the problem was built from indices */
  mx_idmap *users;
  mx_idmap *offers;
  /* Parity (group) constraints, none by default (mx_alloc_problem_set_groups,
   * mx_alloc_add_share, mx_alloc_add_parity). Each user is in one group;
   * constraint c reads sum_u coef_c[group(u)] n_u <= limit_c, n_u the offers
   * user u gets. Its price nu_c >= 0 enters the Lagrangian like the others:
   * every candidate of u loses sum_c nu_c coef_c[group(u)] of reduced value,
   * so users stay independent and g stays an upper bound (weak duality). */
  uint32_t n_groups;
  uint32_t *group;         /* n_users, owned; NULL without groups */
  char **group_name;       /* n_groups, owned */
  double *group_users;     /* n_groups: users of each group in the problem */
  int n_group_constraints;
  struct mx_alloc_group_constraint *gc; /* owned */
} mx_alloc_problem;

#define MX_ALLOC_MAX_GROUPS 64
typedef struct mx_alloc_group_constraint {
  double *coef;  /* n_groups, owned by the problem */
  double limit;
  char name[MX_ALLOC_NAME_MAX]; /* "share(A)>=0.3", "rate(A)>=0.8*rate(B)" */
} mx_alloc_group_constraint;

/* Put user u in group group[u] < n_groups (names copied; NULL: "g<index>").
 * Replaces earlier groups and drops their constraints. At most
 * MX_ALLOC_MAX_GROUPS groups. */
MX_API int mx_alloc_problem_set_groups(mx_alloc_problem *p, const uint32_t *group,
                                       uint32_t n_groups, const char *const *names,
                                       mx_error *err);
/* Group g's share of all offers given within [lo, hi] (0 <= lo <= hi <= 1;
 * lo 0 or hi 1 adds no constraint for that side). The empty plan meets it. */
MX_API int mx_alloc_add_share(mx_alloc_problem *p, uint32_t g, double lo, double hi,
                              mx_error *err);
/* Every group's offer rate (offers per user of the group) at least ratio
 * (0 < ratio <= 1) times every other group's: the four-fifths rule with
 * ratio 0.8, as G (G - 1) linear constraints. */
MX_API int mx_alloc_add_parity(mx_alloc_problem *p, double ratio, mx_error *err);

/* Allocate a problem with arrays sized for n_candidates (uninitialised
 * except indptr[0] = 0, caps = INFINITY, limits = INFINITY, per_user = 1,
 * resource names "cost", "cost2", ...). No id maps. The caller fills the
 * arrays (e.g. a generator filling blocks of users in parallel) and should
 * call mx_alloc_problem_check. *out owned by the caller. */
MX_API int mx_alloc_problem_create(uint32_t n_users, uint32_t n_offers, int n_resources,
                                   uint64_t n_candidates, mx_alloc_problem **out, mx_error *err);
/* Accepts NULL. Frees arrays and id maps. */
MX_API void mx_alloc_problem_free(mx_alloc_problem *p);
/* Validate: indptr monotone, offers in range and distinct per user, values
 * finite, costs finite and >= 0, limits >= 0 (a negative limit is
 * MX_EINFEASIBLE: every plan spends >= 0), caps >= 0, per_user >= 1. */
MX_API int mx_alloc_problem_check(const mx_alloc_problem *p, mx_error *err);
/* The sub-problem of the users u with keep[u] != 0, in order: the same
 * offers, limits, caps, per-user count and resource names. Users keep their
 * ids (p->users, or "u<index>" for a problem without ids, the names plans
 * print), so a shard's plan names the original users. *out owned by the
 * caller. */
MX_API int mx_alloc_problem_subset(const mx_alloc_problem *p, const uint8_t *keep,
                                   mx_alloc_problem **out, mx_error *err);
/* Set the cap of an offer by id (needs p->offers). Unknown id: MX_ENOTFOUND. */
MX_API int mx_alloc_problem_set_cap(mx_alloc_problem *p, const char *offer, double cap,
                                    mx_error *err);

/* Write the LP relaxation in CPLEX LP format (atomically): variable xQ is
 * candidate Q; rows uU (per user), rK (resources), capJ (offer caps). */
MX_API int mx_alloc_write_lp(const char *path, const mx_alloc_problem *p, mx_error *err);

/* ------------------------------------------------------------- builder
 * Rows in any order, (user, offer) string ids. A repeated (user, offer) pair
 * is an error naming both lines (a plan cannot give the same offer twice, so
 * a duplicate row is almost always a join gone wrong). Rows whose value is
 * <= 0 are kept (they can never be chosen: "no offer" is worth 0). */
typedef struct mx_alloc_builder mx_alloc_builder;
MX_API mx_alloc_builder *mx_alloc_builder_create(int n_resources);
MX_API void mx_alloc_builder_free(mx_alloc_builder *b);
/* file/line only label errors (file may be NULL, line 0). Checks value
 * finite and costs finite and >= 0 here, with field names when given by
 * mx_alloc_builder_set_fields. */
MX_API int mx_alloc_builder_add(mx_alloc_builder *b, const char *user, size_t user_len,
                                const char *offer, size_t offer_len, double value,
                                const double *costs, long line, mx_error *err);
/* Names used in error messages (value field, cost fields) and the file. */
MX_API void mx_alloc_builder_set_fields(mx_alloc_builder *b, const char *file,
                                        const char *value_field,
                                        const char *const *cost_fields);
/* Register an offer id that has no candidate row (so caps may name it). */
MX_API int mx_alloc_builder_add_offer(mx_alloc_builder *b, const char *offer, size_t len);
/* Group by user (users and offers indexed in first-seen order), detect
 * duplicates. The builder is consumed whatever the result. */
MX_API int mx_alloc_builder_finish(mx_alloc_builder *b, mx_alloc_problem **out, mx_error *err);

/* ---------------------------------------------------------- from files
 * Candidate rows from a CSV: io->columns names the roles user, offer,
 * value, cost_roles[0..n_resources) and optionally margin (value x margin
 * is the row's value). Constraints are named by their header (or the column
 * given). shard_n > 1 keeps only the users u with mx_alloc_shard_of(u) ==
 * shard_i. Errors name file, line, column and field. */
MX_API int mx_alloc_read_csv(const char *path, const mx_ingest_options *io, int n_resources,
                             const char *const *cost_roles, uint32_t shard_i, uint32_t shard_n,
                             mx_alloc_problem **out, mx_error *err);
/* Offer caps from "offer,cap" rows (header skipped); needs p->offers. An
 * unknown offer is MX_ENOTFOUND, a negative cap MX_EINFEASIBLE. */
MX_API int mx_alloc_read_caps(const char *path, mx_alloc_problem *p, mx_error *err);
/* ---------------------------------------------------------- from columns
 * Candidate rows as arrays (merx.util.select, the campaign DSL): user and
 * offer (and group) are dense ids. Rows whose value is not above min_value
 * (NaN too) cannot be chosen and are left out. The constraints are the
 * budget on the rows' cost (resource 0 "budget", when finite), then one
 * count per capped group ("group NAME": a candidate of the group uses 1),
 * and the offers' caps; per_user offers at most per user. */
typedef struct mx_alloc_columns {
  size_t n;                        /* rows */
  const uint32_t *user, *offer;    /* n ids < n_users, < n_offers */
  const uint32_t *group;           /* n ids < n_groups, or NULL */
  uint32_t n_users, n_offers, n_groups;
  const double *value;             /* n */
  const double *cost;              /* n, finite and >= 0; NULL: all 0 */
  double min_value;
  double budget;                   /* >= 0; INFINITY: none */
  uint32_t per_user;               /* >= 1 */
  const uint32_t *offer_cap;       /* n_offers, UINT32_MAX: none; or NULL */
  const uint32_t *group_cap;       /* n_groups, UINT32_MAX: none; or NULL */
  const char *const *group_name;   /* n_groups names (for capped groups) */
} mx_alloc_columns;

/* The problem of c: *out (NULL when no row can be chosen) with its
 * candidates grouped by user, and *row[q] (malloc'd, caller frees; NULL
 * with *out) the input row of candidate q. A bad cost or value, or more
 * capped groups than MX_ALLOC_MAX_RESOURCES allows, is MX_EINVAL naming
 * the 1-based row ("cost[3] is -1: ..."). */
MX_API int mx_alloc_from_columns(const mx_alloc_columns *c, mx_alloc_problem **out, uint32_t **row,
                                 mx_error *err);
/* The first two candidates of one user with the same offer (which
 * mx_alloc_problem_check refuses): 1 with *a < *b, or 0. */
MX_API int mx_alloc_find_repeat(const mx_alloc_problem *p, uint64_t *a, uint64_t *b);

/* A campaign-like instance from "USERS:OFFERS:CONSTRAINTS[:SEED]" (offers
 * 1..1000, constraints 0..8; MX_EINVAL otherwise): conversion p = user
 * propensity x offer appeal, value p x margin, cost 1 the expected discount,
 * cost 2 SMS offers, cost 3 limited stock, further costs uniform; limits
 * 40%, 50%, ... of the unconstrained usage so every constraint binds. The
 * same spec gives the same instance whatever the thread count. */
MX_API int mx_alloc_synthetic(const char *spec, int threads, mx_alloc_problem **out,
                              mx_error *err);

/* --------------------------------------------------------------- solve */
typedef struct mx_alloc_options {
  int threads;          /* <= 0: all cores */
  double tolerance;     /* relative precision of each price (default 1e-6) */
  int max_cycles;       /* coordinate-descent cycles on the full data (default 8) */
  uint32_t sample_users;/* warm start on a sample of this many users when
                           n_users > 4x this (default 200000; 0: no sample) */
  uint64_t seed;        /* sample choice (default 1) */
  double gap;           /* stop early once a plan within this relative gap of
                           the bound is certain (default 1e-4) */
  const mx_cancel *cancel; /* polled every cycle and pass; NULL = none */
} mx_alloc_options;

MX_API mx_alloc_options mx_alloc_defaults(void);

typedef struct mx_alloc_result {
  /* the plan: positions of chosen candidates, grouped by user in user order */
  uint64_t *chosen;
  uint64_t assigned;
  /* certificate */
  double objective;   /* sum of chosen values */
  double spend[MX_ALLOC_MAX_RESOURCES];
  double *used;       /* n_offers: chosen count per offer */
  double bound;       /* min of g over the prices evaluated on the full data */
  double gap;         /* (bound - objective) / bound, 0 when bound <= 0 */
  /* prices */
  double lambda[MX_ALLOC_MAX_RESOURCES];
  double *mu;         /* n_offers (0 for uncapped offers) */
  double *nu;         /* n_group_constraints: prices of the parity constraints
                         (points into mu's storage; NULL without them) */
  double *group_used; /* n_groups: offers chosen per group (NULL without groups) */
  /* work done */
  int cycles;         /* coordinate-descent cycles on the full data */
  long passes;        /* evaluations of g on the full data */
  long sample_passes; /* evaluations on the sample */
  uint64_t repaired;  /* assignments removed by the repair */
  uint64_t filled;    /* assignments added by the greedy fill */
  double seconds;
} mx_alloc_result;

/* Solve. res is filled (free with mx_alloc_result_free). Errors: the
 * problem check's, MX_ENOMEM. */
MX_API int mx_alloc_solve(const mx_alloc_problem *p, const mx_alloc_options *opt,
                          mx_alloc_result *res, mx_error *err);
/* Build the plan at given prices (lambda[K], mu[n_offers] or NULL) without
 * solving: choices, repair against p's limits, greedy fill; bound = g at
 * these prices. This is how a shard applies prices solved elsewhere. */
MX_API int mx_alloc_apply(const mx_alloc_problem *p, const double *lambda, const double *mu,
                          const mx_alloc_options *opt, mx_alloc_result *res, mx_error *err);
MX_API void mx_alloc_result_free(mx_alloc_result *res);
/* Input rows (row as from mx_alloc_from_columns) of res's chosen
 * candidates, ascending, into out[0..res->assigned). */
MX_API void mx_alloc_chosen_rows(const mx_alloc_result *res, const uint32_t *row, uint32_t *out);
/* The value the group constraints cost: solve p without them (same
 * options) and give that plan's objective (the plan itself is dropped). */
MX_API int mx_alloc_unconstrained_objective(const mx_alloc_problem *p,
                                            const mx_alloc_options *opt, double *objective,
                                            mx_error *err);
/* Usage of group constraint c by a plan: sum_g coef_c[g] group_used[g]. */
MX_API double mx_alloc_group_usage(const mx_alloc_problem *p, int c, const double *group_used);

/* Evaluate g at given prices on the whole problem; usage[K] and count[n_offers]
 * (either may be NULL) receive the Lagrangian choices' usage. */
MX_API int mx_alloc_dual_value(const mx_alloc_problem *p, const double *lambda, const double *mu,
                               int threads, double *g, double *usage, double *count,
                               mx_error *err);

/* --------------------------------------------------------------- duals
 * Text file: "merx-duals 1", "per_user M", then per resource
 * "resource<TAB>limit<TAB>lambda<TAB>name" and per capped offer
 * "cap<TAB>limit<TAB>mu<TAB>offer id"; optionally, after those, per-shard
 * quotas: "shards N", then "quota<TAB>shard<TAB>use<TAB>resource name" and
 * "cap_quota<TAB>shard<TAB>use<TAB>offer id" -- what shard (0..N-1) of the
 * users uses of each limit in the whole-data plan. */
typedef struct mx_alloc_duals {
  uint32_t per_user;
  int n_resources;
  char resource_name[MX_ALLOC_MAX_RESOURCES][MX_ALLOC_NAME_MAX];
  double limit[MX_ALLOC_MAX_RESOURCES];
  double lambda[MX_ALLOC_MAX_RESOURCES];
  size_t n_caps;
  char **cap_offer; /* owned */
  double *cap_limit;
  double *cap_mu;
  uint32_t shards;  /* quotas saved for this many shards; 0: none */
  double *quota;     /* shards x n_resources (row per shard), owned */
  double *cap_quota; /* shards x n_caps, owned */
} mx_alloc_duals;

/* Write the prices of a solved problem (atomically). */
MX_API int mx_alloc_duals_save(const char *path, const mx_alloc_problem *p,
                               const mx_alloc_result *res, mx_error *err);
/* The prices of a solved problem as a record to keep or write later; cap
 * lines name offer j offer_names[j] (NULL: p->offers, else the index).
 * d is the caller's (mx_alloc_duals_free), also on error. */
MX_API int mx_alloc_duals_from(const mx_alloc_problem *p, const mx_alloc_result *res,
                               const char *const *offer_names, mx_alloc_duals *d, mx_error *err);
/* Add per-shard quotas to d (from mx_alloc_duals_from on the same p, res):
 * each shard's use of every limit in the plan res, user u being in shard
 * shard_of[u] < shards. */
MX_API int mx_alloc_duals_set_quotas(mx_alloc_duals *d, const mx_alloc_problem *p,
                                     const mx_alloc_result *res, const uint32_t *shard_of,
                                     uint32_t shards, mx_error *err);
/* Write d in the file format above (atomically). */
MX_API int mx_alloc_duals_write(const char *path, const mx_alloc_duals *d, mx_error *err);
MX_API int mx_alloc_duals_load(const char *path, mx_alloc_duals *d, mx_error *err);
MX_API void mx_alloc_duals_free(mx_alloc_duals *d);
/* Install loaded prices on problem p (whose offers have ids), the part of
 * the users in shard `shard` (0-based) of `shards`: resources must match by
 * count and name; every limit and cap becomes this shard's quota of it
 * (mx_alloc_duals_quota), so concatenated shard plans meet every limit;
 * lambda[K] and mu[n_offers] are filled for mx_alloc_apply. */
MX_API int mx_alloc_duals_install(const mx_alloc_duals *d, mx_alloc_problem *p, uint32_t shard,
                                  uint32_t shards, double *lambda, double *mu, mx_error *err);
/* Shard `shard`'s quota of the limit of resource `index` of d (or, with
 * is_cap, of capped offer `index`), the global limit being `limit`: its use
 * in the whole-data plan when d holds quotas for this many shards, plus an
 * even share of what that plan left unused (so the quotas sum to the limit);
 * otherwise an even share (mx_alloc_quota). */
MX_API double mx_alloc_duals_quota(const mx_alloc_duals *d, int is_cap, size_t index, double limit,
                                   uint32_t shard, uint32_t shards);

/* Shard `shard`'s quota (0-based, of `shards`) of a global limit, so that
 * the quotas of all shards sum to the limit and never exceed it: for a whole
 * number floor(limit / shards), plus one for the first (limit mod shards)
 * shards; otherwise limit / shards (rounded down). */
MX_API double mx_alloc_quota(double limit, uint32_t shard, uint32_t shards);

/* The shard of a user id (0-based): XXH64(id, seed 42) as a signed 64-bit
 * integer, modulo shards taken non-negative -- Spark SQL's
 * pmod(xxhash64(CAST(id AS STRING)), shards). `merx run --shard i/n` and
 * `merx shard-split` use the same rule. */
MX_API uint32_t mx_alloc_shard_of(const char *id, size_t len, uint32_t shards);

#ifdef __cplusplus
}
#endif
#endif
