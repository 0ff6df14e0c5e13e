/* Allocation instance: compact CSR storage, validation, and the row builder
 * that groups candidate rows by user and refuses duplicate (user, offer)
 * pairs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/allocate/internal.h"
#include "util/hugealloc.h"
#include "util/util.h"
#include "util/xxhash.h"

/* Candidate arrays are streamed once per price evaluation: from 64 MB on
 * they sit on transparent huge pages (util/hugealloc.h). */
static void *big_alloc(size_t size) { return mx__alloc_huge(size, (size_t)64 << 20); }

int mx_alloc_problem_create(uint32_t n_users, uint32_t n_offers, int n_resources,
                            uint64_t n_candidates, mx_alloc_problem **out, mx_error *err) {
  *out = NULL;
  if (n_resources < 0 || n_resources > MX_ALLOC_MAX_RESOURCES)
    return mx_error_set(err, MX_EINVAL, "%d resources: at most %d global cost constraints",
                        n_resources, MX_ALLOC_MAX_RESOURCES);
  mx_alloc_problem *p = calloc(1, sizeof *p);
  if (!p) return mx_error_set(err, MX_ENOMEM, "out of memory");
  p->n_users = n_users;
  p->n_offers = n_offers;
  p->n_resources = n_resources;
  p->n_candidates = n_candidates;
  p->per_user = 1;
  size_t nc = n_candidates ? (size_t)n_candidates : 1;
  p->indptr = malloc(((size_t)n_users + 1) * sizeof *p->indptr);
  p->offer = big_alloc(nc * sizeof *p->offer);
  p->value = big_alloc(nc * sizeof *p->value);
  p->cost = big_alloc(nc * (size_t)(n_resources ? n_resources : 1) * sizeof *p->cost);
  p->cap = malloc((n_offers ? n_offers : 1) * sizeof *p->cap);
  if (!p->indptr || !p->offer || !p->value || !p->cost || !p->cap) {
    mx_alloc_problem_free(p);
    return mx_error_set(err, MX_ENOMEM, "out of memory for %llu candidates",
                        (unsigned long long)n_candidates);
  }
  p->indptr[0] = 0;
  for (uint32_t j = 0; j < n_offers; j++) p->cap[j] = INFINITY;
  for (int k = 0; k < MX_ALLOC_MAX_RESOURCES; k++) {
    p->limit[k] = INFINITY;
    if (k == 0) snprintf(p->resource_name[k], MX_ALLOC_NAME_MAX, "cost");
    else snprintf(p->resource_name[k], MX_ALLOC_NAME_MAX, "cost%d", k + 1);
  }
  *out = p;
  return MX_OK;
}

void mx_alloc_problem_free(mx_alloc_problem *p) {
  if (!p) return;
  free(p->indptr);
  free(p->offer);
  free(p->value);
  free(p->cost);
  free(p->cap);
  mx_idmap_free(p->users);
  mx_idmap_free(p->offers);
  mx__alloc_groups_free(p);
  free(p);
}

static const char *offer_label(const mx_alloc_problem *p, uint32_t j, char *buf, size_t n) {
  if (p->offers && j < mx_idmap_size(p->offers)) return mx_idmap_name(p->offers, j);
  snprintf(buf, n, "#%u", j);
  return buf;
}

