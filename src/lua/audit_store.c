/* A fairness audit of a committed run (`merx audit --run`, merx.audit{ run
 * = }): the run's decisions from the ledger, the population from the
 * attribute file, the figures from the core (merx/audit.h). Plain C in the
 * lua layer, the lowest that sees both the store and the core. */
#include "lua/audit_store.h"

#include <string.h>
#include <unistd.h>

#include "store/decisions.h"
#include "store/privacy.h"
#include "util/util.h"

typedef struct add_ctx {
  mx_audit *a;
  mx_error *err;
  int rc;
} add_ctx;

static int add(void *p, const char *user, size_t len, double value, double score) {
  add_ctx *c = p;
  if (!user) return 0; /* a decision about no one (a summary row) has no group */
  c->rc = mx_audit_add_decision(c->a, user, len, value, score, c->err);
  return c->rc;
}

int mx__audit_store_run(const mx_audit_request *req, mx_audit_result *res, mx_error *err) {
  memset(res, 0, sizeof *res);
  if (access(req->ledger, F_OK) != 0)
    return mx_error_at(err, MX_ENOTFOUND, req->ledger, 0, 0, NULL,
                       "no ledger in this store (nothing was committed to it)");
  mx_audit *a = NULL;
  mx_decision_log *log = NULL;
  mx_pseudonymiser *ps = NULL;
  int rc = mx_audit_create(&a, err);
  if (rc == MX_OK) rc = mx__audit_use_store_key(a, req->store, &ps, err);
  if (rc == MX_OK)
    rc = mx_audit_read_attribute(a, req->attribute, req->group_column, req->user_column, err);
  if (rc == MX_OK) rc = mx__decisions_open(req->ledger, 0, &log, err);
  if (rc == MX_OK) {
    add_ctx c = {a, err, MX_OK};
    int runs = 0;
    long n = mx__decisions_values(log, req->run, req->kind, req->value_field, req->score_field,
                                 &runs, add, &c, err);
    if (n < 0) rc = (int)n;
    else if (c.rc) rc = c.rc;
    else if (!runs)
      rc = mx_error_at(err, MX_ENOTFOUND, req->ledger, 0, 0, "run",
                       "run '%s' is not in the ledger (merx explain and the run's summary "
                       "name run ids)",
                       req->run);
  }
  if (rc == MX_OK) rc = mx_audit_finish(a, req->threshold, res, err);
  mx__decisions_close(log);
  mx_audit_free(a);
  mx__pseudonymiser_free(ps);
  return rc;
}

int mx__audit_use_store_key(mx_audit *a, const char *store, mx_pseudonymiser **ps,
                           mx_error *err) {
  *ps = NULL;
  mx_hmac_key key;
  int has = 0;
  int rc = mx__store_key(store, &key, &has, err);
  if (rc || !has) return rc;
  *ps = mx__pseudonymiser_create(&key);
  mx__hmac_key_clear(&key);
  if (!*ps) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_audit_set_rewrite(a, mx__pseudonymise_rewrite_rows, *ps); /* per row: memoised */
  return MX_OK;
}

int mx__audit_split_attribute(const char *spec, char *buf, size_t size, const char **column) {
  const char *colon = spec ? strrchr(spec, ':') : NULL;
  if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= size) return -1;
  memcpy(buf, spec, (size_t)(colon - spec));
  buf[colon - spec] = 0;
  *column = colon + 1;
  return 0;
}
