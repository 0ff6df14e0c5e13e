/* merx explain: why did this customer get this decision, and from which
 * script and files? Reads the store's ledger (or a decision log) written by
 * `merx run`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/decisions.h"
#include "store/experiments.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx explain [--store DIR | --log FILE] --user ID [--kind KIND] [--run RUN_ID]\n"
    "                    [--json]\n\n"
    "Print every logged decision for the user, oldest first: when and by which run and\n"
    "script (with its content hash and parameters) it was made, the record, the\n"
    "reason the script gave, and the run's lineage: merx version, the script's sha256\n"
    "and the path, sha256 and size of every model and data file it read. The ledger is\n"
    "the store's (--store DIR, default $MERX_STORE) or the decision log --log FILE.\n"
    "--json prints {\"user\": ..., \"decisions\": [{run_id, script, script_hash, params,\n"
    "time, committed_at, kind, record, reason, lineage}, ...]} (params and record as\n"
    "JSON; lineage {merx_version, script_sha256, inputs: [{path, sha256, bytes}]} or\n"
    "null for a run logged by an older merx), \"exposures\": [{run_id, experiment, arm,\n"
    "kind, delivered, time, record}]}.\n"
    "Then the user's exposures in experiments (merx.experiment): the arm and the\n"
    "decision delivered or, in the control arm, held out. Exits 1 when the user has\n"
    "neither a decision nor an exposure.\n"
    "\nExample:\n"
    "  merx explain --log out/spring/decisions.db --user 17511.0\n";

typedef struct {
  int json;
  mx_json *j;
  mx_decision_log *log;
  mx_error *err;
  int failed;
  long exposures;
} ctx;

static int show_lineage(ctx *c, const mx_decision_row *r) {
  mx_ledger_commit lc;
  int found;
  if (mx__decisions_lineage(c->log, r->run_id, &lc, &found, c->err) != MX_OK) {
    c->failed = 1;
    return 1;
  }
  if (c->json) {
    mx_json *j = c->j;
    mx__json_key(j, "lineage");
    if (!found) {
      mx__json_null(j);
      return 0;
    }
    mx__json_object_begin(j);
    mx__json_key(j, "merx_version"); mx__json_string(j, lc.merx_version);
    mx__json_key(j, "script_sha256"); mx__json_string(j, lc.script_sha256);
    mx__json_key(j, "inputs");
    mx__json_array_begin(j);
    for (int i = 0; i < lc.n_inputs; i++) {
      mx__json_object_begin(j);
      mx__json_key(j, "path"); mx__json_string(j, lc.inputs[i].path);
      mx__json_key(j, "sha256"); mx__json_string(j, lc.inputs[i].sha256);
      mx__json_key(j, "bytes"); mx__json_int(j, (int64_t)lc.inputs[i].bytes);
      mx__json_object_end(j);
    }
    mx__json_array_end(j);
    mx__json_object_end(j);
    return 0;
  }
  if (!found) return 0;
  printf("  lineage merx %s, script sha256 %s, %d input file%s\n", lc.merx_version,
         lc.script_sha256, lc.n_inputs, lc.n_inputs == 1 ? "" : "s");
  for (int i = 0; i < lc.n_inputs; i++)
    printf("    %s  sha256 %s  %llu bytes\n", lc.inputs[i].path, lc.inputs[i].sha256,
           (unsigned long long)lc.inputs[i].bytes);
  return 0;
}

/* Reasons and records are the script's text: written with control characters
 * (C0, DEL, UTF-8 C1) spelled out as \r, \n, \t or \xNN, so a reason cannot move
 * the cursor, erase a line or recolour the terminal to fake an "approved" line. */
static void put_text(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (*p == '\n') fputs("\\n", stdout);
    else if (*p == '\r') fputs("\\r", stdout);
    else if (*p == '\t') fputs("\\t", stdout);
    else if (*p < 0x20 || *p == 0x7f) printf("\\x%02x", *p);
    else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) printf("\\u%04x", *++p);
    else putchar(*p);
  }
}

