/* merx audit: a fairness audit of a committed run (merx/audit.h): per group
 * of an attribute file, the share of users offered, mean offer value and
 * score, and the disparate-impact ratio with the four-fifths rule. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "lua/audit_store.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx audit --run RUN --attribute FILE:COLUMN [--store DIR | --log FILE]\n"
    "                  [--user-column NAME] [--kind KIND] [--value-field F] [--score-field F]\n"
    "                  [--threshold 0.8] [--json] [--out FILE.csv]\n\n"
    "Fairness audit of run RUN's decisions in the ledger (--store DIR, default\n"
    "$MERX_STORE). The attribute file (CSV/TSV, .gz, with a header) maps each user\n"
    "(column 'user', or --user-column) to a group (COLUMN). Per group: users, users\n"
    "offered (at least one decision of --kind, default every kind), their share with\n"
    "a Wilson 95% interval, the mean of the decision records' value and score fields,\n"
    "and the disparate-impact ratio share / share of the most favoured group. A ratio\n"
    "below --threshold (the four-fifths rule: 0.8) is flagged with a warning on\n"
    "stderr. Decided users without a row in the file form the group \"unknown\"\n"
    "(reported; no share, no ratio).\n"
    "  --json            {reference, threshold, min_ratio, flagged, users, offered,\n"
    "                    decisions, groups: [{group, users, offered, decisions, share,\n"
    "                    lo95, hi95, mean_value, mean_score, ratio, flagged}]}\n"
    "  --out FILE.csv    the same per group as CSV (written atomically)\n"
    "\nExample:\n"
    "  # RUN_ID: as printed by merx run and listed by merx explain\n"
    "  merx audit --store out/store --run RUN_ID --attribute customers.csv:region\n"
    "      --out audit.csv\n";

int mx__cmd_audit(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "audit",
                         "run= attribute= store= log= user-column= kind= value-field= "
                         "score-field= threshold= json out=",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx__cli_usage("audit", "unexpected argument '%s'", a.pos[0]);
  if ((rc = mx__args_require(&a, "run")) || (rc = mx__args_require(&a, "attribute"))) return rc;
  mx_audit_request req = {0};
  char file[4096];
  if (mx__audit_split_attribute(mx__args_get(&a, "attribute", NULL), file, sizeof file,
                               &req.group_column))
    return mx__cli_usage("audit", "--attribute: expected FILE:COLUMN, got '%s'",
                        mx__args_get(&a, "attribute", ""));
  if ((rc = mx__args_double(&a, "threshold", 0.8, 1e-9, 1, &req.threshold))) return rc;
  const char *store = mx__args_get(&a, "store", NULL), *log = mx__args_get(&a, "log", NULL);
  if (store && log) return mx__cli_usage("audit", "give --store or --log, not both");
  if (!store && !log) store = mx__store_from_env();
  if (!store && !log)
    return mx__cli_usage("audit", "missing --store DIR or --log FILE (or set MERX_STORE)");
  char *ledger = store ? mx__store_ledger_path(store) : mx__strdup(log);
  if (!ledger) return MX_EXIT_FAIL;
  req.ledger = ledger;
  req.store = store;
  req.run = mx__args_get(&a, "run", NULL);
  req.kind = mx__args_get(&a, "kind", NULL);
  req.attribute = file;
  req.user_column = mx__args_get(&a, "user-column", NULL);
  req.value_field = mx__args_get(&a, "value-field", NULL);
  req.score_field = mx__args_get(&a, "score-field", NULL);
  mx_error err;
  mx_error_clear(&err);
  mx_audit_result r;
  rc = mx__audit_store_run(&req, &r, &err);
  free(ledger);
  if (rc) return mx__cli_fail("audit", &err);
  const char *out = mx__args_get(&a, "out", NULL);
  if (out) {
    mx_atomic_file af;
    if ((rc = mx__atomic_open(&af, out, &err)) == MX_OK) {
      mx_audit_write_csv(&r, af.f);
      rc = mx__atomic_commit(&af, &err);
    }
    if (rc) {
      mx_audit_result_free(&r);
      return mx__cli_fail("audit", &err);
    }
  }
  if (mx__args_has(&a, "json")) mx_audit_write_json(&r, stdout);
  else mx_audit_write_text(&r, stdout);
  for (int i = 0; i < r.n_groups; i++)
    if (r.groups[i].flagged)
      fprintf(stderr,
              "merx audit: warning: group '%s' is offered at %.3f of the rate of '%s' (%.1f%% vs "
              "%.1f%%), below the four-fifths threshold %.2f\n",
              r.groups[i].name, r.groups[i].ratio, r.reference, 100 * r.groups[i].share,
              100 * r.groups[i].share / r.groups[i].ratio, r.threshold);
  mx_audit_result_free(&r);
  return MX_EXIT_OK;
}