int mx_alloc_problem_check(const mx_alloc_problem *p, mx_error *err) {
  char b1[32];
  if (p->per_user < 1) return mx_error_set(err, MX_EINVAL, "per_user must be at least 1");
  if (p->n_candidates == 0) return mx_error_set(err, MX_EEMPTY, "no candidate (user, offer) pairs");
  for (int k = 0; k < p->n_resources; k++) {
    if (isnan(p->limit[k]))
      return mx_error_set(err, MX_EINVAL, "limit of '%s' is not a number", p->resource_name[k]);
    if (p->limit[k] < 0)
      return mx_error_set(err, MX_EINFEASIBLE,
                          "infeasible: limit of '%s' is %g < 0, and every plan spends at least 0",
                          p->resource_name[k], p->limit[k]);
  }
  for (uint32_t j = 0; j < p->n_offers; j++) {
    if (isnan(p->cap[j]) || p->cap[j] < 0)
      return mx_error_set(err, MX_EINFEASIBLE, "infeasible: cap of offer '%s' is %g < 0",
                          offer_label(p, j, b1, sizeof b1), p->cap[j]);
  }
  if (p->indptr[0] != 0 || p->indptr[p->n_users] != p->n_candidates)
    return mx_error_set(err, MX_EINVAL, "candidate index does not cover the arrays");
  uint32_t *stamp = calloc(p->n_offers ? p->n_offers : 1, sizeof *stamp);
  if (!stamp) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = MX_OK;
  int K = p->n_resources;
  for (uint32_t u = 0; u < p->n_users && rc == MX_OK; u++) {
    if (p->indptr[u + 1] < p->indptr[u]) {
      rc = mx_error_set(err, MX_EINVAL, "candidate index of user %u decreases", u);
      break;
    }
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++) {
      uint32_t j = p->offer[q];
      if (j >= p->n_offers) {
        rc = mx_error_set(err, MX_EINVAL, "user %u: offer index %u out of range", u, j);
        break;
      }
      if (stamp[j] == u + 1) {
        rc = mx_error_set(err, MX_EINVAL, "user %u: offer '%s' listed twice", u,
                          offer_label(p, j, b1, sizeof b1));
        break;
      }
      stamp[j] = u + 1;
      if (!isfinite(p->value[q])) {
        rc = mx_error_set(err, MX_EINVAL, "user %u offer '%s': value is not finite", u,
                          offer_label(p, j, b1, sizeof b1));
        break;
      }
      for (int k = 0; k < K; k++) {
        float c = p->cost[q * (uint64_t)K + (uint64_t)k];
        if (!isfinite(c) || c < 0) {
          rc = mx_error_set(err, MX_EINVAL, "user %u offer '%s': %s %g is not a finite cost >= 0",
                            u, offer_label(p, j, b1, sizeof b1), p->resource_name[k], (double)c);
          break;
        }
      }
      if (rc) break;
    }
  }
  free(stamp);
  return rc;
}

int mx_alloc_problem_set_cap(mx_alloc_problem *p, const char *offer, double cap, mx_error *err) {
  if (!p->offers) return mx_error_set(err, MX_ESTATE, "the problem has no offer ids");
  int64_t j = mx_idmap_find(p->offers, offer, strlen(offer));
  if (j < 0)
    return mx_error_at(err, MX_ENOTFOUND, NULL, 0, 0, "cap",
                       "unknown offer '%s' (no candidate row names it)", offer);
  if (isnan(cap) || cap < 0)
    return mx_error_set(err, MX_EINFEASIBLE, "infeasible: cap of offer '%s' is %g < 0", offer, cap);
  p->cap[j] = cap;
  return MX_OK;
}

/* ------------------------------------------------------------- builder */

struct mx_alloc_builder {
  int K;
  mx_idmap *users, *offers;
  uint64_t n, capacity;
  uint32_t *user, *offer;
  float *value, *cost;
  long *line;
  const char *file;
  const char *value_field;
  const char *cost_field[MX_ALLOC_MAX_RESOURCES];
  int failed;
};

mx_alloc_builder *mx_alloc_builder_create(int n_resources) {
  if (n_resources < 0 || n_resources > MX_ALLOC_MAX_RESOURCES) return NULL;
  mx_alloc_builder *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->K = n_resources;
  b->users = mx_idmap_create();
  b->offers = mx_idmap_create();
  if (!b->users || !b->offers) {
    mx_alloc_builder_free(b);
    return NULL;
  }
  b->value_field = "value";
  return b;
}

void mx_alloc_builder_free(mx_alloc_builder *b) {
  if (!b) return;
  mx_idmap_free(b->users);
  mx_idmap_free(b->offers);
  free(b->user);
  free(b->offer);
  free(b->value);
  free(b->cost);
  free(b->line);
  free(b);
}

void mx_alloc_builder_set_fields(mx_alloc_builder *b, const char *file, const char *value_field,
                                 const char *const *cost_fields) {
  b->file = file;
  if (value_field) b->value_field = value_field;
  for (int k = 0; k < b->K && cost_fields; k++) b->cost_field[k] = cost_fields[k];
}

