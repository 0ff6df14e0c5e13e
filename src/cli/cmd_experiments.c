/* merx experiments: the experiments of a store's ledger (merx.experiment in
 * scripts): their definitions, users and exposures per arm, and their
 * assignments or exposures as CSV for any other tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "merx/data.h"
#include "store/experiments.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx experiments [--store DIR | --log FILE] [NAME] [--json]\n"
    "       merx experiments [--store DIR | --log FILE] NAME (--assignments | --exposures)\n\n"
    "List the experiments in the ledger (--store DIR, default $MERX_STORE, or the\n"
    "decision log --log FILE): name, salt, arms and shares, stratify column, control\n"
    "arm, the first run, and per arm the users assigned, users exposed, exposures,\n"
    "delivered exposures (control: 0) and the first and last exposure time.\n"
    "--assignments prints NAME's assignments as CSV (user,arm,stratum,run_id,\n"
    "assigned_at); --exposures its exposures (run_id,arm,user,kind,delivered,time,\n"
    "record). Exits 1 when NAME is not in the ledger.\n"
    "--json prints {\"experiments\": [{name, salt, arms: [{arm, share, users,\n"
    "exposed_users, exposures, delivered, first_exposure, last_exposure}], stratify,\n"
    "control, created, run_id}]}.\n"
    "\nExamples:\n"
    "  merx experiments --store out/store\n"
    "  merx experiments --store out/store spring --assignments > arms.csv\n";

typedef struct ctx {
  mx_decision_log *log;
  mx_error *err;
  mx_json *j; /* NULL: text */
  int failed, n;
} ctx;

static int show_arm(void *p, const mx_arm_summary *a) {
  ctx *c = p;
  if (c->j) {
    mx_json *j = c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "arm"); mx__json_string(j, a->arm);
    mx__json_key(j, "share"); mx__json_double(j, a->share);
    mx__json_key(j, "users"); mx__json_int(j, a->users);
    mx__json_key(j, "exposed_users"); mx__json_int(j, a->exposed_users);
    mx__json_key(j, "exposures"); mx__json_int(j, a->exposures);
    mx__json_key(j, "delivered"); mx__json_int(j, a->delivered);
    mx__json_key(j, "first_exposure");
    if (a->first) mx__json_string(j, a->first);
    else mx__json_null(j);
    mx__json_key(j, "last_exposure");
    if (a->last) mx__json_string(j, a->last);
    else mx__json_null(j);
    mx__json_object_end(j);
    return 0;
  }
  printf("  %-16s share %-6g users %-8ld exposed %-8ld exposures %-8ld delivered %-8ld %s .. %s\n",
         a->arm, a->share, a->users, a->exposed_users, a->exposures, a->delivered,
         a->first ? a->first : "-", a->last ? a->last : "-");
  return 0;
}

static int show(void *p, const mx_experiment_def *d) {
  ctx *c = p;
  c->n++;
  if (c->j) {
    mx_json *j = c->j;
    mx__json_object_begin(j);
    mx__json_key(j, "name"); mx__json_string(j, d->name);
    mx__json_key(j, "salt"); mx__json_string(j, d->salt);
    mx__json_key(j, "stratify");
    if (d->stratify) mx__json_string(j, d->stratify);
    else mx__json_null(j);
    mx__json_key(j, "control"); mx__json_string(j, d->control);
    mx__json_key(j, "created"); mx__json_string(j, d->created);
    mx__json_key(j, "run_id"); mx__json_string(j, d->run_id);
    mx__json_key(j, "arms");
    mx__json_array_begin(j);
  } else {
    char desc[1024];
    mx__experiments_describe(d, desc, sizeof desc);
    printf("%s: %s; first run %s at %s\n", d->name, desc, d->run_id, d->created);
  }
  if (mx__experiments_summary(c->log, d->name, show_arm, c, c->err) != MX_OK) {
    c->failed = 1;
    return 1;
  }
  if (c->j) {
    mx__json_array_end(c->j);
    mx__json_object_end(c->j);
  }
  return 0;
}

static int count_one(void *p, const mx_experiment_def *d) {
  (void)d;
  ((ctx *)p)->n++;
  return 0;
}

static int print_assignment(void *p, const mx_assignment_row *r) {
  (void)p;
  const char *f[5] = {r->user, r->arm, r->stratum ? r->stratum : "", r->run_id, r->assigned_at};
  for (int i = 0; i < 5; i++) {
    if (i) putchar(',');
    mx_csv_write_field(stdout, f[i], ',');
  }
  putchar('\n');
  return 0;
}

static int print_exposure(void *p, const mx_exposure_row *r) {
  (void)p;
  const char *f[7] = {r->run_id, r->arm, r->user, r->kind, r->delivered ? "1" : "0", r->time,
                      r->record};
  for (int i = 0; i < 7; i++) {
    if (i) putchar(',');
    mx_csv_write_field(stdout, f[i], ',');
  }
  putchar('\n');
  return 0;
}

int mx__cmd_experiments(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "experiments", "log= store= json assignments exposures", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos > 1) return mx__cli_usage("experiments", "unexpected argument '%s'", a.pos[1]);
  const char *name = a.npos ? a.pos[0] : NULL;
  int as = mx__args_has(&a, "assignments"), ex = mx__args_has(&a, "exposures");
  if (as + ex + mx__args_has(&a, "json") > 1)
    return mx__cli_usage("experiments", "give one of --assignments, --exposures, --json");
  if ((as || ex) && !name)
    return mx__cli_usage("experiments", "--%s needs an experiment NAME",
                        as ? "assignments" : "exposures");
  char *ledger;
  mx_decision_log *log;
  if ((rc = mx__cli_open_ledger(&a, "experiments", &ledger, &log))) return rc;
  const char *path = ledger;
  mx_error err;
  mx_error_clear(&err);
  mx_json j;
  ctx c = {log, &err, NULL, 0, 0};
  if (as || ex) {
    /* the experiment must exist, even with no rows */
    rc = mx__experiments_each(log, name, count_one, &c, &err);
    if (rc == MX_OK && c.n == 0) {
      fprintf(stderr, "merx experiments: %s: no experiment '%s'\n", path, name);
      mx__decisions_close(log);
      free(ledger);
      return MX_EXIT_FAIL;
    }
    if (rc == MX_OK && as) {
      fputs("user,arm,stratum,run_id,assigned_at\n", stdout);
      rc = mx__experiments_assignments(log, name, print_assignment, NULL, &err);
    } else if (rc == MX_OK) {
      fputs("run_id,arm,user,kind,delivered,time,record\n", stdout);
      rc = mx__experiments_exposures(log, name, NULL, print_exposure, NULL, &err);
    }
  } else {
    if (mx__args_has(&a, "json")) {
      mx__json_init(&j, stdout);
      c.j = &j;
      mx__json_object_begin(&j);
      mx__json_key(&j, "experiments");
      mx__json_array_begin(&j);
    }
    rc = mx__experiments_each(log, name, show, &c, &err);
    if (c.failed) rc = MX_EIO;
    if (c.j) {
      mx__json_array_end(&j);
      mx__json_object_end(&j);
      fputc('\n', stdout);
    }
  }
  mx__decisions_close(log);
  if (rc != MX_OK) {
    free(ledger);
    return mx__cli_fail("experiments", &err);
  }
  if (name && !as && !ex && c.n == 0) {
    fprintf(stderr, "merx experiments: %s: no experiment '%s'\n", path, name);
    free(ledger);
    return MX_EXIT_FAIL;
  }
  free(ledger);
  return MX_EXIT_OK;
}
