/* merx schedule: print fire times, run due jobs once, or run the scheduler
 * daemon for a schedule file (see docs/cli/schedule.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "merx/data.h"
#include "merx/schedule.h"
#include "util/util.h"

static const char *usage =
    "usage: merx schedule FILE --next N [--from ISO8601] [--json]\n"
    "       merx schedule FILE --once [--now ISO8601] [--exec BIN] [--grace S]\n"
    "       merx schedule FILE --rerun JOB --slot ISO8601 [--exec BIN] [--grace S]\n"
    "       merx schedule FILE [--now ISO8601] [--exec BIN] [--grace S]\n"
    "       (the last three forms also take --store DIR)\n\n"
    "FILE is Lua returning { store = \"runs.db\", outputs = \"outputs\", jobs = { {...} } }\n"
    "with jobs { name =, cron =, tz =, script =, params =, timeout =, retries =,\n"
    "retry_delay =, overlap = \"forbid\"|\"allow\"|\"replace\", missed = \"skip\"|\"latest\"|\"all\" };\n"
    "a job with vacuum = true (no script) runs merx vacuum on the store at each slot.\n\n"
    "  --next N      print the next N fire times of every job (JOB<TAB>local time with\n"
    "                offset), jobs in file order, then exit\n"
    "  --from T      start instant for --next, exclusive (default now); ISO 8601, no\n"
    "                offset = UTC\n"
    "  --once        run the jobs that are due now (and missed ones, per `missed`),\n"
    "                wait for them and their retries, then exit (1 if a run failed)\n"
    "  --rerun JOB --slot T   run that slot of JOB again now (with its retries) and\n"
    "                exit; its committed outputs are replaced in one step\n"
    "  (neither)     run as a daemon until SIGTERM/SIGINT; SIGHUP reloads FILE\n"
    "  --now T       pretend the clock reads T at start (rehearsals and tests)\n"
    "  --exec BIN    run jobs as `BIN run SCRIPT --out DIR ...` (default: this merx)\n"
    "  --store DIR   the store every run commits to (ledger and run history), over\n"
    "                the file's `store` and $MERX_STORE; caps then hold across slots\n"
    "  --grace S     seconds between SIGTERM and SIGKILL for a run being stopped\n"
    "                (timeout, shutdown, overlap=replace); default 10\n"
    "  --json        with --next: one JSON object {\"jobs\":[{\"name\",\"tz\",\"times\"}]}\n"
    "\nExamples:\n"
    "  merx schedule examples/schedule.lua --next 3\n"
    "  merx schedule examples/schedule.lua --once --now 2026-03-30T02:30:20+01:00\n";

static void log_line(void *ctx, const char *line) {
  (void)ctx;
  char ts[32];
  mx_format_time((int64_t)time(NULL), 0, ts, sizeof ts);
  fprintf(stderr, "%s %s\n", ts, line);
  fflush(stderr);
}

static int print_next(const mx_schedule *s, long n, int64_t from, int json) {
  mx_json j;
  if (json) {
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "jobs");
    mx__json_array_begin(&j);
  }
  for (int i = 0; i < s->njobs; i++) {
    const mx_job *job = &s->jobs[i];
    if (json) {
      mx__json_object_begin(&j);
      mx__json_key(&j, "name"); mx__json_string(&j, job->name);
      mx__json_key(&j, "cron"); mx__json_string(&j, job->cron_text);
      mx__json_key(&j, "tz"); mx__json_string(&j, mx_tz_name(job->tz));
      mx__json_key(&j, "times");
      mx__json_array_begin(&j);
    }
    int64_t t = from;
    for (long k = 0; k < n; k++) {
      if (mx_cron_next(&job->cron, job->tz, t, &t) != MX_OK) {
        fprintf(stderr, "merx schedule: %s: job '%s': no fire time within 8 years after the "
                        "last one printed ('%s')\n", s->path, job->name, job->cron_text);
        break;
      }
      char buf[40];
      mx_tz_format(job->tz, t, buf, sizeof buf);
      if (json) mx__json_string(&j, buf);
      else printf("%s\t%s\n", job->name, buf);
    }
    if (json) {
      mx__json_array_end(&j);
      mx__json_object_end(&j);
    }
  }
  if (json) {
    mx__json_array_end(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  }
  return fflush(stdout) == 0 ? MX_EXIT_OK : MX_EXIT_FAIL;
}

int mx__cmd_schedule(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "schedule",
                         "next= from= once now= exec= grace= json rerun= slot= store=", argc,
                         argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos != 1) return mx__cli_usage("schedule", "expected one schedule FILE (see --help)");
  const char *path = a.pos[0];
  int has_next = mx__args_has(&a, "next"), once = mx__args_has(&a, "once");
  if (has_next && once) return mx__cli_usage("schedule", "--next and --once exclude each other");
  if (mx__args_has(&a, "from") && !has_next)
    return mx__cli_usage("schedule", "--from goes with --next (use --now to shift the clock)");
  if (mx__args_has(&a, "json") && !has_next)
    return mx__cli_usage("schedule", "--json goes with --next");
  if (has_next && (mx__args_has(&a, "now") || mx__args_has(&a, "exec") || mx__args_has(&a, "grace")))
    return mx__cli_usage("schedule", "--now, --exec and --grace do not apply to --next");
  const char *rerun = mx__args_get(&a, "rerun", NULL), *slot = mx__args_get(&a, "slot", NULL);
  if (!rerun != !slot) return mx__cli_usage("schedule", "--rerun JOB and --slot T go together");
  if (rerun && (has_next || once || mx__args_has(&a, "now")))
    return mx__cli_usage("schedule", "--rerun excludes --next, --once and --now");
  int64_t slot_at = 0;
  if (slot && mx_parse_time(slot, &slot_at) != 0)
    return mx__cli_usage("schedule", "--slot: expected an ISO 8601 time, got '%s'", slot);
  long n;
  if ((rc = mx__args_int(&a, "next", 5, 1, 100000, &n))) return rc;
  double grace;
  if ((rc = mx__args_double(&a, "grace", 10, 0, 3600, &grace))) return rc;
  int64_t from = (int64_t)time(NULL), now_at = 0;
  const char *fs = mx__args_get(&a, "from", NULL), *ns = mx__args_get(&a, "now", NULL);
  if (fs && mx_parse_time(fs, &from) != 0)
    return mx__cli_usage("schedule", "--from: expected an ISO 8601 time, got '%s'", fs);
  if (ns && mx_parse_time(ns, &now_at) != 0)
    return mx__cli_usage("schedule", "--now: expected an ISO 8601 time, got '%s'", ns);

  mx_error err;
  mx_error_clear(&err);
  if (has_next) {
    mx_schedule *s;
    if (mx_schedule_load(path, &s, &err) != MX_OK) return mx__cli_fail("schedule", &err);
    rc = print_next(s, n, from, mx__args_has(&a, "json"));
    mx_schedule_free(s);
    return rc;
  }
  mx_sched_options opt;
  memset(&opt, 0, sizeof opt);
  opt.once = once;
  opt.grace = grace;
  opt.exe = mx__args_get(&a, "exec", NULL);
  opt.log = log_line;
  opt.rerun_job = rerun;
  opt.rerun_slot = slot_at;
  opt.store_dir = mx__args_get(&a, "store", NULL);
  if (opt.store_dir && !*opt.store_dir)
    return mx__cli_usage("schedule", "--store: empty folder name");
  if (ns) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    opt.now_offset = (double)now_at - ((double)ts.tv_sec + ts.tv_nsec * 1e-9);
  }
  if (mx_sched_run(path, &opt, &err) != MX_OK) return mx__cli_fail("schedule", &err);
  return MX_EXIT_OK;
}
