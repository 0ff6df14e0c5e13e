/* Fairness audit of a decision run (merx/audit.h): per group of an attribute
 * table, the share of users offered with its Wilson interval, mean offer
 * value and predicted score, and the disparate-impact ratio against the most
 * favoured group (the four-fifths rule, 29 CFR 1607.4(D)). The population
 * lives in id maps (one string copy per user); a decision costs one hash
 * look-up, so a million decisions audit in well under a second. */
#include "merx/audit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/csv.h"
#include "merx/idmap.h"
#include "merx/measure.h"
#include "util/util.h"

typedef struct acc {
  long users, offered, decisions, valued, scored;
  double sum_value, sum_score;
} acc;

struct mx_audit {
  mx_idmap *users, *groups, *unknown_users;
  uint32_t *group_of; /* per population user */
  long *line_of;      /* its row, for the duplicate error */
  uint8_t *offered;   /* per population user */
  uint8_t *unknown_offered;
  size_t cap_users, cap_unknown, cap_groups;
  acc *acc;           /* per group */
  acc unknown;
  mx_audit_rewrite_fn rewrite;
  void *rewrite_ctx;
};

void mx_audit_set_rewrite(mx_audit *a, mx_audit_rewrite_fn fn, void *ctx) {
  a->rewrite = fn;
  a->rewrite_ctx = ctx;
}

