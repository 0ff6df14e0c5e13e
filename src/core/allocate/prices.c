/* Saving and re-applying dual prices: the scale-out path. Prices solved once
 * (on one machine or a sample) let every shard build its part of the plan
 * alone, with each limit split evenly between shards so that the
 * concatenated plans still meet every limit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_alloc_duals_from(const mx_alloc_problem *p, const mx_alloc_result *res,
                        const char *const *offer_names, mx_alloc_duals *d, mx_error *err) {
  memset(d, 0, sizeof *d);
  d->per_user = p->per_user;
  d->n_resources = p->n_resources;
  for (int k = 0; k < p->n_resources; k++) {
    snprintf(d->resource_name[k], MX_ALLOC_NAME_MAX, "%s", p->resource_name[k]);
    d->limit[k] = p->limit[k];
    d->lambda[k] = res->lambda[k];
  }
  size_t n = 0;
  for (uint32_t j = 0; j < p->n_offers; j++) n += isfinite(p->cap[j]) != 0;
  d->cap_offer = calloc(n ? n : 1, sizeof *d->cap_offer);
  d->cap_limit = malloc((n ? n : 1) * sizeof *d->cap_limit);
  d->cap_mu = malloc((n ? n : 1) * sizeof *d->cap_mu);
  if (!d->cap_offer || !d->cap_limit || !d->cap_mu) goto oom;
  char buf[32];
  for (uint32_t j = 0; j < p->n_offers; j++) {
    if (!isfinite(p->cap[j])) continue;
    const char *id = offer_names ? offer_names[j] : p->offers ? mx_idmap_name(p->offers, j) : buf;
    if (id == buf) snprintf(buf, sizeof buf, "%u", j);
    d->cap_offer[d->n_caps] = mx__strdup(id);
    if (!d->cap_offer[d->n_caps]) goto oom;
    d->cap_limit[d->n_caps] = p->cap[j];
    d->cap_mu[d->n_caps] = res->mu[j];
    d->n_caps++;
  }
  return MX_OK;
oom:
  mx_alloc_duals_free(d);
  return mx_error_set(err, MX_ENOMEM, "out of memory");
}

int mx_alloc_duals_write(const char *path, const mx_alloc_duals *d, mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  FILE *f = af.f;
  fprintf(f, "merx-duals 1\nper_user %u\n", d->per_user);
  for (int k = 0; k < d->n_resources; k++)
    fprintf(f, "resource\t%.17g\t%.17g\t%s\n", d->limit[k], d->lambda[k], d->resource_name[k]);
  for (size_t i = 0; i < d->n_caps; i++)
    fprintf(f, "cap\t%.17g\t%.17g\t%s\n", d->cap_limit[i], d->cap_mu[i], d->cap_offer[i]);
  if (d->shards > 0) fprintf(f, "shards %u\n", d->shards);
  for (uint32_t sh = 0; sh < d->shards; sh++) {
    for (int k = 0; k < d->n_resources; k++)
      fprintf(f, "quota\t%u\t%.17g\t%s\n", sh, d->quota[(size_t)sh * d->n_resources + k],
              d->resource_name[k]);
    for (size_t i = 0; i < d->n_caps; i++)
      fprintf(f, "cap_quota\t%u\t%.17g\t%s\n", sh, d->cap_quota[sh * d->n_caps + i],
              d->cap_offer[i]);
  }
  if (ferror(f)) {
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed");
  }
  return mx__atomic_commit(&af, err);
}

int mx_alloc_duals_save(const char *path, const mx_alloc_problem *p, const mx_alloc_result *res,
                        mx_error *err) {
  mx_alloc_duals d;
  int rc = mx_alloc_duals_from(p, res, NULL, &d, err);
  if (rc) return rc;
  rc = mx_alloc_duals_write(path, &d, err);
  mx_alloc_duals_free(&d);
  return rc;
}

void mx_alloc_duals_free(mx_alloc_duals *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_caps; i++) free(d->cap_offer[i]);
  free(d->cap_offer);
  free(d->cap_limit);
  free(d->cap_mu);
  free(d->quota);
  free(d->cap_quota);
  memset(d, 0, sizeof *d);
}

/* Split "a<TAB>b<TAB>rest": two numbers then a name (which may hold tabs). */
static int parse_entry(char *line, double *a, double *b, char **name) {
  char *t1 = strchr(line, '\t');
  if (!t1) return -1;
  char *t2 = strchr(t1 + 1, '\t');
  if (!t2) return -1;
  char *t3 = strchr(t2 + 1, '\t');
  if (!t3) return -1;
  *t2 = *t3 = '\0';
  *name = t3 + 1;
  if (mx_parse_double(t1 + 1, a) || mx_parse_double(t2 + 1, b)) return -1;
  return 0;
}

/* Record shard sh's quota of the resource (or capped offer) called name;
 * 0 when no earlier line names it. */
