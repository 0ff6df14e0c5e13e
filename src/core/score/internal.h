/* Internal to the scoring files (topk.c, score.c, similar.c, explain.c): the
 * tiled top-K engine shared by recommendations, similar items and similar
 * users, and the eligible-target set built from candidates and filters. */
#ifndef MERX_CORE_SCORE_INTERNAL_H
#define MERX_CORE_SCORE_INTERNAL_H

#include "merx/score.h"

/* The set of targets (items, or users for similar users) a query may return.
 * Identity when every target is eligible (ids/pos NULL, vectors borrowed);
 * otherwise ids is the sorted list of eligible ids, pos maps an id to its
 * compact row (MX_TOPK_NONE when not eligible) and the target vectors and
 * biases are gathered into compact, owned copies. */
typedef struct mx_targets {
  uint32_t n_all;   /* size of the id universe */
  uint32_t n;       /* eligible targets */
  uint32_t *ids;    /* n, ascending; NULL: identity */
  uint32_t *pos;    /* n_all; NULL: identity */
  const float *vec; /* n x dim (compact) or NULL (ease) */
  const float *bias;
  float *owned_vec; /* gathered copies, freed by mx__targets_free */
  float *owned_bias;
} mx_targets;

/* Build from an optional candidate list and bitset (see mx_topk_options).
 * vec/bias: the full n_all x dim table (may be NULL). */
int mx__targets_build(mx_targets *t, uint32_t n_all, const float *vec, uint32_t dim,
                     const float *bias, const uint32_t *candidates, uint32_t n_candidates,
                     const uint64_t *mask, mx_error *err);
void mx__targets_free(mx_targets *t);

/* One top-K problem. score(q, c) = raw(q, c) + q_bias[row] + q_const, where
 * raw = <Qv[row], T[c]> + t_bias[c] (factor path) or
 *       Σ_{j in hist row} B[j, id(c)] (ease path, binary history),
 * and row = q_rows ? q_rows[q] : q. Ranking uses raw, ties by target id. */
typedef struct mx_topk_problem {
  const mx_targets *targets;
  uint32_t dim;
  /* queries */
  uint32_t n_q;
  const float *q_vec;      /* factor path: rows x dim */
  const uint32_t *q_rows;  /* NULL: identity */
  const float *q_bias;     /* indexed by row, or NULL */
  float q_const;
  float clip_lo, clip_hi;  /* reported scores clipped to [lo, hi] when hi > lo */
  /* ease path (q_vec NULL): scores from B over the history rows */
  const float *ease_b;     /* n_all x n_all */
  const mx_csr *hist;      /* rows indexed by row */
  /* exclusions */
  const mx_csr *exclude;   /* rows indexed by row; indices are target ids */
  int exclude_self;        /* drop target id == row (similar items/users) */
  const mx_topk_options *opt;
} mx_topk_problem;

/* MX_OK when m can be scored (arrays present for its kind). */
int mx__score_check_model(const mx_model *m, mx_error *err);

int mx__topk_run(const mx_topk_problem *p, mx_topk_result **out, mx_error *err);

#endif