static int show(void *p, const mx_decision_row *r) {
  ctx *c = p;
  if (c->json) {
    mx_json *j = c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "run_id"); mx__json_string(j, r->run_id);
    mx__json_key(j, "script"); mx__json_string(j, r->script);
    mx__json_key(j, "script_hash"); mx__json_string(j, r->script_hash);
    /* params and record are JSON objects already: written raw */
    mx__json_key(j, "params");
    fputs(r->params, j->f);
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx__json_key(j, "time"); mx__json_string(j, r->time);
    mx__json_key(j, "committed_at"); mx__json_string(j, r->committed_at);
    mx__json_key(j, "kind"); mx__json_string(j, r->kind);
    mx__json_key(j, "record");
    fputs(r->record, j->f);
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx__json_key(j, "reason"); mx__json_string(j, r->reason);
    if (show_lineage(c, r)) return 1;
    mx__json_object_end(j);
    return 0;
  }
  printf("%s  ", r->time);
  put_text(r->kind);
  printf("  run %s\n  record  ", r->run_id);
  put_text(r->record);
  fputs("\n  reason  ", stdout);
  put_text(r->reason);
  fputs("\n  script  ", stdout);
  put_text(r->script);
  printf(" (content hash %s), params ", r->script_hash);
  put_text(r->params);
  printf(", committed %s\n", r->committed_at);
  return show_lineage(c, r);
}

static int show_exposure(void *p, const mx_exposure_row *r) {
  ctx *c = p;
  c->exposures++;
  if (c->json) {
    mx_json *j = c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "run_id"); mx__json_string(j, r->run_id);
    mx__json_key(j, "experiment"); mx__json_string(j, r->experiment);
    mx__json_key(j, "arm"); mx__json_string(j, r->arm);
    mx__json_key(j, "kind"); mx__json_string(j, r->kind);
    mx__json_key(j, "delivered"); mx__json_bool(j, r->delivered);
    mx__json_key(j, "time"); mx__json_string(j, r->time);
    mx__json_key(j, "record");
    fputs(r->record, j->f); /* JSON already */
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx__json_object_end(j);
    return 0;
  }
  printf("%s  experiment ", r->time);
  put_text(r->experiment);
  fputs(": arm ", stdout);
  put_text(r->arm);
  printf(", %s  ", r->delivered ? "delivered" : "held out (no decision delivered)");
  put_text(r->kind);
  printf("  run %s\n  record  ", r->run_id);
  put_text(r->record);
  fputc('\n', stdout);
  return 0;
}

int mx__cmd_explain(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "explain", "log= store= user= kind= run= json", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx__cli_usage("explain", "unexpected argument '%s'", a.pos[0]);
  if ((rc = mx__args_require(&a, "user"))) return rc;
  const char *user = mx__args_get(&a, "user", NULL);
  /* With a store key the ledger holds pseudonyms: look the real id up by its
   * pseudonym (never printed beside it, so the output links nothing new). */
  char pseudonym[MX_PSEUDONYM_LEN + 1];
  mx_pseudonymiser *pseudo = NULL;
  int hashed = 0;
  if (!mx__args_has(&a, "log") &&
      (rc = mx__cli_pseudonymiser("explain", mx__args_get(&a, "store", mx__store_from_env()), &pseudo)))
    return rc;
  if (pseudo) {
    const char *p = mx__pseudonymise(pseudo, user, strlen(user));
    snprintf(pseudonym, sizeof pseudonym, "%s", p ? p : "");
    mx__pseudonymiser_free(pseudo);
    if (!p) return MX_EXIT_FAIL;
    user = pseudonym;
    hashed = 1;
  }
  char *ledger;
  mx_decision_log *log;
  if ((rc = mx__cli_open_ledger(&a, "explain", &ledger, &log))) return rc;
  const char *path = ledger;
  mx_error err;
  mx_error_clear(&err);
  ctx c = {mx__args_has(&a, "json"), NULL, log, &err, 0, 0};
  mx_json j;
  if (c.json) {
    mx__json_init(&j, stdout);
    c.j = &j;
    mx__json_object_begin(&j);
    mx__json_key(&j, "user"); mx__json_string(&j, user);
    mx__json_key(&j, "decisions");
    mx__json_array_begin(&j);
  }
  long n = mx__decisions_find(log, user, mx__args_get(&a, "kind", NULL), mx__args_get(&a, "run", NULL),
                             show, &c, &err);
  if (c.json) {
    mx__json_array_end(&j);
    mx__json_key(&j, "exposures");
    mx__json_array_begin(&j);
  }
  if (n >= 0 && !c.failed &&
      mx__experiments_user_exposures(log, user, show_exposure, &c, &err) != MX_OK)
    c.failed = 1;
  mx__decisions_close(log);
  if (c.json) {
    mx__json_array_end(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  }
  if (n < 0 || c.failed) {
    free(ledger);
    return mx__cli_fail("explain", &err);
  }
  if (n == 0 && c.exposures == 0) {
    fprintf(stderr, "merx explain: %s: no decision for user '%s'%s\n", path,
            mx__args_get(&a, "user", NULL), hashed ? " (unknown pseudonym)" : "");
    free(ledger);
    return MX_EXIT_FAIL;
  }
  free(ledger);
  return MX_EXIT_OK;
}