static int set_quota(mx_alloc_duals *d, int is_cap, uint32_t sh, const char *name, double use) {
  if (!is_cap) {
    for (int k = 0; k < d->n_resources; k++)
      if (strcmp(d->resource_name[k], name) == 0)
        return (d->quota[(size_t)sh * d->n_resources + k] = use, 1);
    return 0;
  }
  for (size_t i = 0; i < d->n_caps; i++)
    if (strcmp(d->cap_offer[i], name) == 0) return (d->cap_quota[sh * d->n_caps + i] = use, 1);
  return 0;
}

int mx_alloc_duals_load(const char *path, mx_alloc_duals *d, mx_error *err) {
  memset(d, 0, sizeof *d);
  char *data;
  size_t len;
  int rc = mx__read_file(path, &data, &len, err);
  if (rc) return rc;
  long lineno = 0;
  char *save = NULL;
  size_t capn = 0;
  rc = MX_OK;
  int header = 0;
  for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') line[n - 1] = '\0';
    if (!header) {
      if (strcmp(line, "merx-duals 1") != 0) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, NULL,
                         "not a merx duals file (expected 'merx-duals 1')");
        break;
      }
      header = 1;
      continue;
    }
    double a, b;
    char *name;
    if (strncmp(line, "per_user ", 9) == 0) {
      double m;
      if (mx_parse_double(line + 9, &m) || m < 1 || m > 1e6 || m != floor(m)) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, "per_user", "bad value");
        break;
      }
      d->per_user = (uint32_t)m;
    } else if (strncmp(line, "resource\t", 9) == 0) {
      if (parse_entry(line, &a, &b, &name) || !(b >= 0) || isnan(a)) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, "resource",
                         "expected resource<TAB>limit<TAB>price>=0<TAB>name");
        break;
      }
      if (d->n_resources >= MX_ALLOC_MAX_RESOURCES) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, "resource", "too many resources");
        break;
      }
      int k = d->n_resources++;
      snprintf(d->resource_name[k], MX_ALLOC_NAME_MAX, "%s", name);
      d->limit[k] = a;
      d->lambda[k] = b;
    } else if (strncmp(line, "cap\t", 4) == 0) {
      if (parse_entry(line, &a, &b, &name) || !(b >= 0) || !(a >= 0)) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, "cap",
                         "expected cap<TAB>limit>=0<TAB>price>=0<TAB>offer");
        break;
      }
      if (d->n_caps == capn) {
        size_t nc = capn ? capn * 2 : 16;
        char **o = realloc(d->cap_offer, nc * sizeof *o);
        if (o) d->cap_offer = o;
        double *l = realloc(d->cap_limit, nc * sizeof *l);
        if (l) d->cap_limit = l;
        double *mm = realloc(d->cap_mu, nc * sizeof *mm);
        if (mm) d->cap_mu = mm;
        if (!o || !l || !mm) {
          rc = mx_error_set(err, MX_ENOMEM, "out of memory");
          break;
        }
        capn = nc;
      }
      d->cap_offer[d->n_caps] = mx__strdup(name);
      if (!d->cap_offer[d->n_caps]) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      d->cap_limit[d->n_caps] = a;
      d->cap_mu[d->n_caps] = b;
      d->n_caps++;
    } else if (strncmp(line, "shards ", 7) == 0) {
      double m;
      if (d->shards || mx_parse_double(line + 7, &m) || m < 1 || m > 1e6 || m != floor(m)) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, "shards", "bad value");
        break;
      }
      /* quotas follow every resource and cap line; any unset stays -1 (refused below) */
      d->shards = (uint32_t)m;
      d->quota = malloc(((size_t)d->shards * d->n_resources + 1) * sizeof *d->quota);
      d->cap_quota = malloc((d->shards * d->n_caps + 1) * sizeof *d->cap_quota);
      if (!d->quota || !d->cap_quota) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      for (size_t i = 0; i < (size_t)d->shards * d->n_resources; i++) d->quota[i] = -1;
      for (size_t i = 0; i < d->shards * d->n_caps; i++) d->cap_quota[i] = -1;
    } else if (strncmp(line, "quota\t", 6) == 0 || strncmp(line, "cap_quota\t", 10) == 0) {
      int is_cap = line[0] == 'c';
      if (!d->shards || parse_entry(line, &a, &b, &name) || !(a >= 0) || a >= d->shards ||
          a != floor(a) || !(b >= 0) || !set_quota(d, is_cap, (uint32_t)a, name, b)) {
        rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, is_cap ? "cap_quota" : "quota",
                         "expected %s<TAB>shard<TAB>use>=0<TAB>name after 'shards N' and the "
                         "line that names it", is_cap ? "cap_quota" : "quota");
        break;
      }
    } else if (line[0] != '\0' && line[0] != '#') {
      rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, NULL, "unknown line '%.40s'", line);
      break;
    }
  }
  if (rc == MX_OK && !header)
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "empty duals file");
  if (rc == MX_OK && d->per_user == 0) d->per_user = 1;
  for (size_t i = 0; rc == MX_OK && i < (size_t)d->shards * d->n_resources; i++)
    if (d->quota[i] < 0) rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, "quota", "a quota is missing");
  for (size_t i = 0; rc == MX_OK && i < d->shards * d->n_caps; i++)
    if (d->cap_quota[i] < 0)
      rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, "cap_quota", "a quota is missing");
  free(data);
  if (rc) mx_alloc_duals_free(d);
  return rc;
}