static int grow(mx_alloc_builder *b) {
  uint64_t nc = b->capacity ? b->capacity * 2 : 1024;
  size_t K = (size_t)(b->K ? b->K : 1);
  uint32_t *u = realloc(b->user, nc * sizeof *u);
  if (u) b->user = u;
  uint32_t *o = realloc(b->offer, nc * sizeof *o);
  if (o) b->offer = o;
  float *v = realloc(b->value, nc * sizeof *v);
  if (v) b->value = v;
  float *c = realloc(b->cost, nc * K * sizeof *c);
  if (c) b->cost = c;
  long *l = realloc(b->line, nc * sizeof *l);
  if (l) b->line = l;
  if (!u || !o || !v || !c || !l) return MX_ENOMEM;
  b->capacity = nc;
  return MX_OK;
}

int mx_alloc_builder_add_offer(mx_alloc_builder *b, const char *offer, size_t len) {
  return mx_idmap_intern(b->offers, offer, len) < 0 ? MX_ENOMEM : MX_OK;
}

int mx_alloc_builder_add(mx_alloc_builder *b, const char *user, size_t user_len, const char *offer,
                         size_t offer_len, double value, const double *costs, long line,
                         mx_error *err) {
  if (!isfinite(value))
    return mx_error_at(err, MX_EPARSE, b->file, line, 0, b->value_field,
                       "value is not a finite number (NaN or infinite)");
  if (fabs(value) > 3e38)
    return mx_error_at(err, MX_EPARSE, b->file, line, 0, b->value_field, "value %g out of range",
                       value);
  for (int k = 0; k < b->K; k++) {
    const char *f = b->cost_field[k] ? b->cost_field[k] : "cost";
    if (!isfinite(costs[k]) || costs[k] > 3e38)
      return mx_error_at(err, MX_EPARSE, b->file, line, 0, f, "cost is not a finite number");
    if (costs[k] < 0)
      return mx_error_at(err, MX_EINVAL, b->file, line, 0, f,
                         "negative cost %g: costs must be >= 0 (model a rebate as a higher value)",
                         costs[k]);
  }
  if (b->n == b->capacity && grow(b) != MX_OK) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int64_t u = mx_idmap_intern(b->users, user, user_len);
  int64_t o = mx_idmap_intern(b->offers, offer, offer_len);
  if (u < 0 || o < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (u >= UINT32_MAX || o >= UINT32_MAX)
    return mx_error_set(err, MX_ELIMIT, "more than 2^32 - 1 users or offers");
  uint64_t i = b->n++;
  b->user[i] = (uint32_t)u;
  b->offer[i] = (uint32_t)o;
  b->value[i] = (float)value;
  for (int k = 0; k < b->K; k++) b->cost[i * (uint64_t)b->K + (uint64_t)k] = (float)costs[k];
  b->line[i] = line;
  return MX_OK;
}

int mx_alloc_builder_finish(mx_alloc_builder *b, mx_alloc_problem **out, mx_error *err) {
  *out = NULL;
  int rc;
  if (b->n == 0) {
    rc = mx_error_at(err, MX_EEMPTY, b->file, 0, 0, NULL, "no candidate (user, offer) rows");
    mx_alloc_builder_free(b);
    return rc;
  }
  uint32_t nu = mx_idmap_size(b->users), no = mx_idmap_size(b->offers);
  mx_alloc_problem *p;
  if ((rc = mx_alloc_problem_create(nu, no, b->K, b->n, &p, err)) != MX_OK) {
    mx_alloc_builder_free(b);
    return rc;
  }
  long *line = malloc(b->n * sizeof *line);
  uint64_t *next = calloc((size_t)nu + 1, sizeof *next);
  uint32_t *stamp = calloc(no ? no : 1, sizeof *stamp);
  uint64_t *where = malloc((no ? no : 1) * sizeof *where);
  if (!line || !next || !stamp || !where) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* Counting sort by user, stable, so each user's candidates keep file order. */
  for (uint64_t i = 0; i < b->n; i++) next[b->user[i] + 1]++;
  for (uint32_t u = 0; u < nu; u++) next[u + 1] += next[u];
  memcpy(p->indptr, next, ((size_t)nu + 1) * sizeof *next);
  size_t K = (size_t)b->K;
  for (uint64_t i = 0; i < b->n; i++) {
    uint64_t q = next[b->user[i]]++;
    p->offer[q] = b->offer[i];
    p->value[q] = b->value[i];
    if (K) memcpy(p->cost + q * K, b->cost + i * K, K * sizeof(float));
    line[q] = b->line[i];
  }
  for (uint32_t u = 0; u < nu; u++) {
    for (uint64_t q = p->indptr[u]; q < p->indptr[u + 1]; q++) {
      uint32_t j = p->offer[q];
      if (stamp[j] == u + 1) {
        uint64_t first = where[j];
        rc = mx_error_at(err, MX_EINVAL, b->file, line[q], 0, "offer",
                         "duplicate (user, offer) row: user '%s' offer '%s' already on line %ld "
                         "(aggregate or deduplicate the rows first)",
                         mx_idmap_name(b->users, u), mx_idmap_name(b->offers, j), line[first]);
        goto done;
      }
      stamp[j] = u + 1;
      where[j] = q;
    }
  }
  p->users = b->users;
  p->offers = b->offers;
  b->users = b->offers = NULL;
  *out = p;
  p = NULL;
  rc = MX_OK;
done:
  free(line);
  free(next);
  free(stamp);
  free(where);
  mx_alloc_problem_free(p);
  mx_alloc_builder_free(b);
  return rc;
}

uint32_t mx_alloc_shard_of(const char *id, size_t len, uint32_t shards) {
  return mx__shard_of(id, len, shards);
}

int mx_alloc_problem_subset(const mx_alloc_problem *p, const uint8_t *keep,
                            mx_alloc_problem **out, mx_error *err) {
  *out = NULL;
  if (p->n_group_constraints > 0)
    return mx_error_set(err, MX_EINVAL,
                        "parity constraints hold over all users together: they cannot be split "
                        "into shards");
  uint32_t nu = 0;
  uint64_t nc = 0;
  for (uint32_t u = 0; u < p->n_users; u++)
    if (keep[u]) {
      nu++;
      nc += p->indptr[u + 1] - p->indptr[u];
    }
  mx_alloc_problem *s;
  int rc = mx_alloc_problem_create(nu, p->n_offers, p->n_resources, nc, &s, err);
  if (rc) return rc;
  int K = p->n_resources;
  memcpy(s->limit, p->limit, sizeof s->limit);
  memcpy(s->resource_name, p->resource_name, sizeof s->resource_name);
  memcpy(s->cap, p->cap, (p->n_offers ? p->n_offers : 1) * sizeof *s->cap);
  s->per_user = p->per_user;
  s->users = mx_idmap_create();
  s->offers = p->offers ? mx_idmap_create() : NULL;
  if (!s->users || (p->offers && !s->offers)) goto oom;
  for (uint32_t j = 0; p->offers && j < p->n_offers; j++) {
    const char *id = mx_idmap_name(p->offers, j);
    if (mx_idmap_intern(s->offers, id, strlen(id)) < 0) goto oom;
  }
  uint32_t v = 0;
  uint64_t q = 0;
  for (uint32_t u = 0; u < p->n_users; u++) {
    if (!keep[u]) continue;
    char buf[32];
    const char *id = p->users ? mx_idmap_name(p->users, u) : buf;
    if (!p->users) snprintf(buf, sizeof buf, "u%u", u);
    if (mx_idmap_intern(s->users, id, strlen(id)) < 0) goto oom;
    for (uint64_t a = p->indptr[u]; a < p->indptr[u + 1]; a++, q++) {
      s->offer[q] = p->offer[a];
      s->value[q] = p->value[a];
      for (int k = 0; k < K; k++) s->cost[q * (uint64_t)K + (uint64_t)k] = p->cost[a * (uint64_t)K + (uint64_t)k];
    }
    s->indptr[++v] = q;
  }
  *out = s;
  return MX_OK;
oom:
  mx_alloc_problem_free(s);
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}
