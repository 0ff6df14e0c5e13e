/* The store's privacy settings (PRIVACY.md):
 *
 *   DIR/store.key    the secret key of pseudonyms (any bytes, mode 0600: a
 *                    file others may read is refused); MERX_STORE_KEY, when
 *                    set, is the key instead (a store without the file)
 *   DIR/store.conf   policy, one `name = value` a line, # comments:
 *                      retain_days = N            decisions, exposures, run
 *                                                 tails, caches and stored
 *                                                 queries older than
 *                                                 N days go at `merx vacuum`
 *                      retain_decisions_days, retain_exposures_days,
 *                      retain_runs_days, retain_cache_days,
 *                      retain_queries_days = N    per place
 *                      store_queries = yes|no     keep search queries and chat
 *                                                 turns (redacted); default no
 *
 * The key is read into an HMAC state (util/pseudonym.h) and its bytes wiped;
 * it is never printed, logged or written anywhere else. */
#ifndef MERX_STORE_PRIVACY_H
#define MERX_STORE_PRIVACY_H

#include "merx/error.h"
#include "util/pseudonym.h"

#define MX_STORE_KEY "store.key"
#define MX_STORE_CONFIG "store.conf"

/* The store's key: *has_key = 0 when neither MERX_STORE_KEY nor DIR/store.key
 * exists (dir may be NULL: the environment only). A key file readable or
 * writable by group or others, or an empty key: MX_EINVAL naming the file. */
int mx__store_key(const char *dir, mx_hmac_key *key, int *has_key, mx_error *err);

/* Retention in days per place (0: kept for ever) and the minimum-data switch. */
typedef struct mx_store_policy {
  int retain_decisions_days, retain_exposures_days, retain_runs_days, retain_cache_days;
  int retain_queries_days;
  int store_queries;
} mx_store_policy;

/* DIR/store.conf (all zero when absent). An unknown name (with a did-you-mean)
 * or a bad value: MX_EPARSE naming file, line and name. */
int mx__store_policy_load(const char *dir, mx_store_policy *p, mx_error *err);

#endif