double mx_alloc_duals_quota(const mx_alloc_duals *d, int is_cap, size_t index, double limit,
                            uint32_t shard, uint32_t shards) {
  if (d->shards != shards || shards <= 1 || !isfinite(limit)) return mx_alloc_quota(limit, shard, shards);
  const double *saved = is_cap ? d->cap_quota : d->quota;
  size_t stride = is_cap ? d->n_caps : (size_t)d->n_resources;
  double total = 0;
  for (uint32_t s = 0; s < shards; s++) total += saved[s * stride + index];
  double slack = limit - total;
  return saved[shard * stride + index] + (slack > 0 ? mx_alloc_quota(slack, shard, shards) : 0);
}

int mx_alloc_duals_install(const mx_alloc_duals *d, mx_alloc_problem *p, uint32_t shard,
                           uint32_t shards, double *lambda, double *mu, mx_error *err) {
  if (shards < 1) shards = 1;
  if (d->n_resources != p->n_resources)
    return mx_error_set(err, MX_EINVAL,
                        "the duals have %d cost constraints, the data %d: solve and apply with the "
                        "same cost columns",
                        d->n_resources, p->n_resources);
  for (int k = 0; k < p->n_resources; k++) {
    if (strcmp(d->resource_name[k], p->resource_name[k]) != 0)
      return mx_error_set(err, MX_EINVAL, "cost constraint %d is '%s' in the duals, '%s' here",
                          k + 1, d->resource_name[k], p->resource_name[k]);
    p->limit[k] = mx_alloc_duals_quota(d, 0, (size_t)k, d->limit[k], shard, shards);
    lambda[k] = d->lambda[k];
  }
  p->per_user = d->per_user;
  for (uint32_t j = 0; j < p->n_offers; j++) {
    p->cap[j] = INFINITY;
    mu[j] = 0;
  }
  for (size_t i = 0; i < d->n_caps; i++) {
    if (!p->offers) break;
    int64_t j = mx_idmap_find(p->offers, d->cap_offer[i], strlen(d->cap_offer[i]));
    if (j < 0) continue; /* no candidate of this offer in this shard */
    p->cap[j] = mx_alloc_duals_quota(d, 1, i, d->cap_limit[i], shard, shards);
    mu[j] = d->cap_mu[i];
  }
  return MX_OK;
}

double mx_alloc_quota(double limit, uint32_t shard, uint32_t shards) {
  if (shards <= 1 || !isfinite(limit)) return limit;
  if (limit != floor(limit) || limit > 0x1p52) {
    /* rounded down until the shards' quotas, added up, stay within the limit */
    double q = limit / shards;
    for (;;) {
      double sum = 0;
      for (uint32_t s = 0; s < shards; s++) sum += q;
      if (sum <= limit || q <= 0) return q;
      q = nextafter(q, 0);
    }
  }
  double base = floor(limit / shards), rest = limit - base * shards;
  return base + (shard < rest ? 1 : 0);
}

int mx_alloc_duals_set_quotas(mx_alloc_duals *d, const mx_alloc_problem *p,
                              const mx_alloc_result *res, const uint32_t *shard_of,
                              uint32_t shards, mx_error *err) {
  int K = p->n_resources;
  int64_t *cap_index = malloc((p->n_offers ? p->n_offers : 1) * sizeof *cap_index);
  double *q = calloc((size_t)shards * (K ? K : 1), sizeof *q);
  double *cq = calloc(shards * (d->n_caps ? d->n_caps : 1), sizeof *cq);
  if (!cap_index || !q || !cq) {
    free(cap_index);
    free(q);
    free(cq);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  size_t c = 0;
  for (uint32_t j = 0; j < p->n_offers; j++) cap_index[j] = isfinite(p->cap[j]) ? (int64_t)c++ : -1;
  uint32_t u = 0;
  for (uint64_t i = 0; i < res->assigned; i++) {
    uint64_t pos = res->chosen[i];
    while (p->indptr[u + 1] <= pos) u++;
    uint32_t sh = shard_of[u];
    for (int k = 0; k < K; k++) q[(size_t)sh * K + k] += p->cost[pos * (uint64_t)K + (uint64_t)k];
    if (cap_index[p->offer[pos]] >= 0) cq[sh * d->n_caps + (size_t)cap_index[p->offer[pos]]] += 1;
  }
  free(cap_index);
  free(d->quota);
  free(d->cap_quota);
  d->quota = q;
  d->cap_quota = cq;
  d->shards = shards;
  return MX_OK;
}
