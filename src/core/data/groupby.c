/* Group-by (merx/groupby.h): rows interned by key into groups in order of
 * first appearance, each aggregation an accumulator and a count per group.
 * The engine of merx.data.group. */
#include "merx/groupby.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/idmap.h"
#include "util/util.h"

static const char *const agg_names[] = {"sum", "mean", "min", "max", "count",
                                        "count_distinct", "first", "last", NULL};

/* Longest prefix of a value count_distinct compares: the group and value
 * form one id-map key in a fixed buffer. */
#define DISTINCT_MAX 500

typedef struct agg {
  mx_group_agg op;
  double *acc;    /* per group: sum, min or max */
  uint64_t *cnt;  /* per group: rows (count_distinct: distinct values) */
  mx_idmap *seen; /* count_distinct: "group \x1f value" */
} agg;

struct mx_group {
  int na;
  mx_idmap *groups;
  size_t cap;                 /* groups the arrays hold */
  uint64_t rows;              /* rows added */
  uint64_t *first_row, *last_row;
  agg a[];
};

int mx_group_agg_parse(const char *name, mx_group_agg *out, mx_error *err) {
  for (int k = 0; agg_names[k]; k++)
    if (strcmp(name, agg_names[k]) == 0) {
      *out = (mx_group_agg)k;
      return MX_OK;
    }
  return mx_error_set(err, MX_EINVAL, "unknown aggregation '%s' (sum, mean, min, max, count, "
                      "count_distinct, first, last)", name);
}

int mx_group_agg_numeric(mx_group_agg op) {
  return op == MX_GROUP_SUM || op == MX_GROUP_MEAN || op == MX_GROUP_MIN || op == MX_GROUP_MAX;
}

void mx_group_free(mx_group *g) {
  if (!g) return;
  for (int i = 0; i < g->na; i++) {
    free(g->a[i].acc);
    free(g->a[i].cnt);
    mx_idmap_free(g->a[i].seen);
  }
  free(g->first_row);
  free(g->last_row);
  mx_idmap_free(g->groups);
  free(g);
}

/* Room for ncap groups in every per-group array; new counts start at 0. */
static int grow(mx_group *g, size_t ncap) {
  uint64_t *fr = realloc(g->first_row, ncap * sizeof *fr);
  if (!fr) return MX_ENOMEM;
  g->first_row = fr;
  uint64_t *lr = realloc(g->last_row, ncap * sizeof *lr);
  if (!lr) return MX_ENOMEM;
  g->last_row = lr;
  for (int i = 0; i < g->na; i++) {
    double *ac = realloc(g->a[i].acc, ncap * sizeof *ac);
    if (!ac) return MX_ENOMEM;
    g->a[i].acc = ac;
    uint64_t *cn = realloc(g->a[i].cnt, ncap * sizeof *cn);
    if (!cn) return MX_ENOMEM;
    memset(cn + g->cap, 0, (ncap - g->cap) * sizeof *cn);
    g->a[i].cnt = cn;
  }
  g->cap = ncap;
  return MX_OK;
}

int mx_group_create(const mx_group_agg *ops, int n, mx_group **out, mx_error *err) {
  *out = NULL;
  if (n < 0) return mx_error_set(err, MX_EINVAL, "a negative number of aggregations");
  mx_group *g = calloc(1, sizeof *g + (size_t)n * sizeof(agg));
  if (!g) return mx_error_set(err, MX_ENOMEM, "out of memory");
  g->na = n;
  int ok = (g->groups = mx_idmap_create()) != NULL;
  for (int i = 0; i < n; i++) {
    g->a[i].op = ops[i];
    if (ops[i] == MX_GROUP_COUNT_DISTINCT && !(g->a[i].seen = mx_idmap_create())) ok = 0;
  }
  if (!ok || grow(g, 1024) != MX_OK) {
    mx_group_free(g);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  *out = g;
  return MX_OK;
}

int mx_group_add(mx_group *g, const char *key, size_t key_len, const double *num,
                 const char *const *str, const size_t *str_len, uint32_t *group, mx_error *err) {
  uint32_t before = mx_idmap_size(g->groups);
  int64_t gi = mx_idmap_intern(g->groups, key, key_len);
  if (gi < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if ((size_t)gi >= g->cap && grow(g, g->cap * 2) != MX_OK)
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  uint64_t row = g->rows++;
  if (mx_idmap_size(g->groups) != before) g->first_row[gi] = row;
  g->last_row[gi] = row;
  for (int i = 0; i < g->na; i++) {
    agg *x = &g->a[i];
    if (x->op == MX_GROUP_COUNT_DISTINCT) {
      size_t vlen = str_len[i];
      char kb[DISTINCT_MAX + 100];
      int kl = snprintf(kb, sizeof kb, "%lld\x1f%.*s", (long long)gi,
                        (int)(vlen > DISTINCT_MAX ? DISTINCT_MAX : vlen), str[i]);
      uint32_t s0 = mx_idmap_size(x->seen);
      if (mx_idmap_intern(x->seen, kb, (size_t)kl) < 0)
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      if (mx_idmap_size(x->seen) != s0) x->cnt[gi]++;
      continue;
    }
    if (mx_group_agg_numeric(x->op)) {
      double v = num[i];
      if (x->cnt[gi] == 0) x->acc[gi] = v;
      else if (x->op == MX_GROUP_SUM || x->op == MX_GROUP_MEAN) x->acc[gi] += v;
      else if (x->op == MX_GROUP_MIN) x->acc[gi] = v < x->acc[gi] ? v : x->acc[gi];
      else x->acc[gi] = v > x->acc[gi] ? v : x->acc[gi];
    }
    x->cnt[gi]++;
  }
  if (group) *group = (uint32_t)gi;
  return MX_OK;
}

uint32_t mx_group_count(const mx_group *g) { return mx_idmap_size(g->groups); }

const char *mx_group_key(const mx_group *g, uint32_t i) { return mx_idmap_name(g->groups, i); }

uint64_t mx_group_first_row(const mx_group *g, uint32_t i) { return g->first_row[i]; }

uint64_t mx_group_last_row(const mx_group *g, uint32_t i) { return g->last_row[i]; }

double mx_group_value(const mx_group *g, int a, uint32_t i) {
  const agg *x = &g->a[a];
  switch (x->op) {
    case MX_GROUP_COUNT:
    case MX_GROUP_COUNT_DISTINCT: return (double)x->cnt[i];
    case MX_GROUP_MEAN: return x->acc[i] / (double)x->cnt[i];
    case MX_GROUP_FIRST: return (double)g->first_row[i];
    case MX_GROUP_LAST: return (double)g->last_row[i];
    default: return x->acc[i];
  }
}
