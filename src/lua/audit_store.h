/* A fairness audit of a committed run read from the ledger (audit_store.c),
 * shared by `merx audit` and merx.audit{ run = RUN }. */
#ifndef MERX_LUA_AUDIT_STORE_H
#define MERX_LUA_AUDIT_STORE_H

#include "merx/audit.h"

typedef struct mx_audit_request {
  const char *ledger;           /* the ledger file (mx__store_ledger_path) */
  const char *store;            /* its store folder, for the key (NULL: --log) */
  const char *run;              /* run id, required */
  const char *kind;             /* decisions of this kind only; NULL: every kind */
  const char *attribute;        /* attribute file: user -> group */
  const char *group_column;     /* its group column */
  const char *user_column;      /* its user column (NULL: "user") */
  const char *value_field;      /* record field of the offer value (NULL: "value") */
  const char *score_field;      /* record field of the predicted score (NULL: "score") */
  double threshold;             /* <= 0: 0.8 */
} mx_audit_request;

/* Audit req->run: the population from the attribute file, the run's
 * decisions from the ledger. A run the ledger does not know is MX_ENOTFOUND.
 * res owned by the caller (mx_audit_result_free), also on error. */
int mx__audit_store_run(const mx_audit_request *req, mx_audit_result *res, mx_error *err);

/* With the store's key (DIR/store.key or MERX_STORE_KEY; store may be NULL:
 * the environment only), a's attribute user ids become their pseudonyms.
 * *ps (NULL without a key) must outlive the reads; free it after. */
#include "util/pseudonym.h"
int mx__audit_use_store_key(mx_audit *a, const char *store, mx_pseudonymiser **ps,
                           mx_error *err);

/* Split "FILE:COLUMN" at its last ':' into buf (file) and *column; 0 or -1
 * when there is no ':' or either side is empty. */
int mx__audit_split_attribute(const char *spec, char *buf, size_t size, const char **column);

#endif