int mx_audit_create(mx_audit **out, mx_error *err) {
  mx_audit *a = calloc(1, sizeof *a);
  if (a) {
    a->users = mx_idmap_create();
    a->groups = mx_idmap_create();
    a->unknown_users = mx_idmap_create();
  }
  if (!a || !a->users || !a->groups || !a->unknown_users) {
    mx_audit_free(a);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  *out = a;
  return MX_OK;
}

void mx_audit_free(mx_audit *a) {
  if (!a) return;
  mx_idmap_free(a->users);
  mx_idmap_free(a->groups);
  mx_idmap_free(a->unknown_users);
  free(a->group_of);
  free(a->line_of);
  free(a->offered);
  free(a->unknown_offered);
  free(a->acc);
  free(a);
}

/* Grow *p (elements of size sz) to hold n + 1; *cap tracks the capacity. */
static int grow(void **p, size_t *cap, size_t n, size_t sz) {
  if (n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : 1024;
  while (c <= n) c *= 2;
  void *q = realloc(*p, c * sz);
  if (!q) return -1;
  memset((char *)q + *cap * sz, 0, (c - *cap) * sz);
  *p = q;
  *cap = c;
  return 0;
}

int mx_audit_add_member(mx_audit *a, const char *user, size_t user_len, const char *group,
                        size_t group_len, const char *file, long line, mx_error *err) {
  if (group_len == 0)
    return mx_error_at(err, MX_EPARSE, file, line, 0, "group", "empty group for user '%.*s'",
                       (int)(user_len > 64 ? 64 : user_len), user);
  uint32_t before = mx_idmap_size(a->users);
  int64_t u = mx_idmap_intern(a->users, user, user_len);
  if (u < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if ((uint32_t)u < before)
    return mx_error_at(err, MX_EPARSE, file, line, 0, "user",
                       "user '%.*s' is listed twice (first on line %ld)",
                       (int)(user_len > 64 ? 64 : user_len), user, a->line_of[u]);
  uint32_t gbefore = mx_idmap_size(a->groups);
  int64_t g = mx_idmap_intern(a->groups, group, group_len);
  if (g < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  size_t c = a->cap_users;
  if (grow((void **)&a->group_of, &c, (size_t)u, sizeof *a->group_of)) goto oom;
  c = a->cap_users;
  if (grow((void **)&a->line_of, &c, (size_t)u, sizeof *a->line_of)) goto oom;
  c = a->cap_users;
  if (grow((void **)&a->offered, &c, (size_t)u, sizeof *a->offered)) goto oom;
  a->cap_users = c;
  if ((uint32_t)g >= gbefore && grow((void **)&a->acc, &a->cap_groups, (size_t)g, sizeof *a->acc))
    goto oom;
  a->group_of[u] = (uint32_t)g;
  a->line_of[u] = line;
  a->acc[g].users++;
  return MX_OK;
oom:
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}

int mx_audit_read_attribute(mx_audit *a, const char *path, const char *group_column,
                            const char *user_column, mx_error *err) {
  mx_csv_options o = mx_csv_defaults();
  mx_csv *csv = NULL;
  int rc = mx_csv_open(path, &o, &csv, err);
  if (rc) return rc;
  mx_columns cols;
  memset(&cols, 0, sizeof cols);
  if ((rc = mx_columns_set(&cols, "user", user_column ? user_column : "user", err)) ||
      (rc = mx_columns_set(&cols, "group", group_column, err)) ||
      (rc = mx_columns_resolve(&cols, csv, err))) {
    mx_csv_close(csv);
    return rc;
  }
  int cu = mx_columns_index(&cols, "user"), cg = mx_columns_index(&cols, "group");
  char **f;
  size_t *len, nf;
  while ((rc = mx_csv_next(csv, &f, &len, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    int need = cu > cg ? cu : cg;
    if ((size_t)need >= nf) {
      const char *field = (size_t)cu >= nf ? (user_column ? user_column : "user") : group_column;
      rc = mx_error_at(err, MX_EPARSE, path, line, need + 1, field,
                       "missing field (the row has %zu)", nf);
      break;
    }
    if (len[cu] == 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, cu + 1, user_column ? user_column : "user",
                       "empty user id");
      break;
    }
    const char *user = f[cu];
    size_t ulen = len[cu];
    if (a->rewrite && !(user = a->rewrite(a->rewrite_ctx, f[cu], len[cu], &ulen))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    if ((rc = mx_audit_add_member(a, user, ulen, f[cg], len[cg], path, line, err))) {
      if (rc != MX_EPARSE || !err) break;
      err->column = strcmp(err->field, "user") == 0 ? cu + 1 : cg + 1;
      snprintf(err->field, sizeof err->field, "%s",
               err->column == cu + 1 ? (user_column ? user_column : "user") : group_column);
      break;
    }
  }
  mx_csv_close(csv);
  return rc < 0 ? rc : MX_OK;
}

const char *mx_audit_group_of(const mx_audit *a, const char *user, size_t user_len) {
  int64_t u = mx_idmap_find(a->users, user, user_len);
  return u < 0 ? NULL : mx_idmap_name(a->groups, a->group_of[u]);
}

long mx_audit_group_size(const mx_audit *a, const char *group) {
  int64_t g = mx_idmap_find(a->groups, group, strlen(group));
  return g < 0 ? 0 : a->acc[g].users;
}

int mx_audit_add_decision(mx_audit *a, const char *user, size_t user_len, double value,
                          double score, mx_error *err) {
  acc *g;
  int64_t u = mx_idmap_find(a->users, user, user_len);
  if (u >= 0) {
    g = &a->acc[a->group_of[u]];
    if (!a->offered[u]) {
      a->offered[u] = 1;
      g->offered++;
    }
  } else {
    uint32_t before = mx_idmap_size(a->unknown_users);
    int64_t k = mx_idmap_intern(a->unknown_users, user, user_len);
    if (k < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
    g = &a->unknown;
    if ((uint32_t)k >= before) g->offered++, g->users++;
  }
  g->decisions++;
  if (!isnan(value)) g->valued++, g->sum_value += value;
  if (!isnan(score)) g->scored++, g->sum_score += score;
  return MX_OK;
}

static int by_name(const void *x, const void *y) {
  return strcmp(((const mx_audit_group *)x)->name, ((const mx_audit_group *)y)->name);
}

int mx_audit_finish(const mx_audit *a, double threshold, mx_audit_result *res, mx_error *err) {
  memset(res, 0, sizeof *res);
  res->threshold = threshold > 0 ? threshold : 0.8;
  uint32_t G = mx_idmap_size(a->groups);
  int n = (int)G + (a->unknown.decisions > 0);
  size_t bytes = 0;
  for (uint32_t g = 0; g < G; g++) bytes += strlen(mx_idmap_name(a->groups, g)) + 1;
  res->groups = calloc((size_t)n + 1, sizeof *res->groups);
  res->names = malloc(bytes + sizeof MX_AUDIT_UNKNOWN);
  if (!res->groups || !res->names) {
    mx_audit_result_free(res);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char *at = res->names;
  double best = 0;
  for (int i = 0; i < n; i++) {
    int unknown = (uint32_t)i == G;
    const acc *c = unknown ? &a->unknown : &a->acc[i];
    mx_audit_group *o = &res->groups[i];
    const char *name = unknown ? MX_AUDIT_UNKNOWN : mx_idmap_name(a->groups, (uint32_t)i);
    size_t l = strlen(name) + 1;
    memcpy(at, name, l);
    o->name = at;
    at += l;
    o->unknown = unknown;
    o->users = c->users;
    o->offered = c->offered;
    o->decisions = c->decisions;
    o->valued = c->valued;
    o->scored = c->scored;
    o->mean_value = c->valued ? c->sum_value / (double)c->valued : NAN;
    o->mean_score = c->scored ? c->sum_score / (double)c->scored : NAN;
    o->share = o->lo95 = o->hi95 = o->ratio = NAN;
    if (!unknown && c->users > 0) {
      o->share = (double)c->offered / (double)c->users;
      mx_wilson_interval((double)c->offered, (double)c->users, 0.95, &o->lo95, &o->hi95);
      if (o->share > best) best = o->share;
    }
    res->users += unknown ? 0 : c->users;
    res->offered += c->offered;
    res->decisions += c->decisions;
  }
  /* population groups by name (the id map's order is the file's), "unknown" last */
  qsort(res->groups, G, sizeof *res->groups, by_name);
  res->n_groups = n;
  res->min_ratio = NAN;
  for (int i = 0; i < n; i++) {
    mx_audit_group *o = &res->groups[i];
    if (o->unknown || !(best > 0)) continue;
    o->ratio = o->share / best;
    if (o->share == best && !res->reference) res->reference = o->name;
    o->flagged = o->ratio < res->threshold;
    res->flagged += o->flagged;
    if (isnan(res->min_ratio) || o->ratio < res->min_ratio) res->min_ratio = o->ratio;
  }
  return MX_OK;
}

void mx_audit_result_free(mx_audit_result *res) {
  if (!res) return;
  free(res->groups);
  free(res->names);
  memset(res, 0, sizeof *res);
}

/* ---------------------------------------------------------------- reports */

void mx_audit_write_json(const mx_audit_result *r, FILE *f) {
  mx_json j;
  mx__json_init(&j, f);
  mx__json_object_begin(&j);
  mx__json_key(&j, "reference");
  if (r->reference) mx__json_string(&j, r->reference);
  else mx__json_null(&j);
  mx__json_key(&j, "threshold"); mx__json_double_exact(&j, r->threshold);
  mx__json_key(&j, "min_ratio"); mx__json_double_exact(&j, r->min_ratio);
  mx__json_key(&j, "flagged"); mx__json_int(&j, r->flagged);
  mx__json_key(&j, "users"); mx__json_int(&j, r->users);
  mx__json_key(&j, "offered"); mx__json_int(&j, r->offered);
  mx__json_key(&j, "decisions"); mx__json_int(&j, r->decisions);
  mx__json_key(&j, "groups");
  mx__json_array_begin(&j);
  for (int i = 0; i < r->n_groups; i++) {
    const mx_audit_group *g = &r->groups[i];
    mx__json_object_begin(&j);
    mx__json_key(&j, "group"); mx__json_string(&j, g->name);
    mx__json_key(&j, "users"); mx__json_int(&j, g->users);
    mx__json_key(&j, "offered"); mx__json_int(&j, g->offered);
    mx__json_key(&j, "decisions"); mx__json_int(&j, g->decisions);
    mx__json_key(&j, "share"); mx__json_double_exact(&j, g->share);
    mx__json_key(&j, "lo95"); mx__json_double_exact(&j, g->lo95);
    mx__json_key(&j, "hi95"); mx__json_double_exact(&j, g->hi95);
    mx__json_key(&j, "mean_value"); mx__json_double_exact(&j, g->mean_value);
    mx__json_key(&j, "mean_score"); mx__json_double_exact(&j, g->mean_score);
    mx__json_key(&j, "ratio"); mx__json_double_exact(&j, g->ratio);
    mx__json_key(&j, "flagged"); mx__json_bool(&j, g->flagged);
    mx__json_object_end(&j);
  }
  mx__json_array_end(&j);
  mx__json_object_end(&j);
  fputc('\n', f);
}

static void csv_num(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, ",%.10g", v);
  else fputc(',', f);
}

void mx_audit_write_csv(const mx_audit_result *r, FILE *f) {
  fputs("group,users,offered,decisions,share,lo95,hi95,mean_value,mean_score,ratio,flagged\n", f);
  for (int i = 0; i < r->n_groups; i++) {
    const mx_audit_group *g = &r->groups[i];
    mx_csv_write_field(f, g->name, ',');
    fprintf(f, ",%ld,%ld,%ld", g->users, g->offered, g->decisions);
    csv_num(f, g->share);
    csv_num(f, g->lo95);
    csv_num(f, g->hi95);
    csv_num(f, g->mean_value);
    csv_num(f, g->mean_score);
    csv_num(f, g->ratio);
    fprintf(f, ",%d\n", g->flagged);
  }
}

static void text_num(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%10.3f", v);
  else fprintf(f, "%10s", "n/a");
}

void mx_audit_write_text(const mx_audit_result *r, FILE *f) {
  fprintf(f, "%-16s %9s %9s %8s %17s %10s %10s %7s\n", "group", "users", "offered", "share",
          "95% interval", "mean value", "mean score", "ratio");
  for (int i = 0; i < r->n_groups; i++) {
    const mx_audit_group *g = &r->groups[i];
    fprintf(f, "%-16.16s %9ld %9ld ", g->name, g->users, g->offered);
    if (isfinite(g->share)) fprintf(f, "%7.1f%% [%6.1f%%, %6.1f%%] ", 100 * g->share,
                                    100 * g->lo95, 100 * g->hi95);
    else fprintf(f, "%8s %17s ", "n/a", "");
    text_num(f, g->mean_value);
    fputc(' ', f);
    text_num(f, g->mean_score);
    if (isfinite(g->ratio)) fprintf(f, " %7.3f%s\n", g->ratio, g->flagged ? "  below" : "");
    else fprintf(f, " %7s\n", "n/a");
  }
  if (r->reference)
    fprintf(f, "most favoured group: %s; lowest ratio %.3f (four-fifths threshold %.2f)\n",
            r->reference, r->min_ratio, r->threshold);
  for (int i = 0; i < r->n_groups; i++)
    if (r->groups[i].unknown)
      fprintf(f, "%ld offered users have no row in the attribute file (group \"%s\")\n",
              r->groups[i].offered, MX_AUDIT_UNKNOWN);
}
