/* Saving and re-applying dual prices: the scale-out path. Prices solved once
 * (on one machine or a sample) let every shard build its part of the plan
 * alone, with each limit split evenly between shards so that the
 * concatenated plans still meet every limit. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"
#include "util/util.h"

int mx_alloc_duals_save(const char *path, const mx_alloc_problem *p, const mx_alloc_result *res,
                        mx_error *err) {
  mx_atomic_file af;
  int rc = mx_atomic_open(&af, path, err);
  if (rc) return rc;
  FILE *f = af.f;
  fprintf(f, "merx-duals 1\nper_user %u\n", p->per_user);
  for (int k = 0; k < p->n_resources; k++)
    fprintf(f, "resource\t%.17g\t%.17g\t%s\n", p->limit[k], res->lambda[k], p->resource_name[k]);
  char buf[32];
  for (uint32_t j = 0; j < p->n_offers; j++) {
    if (!isfinite(p->cap[j])) continue;
    const char *id = p->offers ? mx_idmap_name(p->offers, j) : buf;
    if (!p->offers) snprintf(buf, sizeof buf, "%u", j);
    fprintf(f, "cap\t%.17g\t%.17g\t%s\n", p->cap[j], res->mu[j], id);
  }
  if (ferror(f)) {
    mx_atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed");
  }
  return mx_atomic_commit(&af, err);
}

void mx_alloc_duals_free(mx_alloc_duals *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_caps; i++) free(d->cap_offer[i]);
  free(d->cap_offer);
  free(d->cap_limit);
  free(d->cap_mu);
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

int mx_alloc_duals_load(const char *path, mx_alloc_duals *d, mx_error *err) {
  memset(d, 0, sizeof *d);
  char *data;
  size_t len;
  int rc = mx_read_file(path, &data, &len, err);
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
      d->cap_offer[d->n_caps] = mx_strdup(name);
      if (!d->cap_offer[d->n_caps]) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      d->cap_limit[d->n_caps] = a;
      d->cap_mu[d->n_caps] = b;
      d->n_caps++;
    } else if (line[0] != '\0' && line[0] != '#') {
      rc = mx_error_at(err, MX_EFORMAT, path, lineno, 0, NULL, "unknown line '%.40s'", line);
      break;
    }
  }
  if (rc == MX_OK && !header)
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "empty duals file");
  if (rc == MX_OK && d->per_user == 0) d->per_user = 1;
  free(data);
  if (rc) mx_alloc_duals_free(d);
  return rc;
}

int mx_alloc_duals_install(const mx_alloc_duals *d, mx_alloc_problem *p, uint32_t shards,
                           double *lambda, double *mu, mx_error *err) {
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
    p->limit[k] = d->limit[k] / shards;
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
    p->cap[j] = floor(d->cap_limit[i] / shards);
    mu[j] = d->cap_mu[i];
  }
  return MX_OK;
}
