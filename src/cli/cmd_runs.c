/* merx runs: the run history of a schedule (its SQLite store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "merx/data.h"
#include "merx/schedule.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx runs [FILE | --store DIR] [--job NAME] [--limit N] [--json]\n\n"
    "List the run history, newest slot first. FILE is the schedule file (its `store`\n"
    "is read), a run-history .db file or a store folder; without FILE, --store DIR\n"
    "(default $MERX_STORE). One line per attempt, tab-separated:\n"
    "job, scheduled (job's local time), attempt, status, exit code, started (UTC),\n"
    "seconds, output files, error. Statuses: running, success, failed, timeout,\n"
    "stopped, replaced, abandoned, skipped (overlap), missed.\n"
    "  --job NAME   only this job\n"
    "  --limit N    at most N rows (default 50; 0 = all)\n"
    "  --json       one JSON object {\"runs\": [...]} with every column, outputs included\n"
    "\nExample:\n"
    "  merx runs examples/schedule.lua --job sales-summary-uk --limit 10\n";

typedef struct {
  int json;
  mx_json j;
  long n;
} list_ctx;

static long count_outputs(const char *json) {
  long n = 0;
  for (const char *p = json; (p = strstr(p, "\"path\":")); p++) n++;
  return n;
}

static void one_line(char *dst, size_t size, const char *s) {
  snprintf(dst, size, "%s", s ? s : "");
  for (char *p = dst; *p; p++)
    if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
}

static int print_row(void *ctx, const mx_run_row *r) {
  list_ctx *c = ctx;
  c->n++;
  char started[32] = "";
  if (r->started > 0) mx_format_time((int64_t)r->started, 0, started, sizeof started);
  if (c->json) {
    mx_json *j = &c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "id"); mx__json_int(j, r->id);
    mx__json_key(j, "job"); mx__json_string(j, r->job);
    mx__json_key(j, "scheduled"); mx__json_string(j, r->scheduled_local);
    mx__json_key(j, "scheduled_epoch"); mx__json_int(j, r->scheduled);
    mx__json_key(j, "attempt"); mx__json_int(j, r->attempt);
    mx__json_key(j, "status"); mx__json_string(j, r->status);
    mx__json_key(j, "started");
    if (r->started > 0) mx__json_double(j, r->started); else mx__json_null(j);
    mx__json_key(j, "ended");
    if (r->ended > 0) mx__json_double(j, r->ended); else mx__json_null(j);
    mx__json_key(j, "exit_code");
    if (r->exit_code >= 0) mx__json_int(j, r->exit_code); else mx__json_null(j);
    mx__json_key(j, "error"); mx__json_string(j, r->error);
    mx__json_key(j, "output_dir"); mx__json_string(j, r->output_dir);
    /* outputs is JSON text produced by the scheduler: embed it as is. */
    mx__json_key(j, "outputs");
    fputs(r->outputs && r->outputs[0] == '[' ? r->outputs : "[]", j->f);
    j->need_comma[j->depth] = 1;
    j->after_key = 0;
    mx__json_object_end(j);
    return 0;
  }
  char err[300], secs[32] = "", code[16] = "";
  one_line(err, sizeof err, r->error);
  if (r->started > 0 && r->ended > 0) snprintf(secs, sizeof secs, "%.1f", r->ended - r->started);
  if (r->exit_code >= 0) snprintf(code, sizeof code, "%d", r->exit_code);
  printf("%s\t%s\t%d\t%s\t%s\t%s\t%s\t%ld\t%s\n", r->job, r->scheduled_local, r->attempt,
         r->status, code, started, secs, count_outputs(r->outputs ? r->outputs : ""), err);
  return 0;
}

int mx__cmd_runs(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "runs", "job= limit= json store=", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  const char *store_dir = mx__args_get(&a, "store", NULL);
  if (a.npos > 1 || (a.npos == 1 && store_dir))
    return mx__cli_usage("runs", "expected one schedule FILE or --store DIR (see --help)");
  if (a.npos == 0 && !store_dir) store_dir = mx__store_from_env();
  if (a.npos == 0 && !store_dir)
    return mx__cli_usage("runs", "expected a schedule FILE or --store DIR (or set MERX_STORE)");
  long limit;
  if ((rc = mx__args_int(&a, "limit", 50, 0, 1000000000, &limit))) return rc;
  mx_error err;
  mx_error_clear(&err);
  struct stat st;
  if (a.npos == 1 && stat(a.pos[0], &st) == 0 && S_ISDIR(st.st_mode)) store_dir = a.pos[0];
  char *ledger = store_dir ? mx__store_ledger_path(store_dir) : NULL;
  if (store_dir && !ledger) return MX_EXIT_FAIL;
  const char *path = ledger ? ledger : a.pos[0];
  /* The store itself, or a schedule file naming it. */
  char magic[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f && ledger) {
    /* a store no run has written yet: an empty history */
    magic[0] = 0;
  } else if (!f) {
    mx_error_at(&err, MX_ENOTFOUND, path, 0, 0, NULL, "cannot open: no such file");
    return mx__cli_fail("runs", &err);
  }
  size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
  if (f) fclose(f);
  char *store;
  if (ledger || (got == 16 && memcmp(magic, "SQLite format 3", 16) == 0)) {
    store = mx__strdup(path);
  } else {
    mx_schedule *s;
    if (mx_schedule_load(path, &s, &err) != MX_OK) return mx__cli_fail("runs", &err);
    store = mx__strdup(s->store);
    mx_schedule_free(s);
  }
  list_ctx c;
  memset(&c, 0, sizeof c);
  c.json = mx__args_has(&a, "json");
  mx_runs *db = NULL;
  FILE *probe = fopen(store, "rb");
  if (probe) {
    fclose(probe);
    if (mx_runs_open(store, 1, &db, &err) != MX_OK) {
      free(store);
      free(ledger);
      return mx__cli_fail("runs", &err);
    }
  }
  if (c.json) {
    mx__json_init(&c.j, stdout);
    mx__json_object_begin(&c.j);
    mx__json_key(&c.j, "store"); mx__json_string(&c.j, store);
    mx__json_key(&c.j, "runs");
    mx__json_array_begin(&c.j);
  } else {
    printf("job\tscheduled\tattempt\tstatus\texit\tstarted\tseconds\toutputs\terror\n");
  }
  if (db) rc = mx_runs_list(db, mx__args_get(&a, "job", NULL), limit, print_row, &c, &err);
  if (c.json) {
    mx__json_array_end(&c.j);
    mx__json_object_end(&c.j);
    fputc('\n', stdout);
  }
  mx_runs_close(db);
  free(store);
  free(ledger);
  if (rc != MX_OK) return mx__cli_fail("runs", &err);
  if (!c.json && c.n == 0) fprintf(stderr, "no runs recorded yet\n");
  return MX_EXIT_OK;
}
