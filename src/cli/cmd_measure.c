/* merx measure: per-arm and per-segment outcomes of a randomised campaign,
 * the uplift of each arm over the control with 95% intervals, the
 * sample-ratio check and CUPED (the statistics live in src/core/measure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lua/measure_store.h"
#include "merx/measure.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx measure --outcomes FILE [--columns user=..,arm=..] --metric NAME [--metric NAME ...]\n"
    "                    --control ARM [--segment COLUMN] [--json] [--html FILE] [--out FILE.csv]\n"
    "                    [--assignments FILE [--assignment-columns user=..,arm=..]]\n"
    "                    [--window FROM..TO] [--covariate COLUMN | --pre FILE [--pre-columns ..]]\n"
    "                    [--shares ARM=S,...] [--sep C] [--no-header]\n"
    "       merx measure --store DIR --experiment NAME [--run RUN_ID] --outcomes FILE ...\n\n"
    "Where the arms come from:\n"
    "  --columns arm=NAME   a per-user outcome table (one row per user, such as Hillstrom's):\n"
    "                       the metrics are its columns named by --metric\n"
    "  --assignments FILE   units (user, arm[, segment]) joined to the outcomes on user=;\n"
    "                       outcomes are event rows (user, time, value: metrics conversion =\n"
    "                       any event, revenue = sum of value, orders = count; all three by\n"
    "                       default) when --columns names time= or value=, else per-user rows\n"
    "                       whose --metric columns are summed. Users without outcome rows\n"
    "                       count 0; outcome rows of unknown users are counted and reported.\n"
    "  --store DIR --experiment NAME\n"
    "                       units from the store's ledger (default $MERX_STORE): every user\n"
    "                       exposed in experiment NAME (in run RUN_ID with --run), in the arm\n"
    "                       of their first assignment, joined to the outcomes as above; the\n"
    "                       experiment's control and shares are the defaults of --control and\n"
    "                       --shares; --segment stratum (the assignment's stratum) or a field\n"
    "                       of the user's first exposure record (--segment segment)\n"
    "Options:\n"
    "  --segment COLUMN     also report per value of COLUMN (in the file that holds the arms)\n"
    "  --window FROM..TO    event rows with FROM <= time <= TO only (ISO dates or times, epoch\n"
    "                       seconds; a date-only TO covers its day; either side may be empty)\n"
    "  --covariate COLUMN   CUPED with a pre-period column of the outcome table\n"
    "  --pre FILE           CUPED with a pre-period outcomes file (same layout, joined on user)\n"
    "  --shares ARM=S,...   planned arm shares for the sample-ratio check (default: equal)\n"
    "  --out FILE.csv       long table: segment,arm,metric,users,mean,lo95,hi95,diff,...\n"
    "  --html FILE          self-contained report, one chart per metric\n"
    "  --json               {arms, uplift, srm_p_value, ...} on stdout\n"
    "Intervals (95%): Newcombe's hybrid score interval for metrics whose values are all 0/1,\n"
    "Welch's t interval otherwise; p-values from the pooled two-proportion z test or Welch's t.\n"
    "\nExample:\n"
    "  merx measure --outcomes examples/data/hillstrom_sample.csv.gz --columns arm=segment\n"
    "      --metric visit --metric spend --control \"No E-Mail\" --html hillstrom.html\n";

static const char *const roles[] = {"user", "arm", "segment", "covariate", "time", "value", NULL};

static int write_file(const char *path, const mx_measure_result *r, int html, const char *title,
                      mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  if (html)
    mx_measure_write_html(r, title, af.f);
  else
    mx_measure_write_csv(r, af.f);
  return mx__atomic_commit(&af, err);
}

int mx__cmd_measure(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "measure",
                         "outcomes= metric* control= segment= json html= out= assignments= "
                         "assignment-columns= window= covariate= pre= pre-columns= shares= "
                         "store= experiment= run="
                         MX_CLI_INPUT_SPEC,
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  const char *experiment = mx__args_get(&a, "experiment", NULL);
  if ((rc = mx__args_require(&a, "outcomes")) || (!experiment && (rc = mx__args_require(&a, "control"))))
    return rc;
  const char *store = mx__args_get(&a, "store", NULL);
  if (store && !experiment) return mx__cli_usage("measure", "--store needs --experiment NAME");
  if (mx__args_has(&a, "run") && !experiment)
    return mx__cli_usage("measure", "--run needs --experiment NAME");
  if (experiment && !store) store = mx__store_from_env();
  if (experiment && !store)
    return mx__cli_usage("measure", "--experiment needs --store DIR (or MERX_STORE)");
  if (experiment && mx__args_has(&a, "assignments"))
    return mx__cli_usage("measure", "give --assignments or --experiment, not both");
  mx_ingest_options io;
  if ((rc = mx__cli_ingest_options(&a, roles, &io))) return rc;
  mx_measure_request req = mx_measure_request_defaults();
  req.csv = io.csv;
  req.columns = io.columns;
  mx_error err;
  mx_error_clear(&err);
  const char *metrics[MX_MEASURE_MAX_METRICS + 1];
  int nm = mx__args_all(&a, "metric", metrics, MX_MEASURE_MAX_METRICS + 1);
  if (nm > MX_MEASURE_MAX_METRICS)
    return mx__cli_usage("measure", "at most %d --metric options", MX_MEASURE_MAX_METRICS);
  req.opt.n_metrics = nm;
  for (int k = 0; k < nm; k++) req.opt.metrics[k] = metrics[k];
  req.opt.control = mx__args_get(&a, "control", NULL);
  char share_names[4096];
  const char *shares = mx__args_get(&a, "shares", NULL);
  if (shares && mx_measure_parse_shares(&req.opt, shares, share_names, sizeof share_names, &err))
    return mx__cli_usage("measure", "--shares: %s", err.message);
  const char *window = mx__args_get(&a, "window", NULL);
  if (window) {
    if (mx_measure_parse_window(window, &req.from, &req.to, &err))
      return mx__cli_usage("measure", "--window: %s", err.message);
    req.has_window = 1;
  }
  static const char *const unit_roles[] = {"user", "arm", "segment", NULL};
  const char *ac = mx__args_get(&a, "assignment-columns", NULL);
  if (ac && mx_columns_parse(ac, unit_roles, &req.assignment_columns, &err))
    return mx__cli_usage("measure", "--assignment-columns: %s", err.message);
  static const char *const pre_roles[] = {"user", "time", "value", NULL};
  const char *pc = mx__args_get(&a, "pre-columns", NULL);
  if (pc && mx_columns_parse(pc, pre_roles, &req.pre_columns, &err))
    return mx__cli_usage("measure", "--pre-columns: %s", err.message);
  req.outcomes = mx__args_get(&a, "outcomes", NULL);
  req.assignments = mx__args_get(&a, "assignments", NULL);
  req.pre = mx__args_get(&a, "pre", NULL);
  req.segment = mx__args_get(&a, "segment", NULL);
  req.covariate = mx__args_get(&a, "covariate", NULL);
  mx_measure_result *r = NULL;
  mx_measure_store ms;
  memset(&ms, 0, sizeof ms);
  char *ledger = experiment ? mx__store_ledger_path(store) : NULL;
  if (experiment && !ledger) return MX_EXIT_FAIL;
  if (experiment) {
    rc = mx__measure_store_open(&ms, ledger, experiment, mx__args_get(&a, "run", NULL), req.segment,
                               &req, &err);
    free(ledger);
    req.segment = NULL; /* the units carry it */
    if (rc) {
      mx__measure_store_close(&ms);
      if (rc == MX_EINVAL && !err.file[0]) return mx__cli_usage("measure", "%s", err.message);
      return mx__cli_fail("measure", &err);
    }
  }
  rc = mx_measure_run(&req, &r, &err);
  mx__measure_store_close(&ms);
  if (rc) {
    /* option combinations are usage errors; everything about the files is not */
    if (rc == MX_EINVAL && !err.file[0]) return mx__cli_usage("measure", "%s", err.message);
    return mx__cli_fail("measure", &err);
  }
  for (int w = 0; w < r->n_warnings; w++) fprintf(stderr, "merx measure: warning: %s\n", r->warnings[w]);
  const char *out = mx__args_get(&a, "out", NULL), *html = mx__args_get(&a, "html", NULL);
  char title[512];
  snprintf(title, sizeof title, "merx measure: %s", req.outcomes);
  if ((out && write_file(out, r, 0, NULL, &err)) || (html && write_file(html, r, 1, title, &err))) {
    mx_measure_result_free(r);
    return mx__cli_fail("measure", &err);
  }
  if (mx__args_has(&a, "json"))
    mx_measure_write_json(r, stdout);
  else
    mx_measure_write_text(r, stdout);
  mx_measure_result_free(r);
  return MX_EXIT_OK;
}
