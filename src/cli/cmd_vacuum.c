/* merx vacuum: apply the store's retention policy (store.conf, PRIVACY.md). */
#include <stdio.h>
#include <time.h>

#include "cli/cli.h"
#include "merx/csv.h"
#include "store/retention.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx vacuum --store DIR [--now TIME] [--json]\n\n"
    "Apply the store's retention policy (DIR/store.conf: retain_days, or per place\n"
    "retain_decisions_days, retain_exposures_days, retain_runs_days,\n"
    "retain_cache_days, retain_queries_days): decisions and exposures committed more\n"
    "than N days before --now (default: the clock), assignments left without\n"
    "exposures, scheduler runs and their output tails, stored queries, cache files.\n"
    "Then the ledger is rebuilt with\n"
    "secure_delete on, so the file shrinks and freed pages keep no old bytes. Without\n"
    "a policy nothing is deleted (the ledger is still compacted). Run it nightly: a\n"
    "`vacuum = true` job of merx schedule, cron or a systemd timer (PRIVACY.md).\n"
    "\nExample:\n"
    "  merx vacuum --store store --json\n";

int mx__cmd_vacuum(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "vacuum", "store= now= json", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx__cli_usage("vacuum", "unexpected argument '%s'", a.pos[0]);
  const char *dir = mx__args_get(&a, "store", mx__store_from_env());
  if (!dir) return mx__cli_usage("vacuum", "missing --store DIR (or set MERX_STORE)");
  int64_t now = (int64_t)time(NULL);
  const char *nows = mx__args_get(&a, "now", NULL);
  if (nows && mx_parse_time(nows, &now) != 0)
    return mx__cli_usage("vacuum", "--now: expected an ISO 8601 time or epoch seconds, got '%s'",
                        nows);
  mx_error err;
  mx_error_clear(&err);
  mx_store_policy p;
  mx_vacuum_counts c;
  if (mx__store_policy_load(dir, &p, &err) != MX_OK ||
      mx__store_vacuum(dir, &p, now, &c, &err) != MX_OK)
    return mx__cli_fail("vacuum", &err);
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "removed");
    mx__json_object_begin(&j);
    mx__json_key(&j, "decisions"); mx__json_int(&j, c.decisions);
    mx__json_key(&j, "exposures"); mx__json_int(&j, c.exposures);
    mx__json_key(&j, "assignments"); mx__json_int(&j, c.assignments);
    mx__json_key(&j, "runs"); mx__json_int(&j, c.runs);
    mx__json_key(&j, "cache_files"); mx__json_int(&j, c.cache_files);
    mx__json_key(&j, "queries"); mx__json_int(&j, c.queries);
    mx__json_object_end(&j);
    mx__json_key(&j, "bytes_before"); mx__json_int(&j, c.bytes_before);
    mx__json_key(&j, "bytes_after"); mx__json_int(&j, c.bytes_after);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("removed %ld decisions, %ld exposures, %ld assignments, %ld runs, %ld cache files, "
           "%ld stored queries; ledger %lld -> %lld bytes\n",
           c.decisions, c.exposures, c.assignments, c.runs, c.cache_files, c.queries,
           (long long)c.bytes_before, (long long)c.bytes_after);
  }
  return MX_EXIT_OK;
}
