/* merx explain: why did this customer get this decision? Reads the SQLite
 * decision log written by `merx run`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/decisions.h"
#include "util/util.h"

static const char *usage =
    "usage: merx explain --log FILE --user ID [--kind KIND] [--run RUN_ID] [--json]\n\n"
    "Print every logged decision for the user, oldest first: when and by which run and\n"
    "script (with its content hash and parameters) it was made, the record, and the\n"
    "reason the script gave. Exits 1 when the user has no decision in the log.\n"
    "--json prints {\"user\": ..., \"decisions\": [{run_id, script, script_hash, params,\n"
    "time, committed_at, kind, record, reason}, ...]} (params and record as JSON).\n";

typedef struct {
  int json;
  mx_json *j;
} ctx;

static int show(void *p, const mx_decision_row *r) {
  ctx *c = p;
  if (c->json) {
    mx_json *j = c->j;
    mx_json_object_begin(j);
    mx_json_key(j, "run_id"); mx_json_string(j, r->run_id);
    mx_json_key(j, "script"); mx_json_string(j, r->script);
    mx_json_key(j, "script_hash"); mx_json_string(j, r->script_hash);
    /* params and record are JSON objects already: written raw */
    mx_json_key(j, "params");
    fputs(r->params, j->f);
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx_json_key(j, "time"); mx_json_string(j, r->time);
    mx_json_key(j, "committed_at"); mx_json_string(j, r->committed_at);
    mx_json_key(j, "kind"); mx_json_string(j, r->kind);
    mx_json_key(j, "record");
    fputs(r->record, j->f);
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx_json_key(j, "reason"); mx_json_string(j, r->reason);
    mx_json_object_end(j);
    return 0;
  }
  printf("%s  %s  run %s\n", r->time, r->kind, r->run_id);
  printf("  record  %s\n", r->record);
  printf("  reason  %s\n", r->reason);
  printf("  script  %s (content hash %s), params %s, committed %s\n", r->script, r->script_hash,
         r->params, r->committed_at);
  return 0;
}

int mx_cmd_explain(int argc, char **argv) {
  mx_args a;
  int rc = mx_args_parse(&a, "explain", "log= user= kind= run= json", argc, argv, 2);
  if (rc) return rc;
  if (mx_cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx_cli_usage("explain", "unexpected argument '%s'", a.pos[0]);
  if ((rc = mx_args_require(&a, "log"))) return rc;
  if ((rc = mx_args_require(&a, "user"))) return rc;
  const char *path = mx_args_get(&a, "log", NULL), *user = mx_args_get(&a, "user", NULL);
  mx_error err;
  mx_error_clear(&err);
  mx_decision_log *log;
  if (mx_decisions_open(path, 0, &log, &err) != MX_OK) return mx_cli_fail("explain", &err);
  ctx c = {mx_args_has(&a, "json"), NULL};
  mx_json j;
  if (c.json) {
    mx_json_init(&j, stdout);
    c.j = &j;
    mx_json_object_begin(&j);
    mx_json_key(&j, "user"); mx_json_string(&j, user);
    mx_json_key(&j, "decisions");
    mx_json_array_begin(&j);
  }
  long n = mx_decisions_find(log, user, mx_args_get(&a, "kind", NULL), mx_args_get(&a, "run", NULL),
                             show, &c, &err);
  mx_decisions_close(log);
  if (c.json) {
    mx_json_array_end(&j);
    mx_json_object_end(&j);
    fputc('\n', stdout);
  }
  if (n < 0) return mx_cli_fail("explain", &err);
  if (n == 0) {
    fprintf(stderr, "merx explain: %s: no decision for user '%s'\n", path, user);
    return MX_EXIT_FAIL;
  }
  return MX_EXIT_OK;
}
