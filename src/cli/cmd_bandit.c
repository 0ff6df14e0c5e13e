/* merx bandit show: the posteriors merx.bandit keeps in the store's ledger
 * (store/bandit.h), for a planner to see what the nightly campaign learnt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/bandit.h"
#include "store/decisions.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx bandit show [--store DIR] [NAME] [--json]\n\n"
    "List the Beta posteriors of the bandits merx.bandit keeps in the store (default\n"
    "$MERX_STORE), or of bandit NAME: one line per arm that has seen an update,\n"
    "tab-separated: bandit, segment, offer, alpha, beta, mean = alpha / (alpha + beta),\n"
    "sd, evidence = alpha + beta, updated (run time of the last update). Arms without a\n"
    "line are at the script's prior.\n"
    "  --json   {\"arms\": [{\"bandit\", \"segment\", \"offer\", \"alpha\", \"beta\", \"mean\",\n"
    "           \"sd\", \"updated\"}], \"updates\": N (update batches of NAME)}\n"
    "\nExamples:\n"
    "  merx bandit show --store out/store\n"
    "  merx bandit show --store out/store --json\n";

typedef struct {
  int json;
  mx_json j;
  long n;
} show_ctx;

static int count_arm(void *ctx, const mx_bandit_arm_row *r) {
  (void)r;
  ((show_ctx *)ctx)->n++;
  return 1; /* one is enough */
}

static int show_arm(void *ctx, const mx_bandit_arm_row *r) {
  show_ctx *c = ctx;
  double a = r->alpha, b = r->beta, mean = a / (a + b);
  double sd = sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
  c->n++;
  if (c->json) {
    mx_json *j = &c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "bandit"); mx__json_string(j, r->bandit);
    mx__json_key(j, "segment"); mx__json_string(j, r->segment);
    mx__json_key(j, "offer"); mx__json_string(j, r->offer);
    mx__json_key(j, "alpha"); mx__json_double(j, a);
    mx__json_key(j, "beta"); mx__json_double(j, b);
    mx__json_key(j, "mean"); mx__json_double(j, mean);
    mx__json_key(j, "sd"); mx__json_double(j, sd);
    mx__json_key(j, "updated"); mx__json_string(j, r->updated);
    mx__json_object_end(j);
  } else {
    printf("%s\t%s\t%s\t%.6g\t%.6g\t%.6f\t%.6f\t%.6g\t%s\n", r->bandit, r->segment, r->offer, a,
           b, mean, sd, a + b, r->updated);
  }
  return 0;
}

static int bandit_show(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "bandit show", "store= json", argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos > 1) return mx__cli_usage("bandit show", "expected at most one bandit NAME");
  const char *store = mx__args_get(&a, "store", mx__store_from_env());
  if (!store) return mx__cli_usage("bandit show", "give --store DIR (or set MERX_STORE)");
  const char *name = a.npos ? a.pos[0] : NULL;
  char *ledger = mx__store_ledger_path(store);
  if (!ledger) return MX_EXIT_FAIL;
  mx_error err;
  mx_error_clear(&err);
  if (access(ledger, F_OK) != 0) {
    mx_error_at(&err, MX_ENOTFOUND, store, 0, 0, NULL,
                "no ledger in this store yet (no run has committed to it)");
    free(ledger);
    return mx__cli_fail("bandit show", &err);
  }
  mx_decision_log *log;
  rc = mx__decisions_open(ledger, 0, &log, &err);
  free(ledger);
  if (rc != MX_OK) return mx__cli_fail("bandit show", &err);
  show_ctx c;
  memset(&c, 0, sizeof c);
  c.json = -1; /* counting pass: a bandit the store lacks is an error before any output */
  if (name && (rc = mx__bandit_store_arms(log, name, count_arm, &c, NULL, &err)) == MX_OK &&
      c.n == 0)
    rc = mx_error_at(&err, MX_ENOTFOUND, store, 0, 0, NULL,
                     "no bandit '%s' in this store (no update was committed for it)", name);
  if (rc != MX_OK) {
    mx__decisions_close(log);
    return mx__cli_fail("bandit show", &err);
  }
  c.n = 0;
  c.json = mx__args_has(&a, "json");
  if (c.json) {
    mx__json_init(&c.j, stdout);
    mx__json_object_begin(&c.j);
    mx__json_key(&c.j, "arms");
    mx__json_array_begin(&c.j);
  } else {
    printf("bandit\tsegment\toffer\talpha\tbeta\tmean\tsd\tevidence\tupdated\n");
  }
  long updates = 0;
  rc = mx__bandit_store_arms(log, name, show_arm, &c, name ? &updates : NULL, &err);
  mx__decisions_close(log);
  if (c.json) {
    mx__json_array_end(&c.j);
    if (name) {
      mx__json_key(&c.j, "updates");
      mx__json_int(&c.j, updates);
    }
    mx__json_object_end(&c.j);
    fputc('\n', stdout);
  }
  if (rc != MX_OK) return mx__cli_fail("bandit show", &err);
  return MX_EXIT_OK;
}

int mx__cmd_bandit(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
    fputs("usage: merx bandit show [--store DIR] [NAME] [--json]   (merx bandit show --help)\n"
          "\nExamples:\n"
          "  merx bandit show --store out/store\n"
          "  merx bandit show --store out/store --json\n",
          argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (strcmp(argv[2], "show") == 0) return bandit_show(argc, argv);
  return mx__cli_unknown_subcommand("bandit", argv[2], "show");
}
