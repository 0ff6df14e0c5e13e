/* The ledger a reading command names (explain, experiments): --store DIR
 * (default $MERX_STORE) or --log FILE, opened, never created; and the store's
 * pseudonymiser. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "store/decisions.h"
#include "store/privacy.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

int mx__cli_open_ledger(const mx_args *a, const char *cmd, char **path, mx_decision_log **log) {
  *path = NULL;
  *log = NULL;
  const char *file = mx__args_get(a, "log", NULL), *store = mx__args_get(a, "store", NULL);
  if (store && file) return mx__cli_usage(cmd, "give --store or --log, not both");
  if (!store && !file) store = mx__store_from_env();
  if (!store && !file)
    return mx__cli_usage(cmd, "missing --store DIR or --log FILE (or set MERX_STORE)");
  *path = store ? mx__store_ledger_path(store) : mx__strdup(file);
  if (!*path) return MX_EXIT_FAIL;
  mx_error err;
  mx_error_clear(&err);
  if (mx__decisions_open(*path, 0, log, &err) != MX_OK) {
    free(*path);
    *path = NULL;
    return mx__cli_fail(cmd, &err);
  }
  return MX_EXIT_OK;
}

int mx__cli_pseudonymiser(const char *cmd, const char *store_dir, mx_pseudonymiser **out) {
  *out = NULL;
  mx_hmac_key key;
  int has = 0;
  mx_error err;
  mx_error_clear(&err);
  if (mx__store_key(store_dir, &key, &has, &err) != MX_OK) return mx__cli_fail(cmd, &err);
  if (!has) return 0;
  *out = mx__pseudonymiser_create(&key);
  mx__hmac_key_clear(&key);
  if (!*out) {
    fprintf(stderr, "merx %s: out of memory\n", cmd);
    return MX_EXIT_FAIL;
  }
  return 0;
}

int mx__cli_ingest_pseudonyms(const mx_args *a, mx_ingest_options *opt,
                             mx_pseudonymiser **out) {
  int rc = mx__cli_pseudonymiser(a->cmd, mx__args_get(a, "store", mx__store_from_env()), out);
  if (rc == 0 && *out) {
    opt->user_rewrite = mx__pseudonymise_rewrite;
    opt->user_rewrite_ctx = *out;
    opt->user_rewrite_check = mx__hmac_key_check(mx__pseudonymiser_key(*out));
  }
  return rc;
}
