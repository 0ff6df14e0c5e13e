/* merx run: run a sandboxed Lua rule script (merx/script.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "merx/script.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx run SCRIPT.lua [--set KEY=VALUE ...] [--dry-run] [--out DIR]\n"
    "                [--store DIR | --log FILE] [--format csv|jsonl|both]\n"
    "                [--timeout SECONDS] [--memory MB] [--busy-timeout SECONDS]\n"
    "                [--now TIME] [--shard I/N [--duals FILE]] [--solve FILE [--shards N]]\n"
    "                [--data DIR ...]\n"
    "       merx run -e 'LUA CODE' [same options]\n\n"
    "Run a script in a sandbox with the merx module preloaded; print() writes to stdout.\n"
    "Decisions staged with merx.emit() and files written with merx.data.write() are\n"
    "committed only when the script finishes without error: one file per decision kind in\n"
    "--out (default ./out; KIND.csv and/or KIND.jsonl), written atomically, and rows in the\n"
    "SQLite decision log: the store's ledger with --store DIR (default: $MERX_STORE),\n"
    "which every run, scheduled slot, merx.history and campaign cap share; else --log\n"
    "FILE (default OUT/decisions.db; --log '' for none). Files and rows commit together\n"
    "or not at all.\n\n"
    "  --set KEY=VALUE   visible to the script as merx.params.KEY (a string); repeatable\n"
    "  --dry-run         print the staged plan (CSV per kind) and a summary; commit nothing\n"
    "  --timeout S       wall-clock limit, default 300; 0 = none\n"
    "  --memory MB       memory limit for the script and its staged plan, default 1024\n"
    "  --reidentify FILE with a store key: the user column of the output files gets\n"
    "                    the real ids of FILE (first column or `user`) back (PRIVACY.md)\n"
    "  --busy-timeout S  how long the commit waits for another writer's lock on the\n"
    "                    decision log, default 60 (the lock is held while a run's\n"
    "                    outputs are written, so a big concurrent commit needs a while)\n"
    "  --now TIME        merx.now() for backtests and dry runs (ISO 8601 or epoch seconds)\n"
    "  --shard I/N       only users whose stable id hash falls in shard I of N (0 <= I < N);\n"
    "                    budgets and global caps are shared: each shard gets its quota\n"
    "  --solve FILE      run on all users, save the prices of the script's budgeted choice\n"
    "                    (campaign, merx.util.select, merx.allocate) to FILE; commit nothing\n"
    "  --shards N        with --solve: also save each of N shards' quota of every limit\n"
    "                    (its users' use of it in the whole plan)\n"
    "  --duals FILE      apply prices saved by --solve instead of solving (with --shard)\n"
    "  --data DIR        a read-only data folder: the script may read files under DIR\n"
    "                    (besides its own folder and --out), never write there; repeatable\n\n"
    "A script error exits 1 with SCRIPT:LINE: message (and a traceback) on stderr; code\n"
    "given with -e is named (command line). Past --timeout or --memory the script is\n"
    "stopped (pcall cannot catch it), exits 1, and nothing it staged is committed.\n"
    "\nExamples:\n"
    "  merx run examples/spring_campaign.lua --now 2011-12-10 --out out/spring\n"
    "  merx run examples/replenish.lua --now 2011-12-10 --dry-run\n";

static void on_signal(int sig) {
  (void)sig;
  mx_script_interrupt();
}

int mx__cmd_run(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "run",
                         "e= set* dry-run out= log= store= busy-timeout= format= timeout= "
                         "memory= now= shard= solve= shards= duals= data* reidentify=",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  mx_script_options o = mx_script_defaults();
  const char *code = mx__args_get(&a, "e", NULL);
  if (code && a.npos > 0) return mx__cli_usage("run", "give either SCRIPT.lua or -e CODE, not both");
  if (!code && a.npos != 1)
    return mx__cli_usage("run", a.npos ? "one script at a time" : "missing SCRIPT.lua (or -e CODE)");
  o.code = code;
  o.path = code ? NULL : a.pos[0];
  const char *sets[128];
  int ns = mx__args_all(&a, "set", sets, 128);
  static const char *keys[128], *vals[128];
  static char kbuf[128][128];
  for (int i = 0; i < ns && i < 128; i++) {
    const char *eq = strchr(sets[i], '=');
    if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof kbuf[i])
      return mx__cli_usage("run", "--set expects KEY=VALUE, got '%s'", sets[i]);
    snprintf(kbuf[i], sizeof kbuf[i], "%.*s", (int)(eq - sets[i]), sets[i]);
    keys[i] = kbuf[i];
    vals[i] = eq + 1;
  }
  o.n_params = ns < 128 ? ns : 128;
  o.param_keys = keys;
  o.param_values = vals;
  o.dry_run = mx__args_has(&a, "dry-run");
  o.out_dir = mx__args_get(&a, "out", "out");
  if (strcmp(o.out_dir, "-") == 0)
    return mx__cli_usage("run", "--out is a folder (KIND.csv, KIND.jsonl, the decision log), "
                               "not standard output: give --out DIR");
  o.log_path = mx__args_get(&a, "log", NULL);
  o.store_dir = mx__args_get(&a, "store", NULL);
  if (o.store_dir && o.log_path) return mx__cli_usage("run", "give --store or --log, not both");
  if (!o.store_dir && !o.log_path) o.store_dir = mx__store_from_env();
  if (o.store_dir && !*o.store_dir) return mx__cli_usage("run", "--store: empty folder name");
  const char *format = mx__args_get(&a, "format", "csv");
  if (strcmp(format, "csv") == 0) { o.csv = 1; o.jsonl = 0; }
  else if (strcmp(format, "jsonl") == 0) { o.csv = 0; o.jsonl = 1; }
  else if (strcmp(format, "both") == 0) { o.csv = 1; o.jsonl = 1; }
  else return mx__cli_usage("run", "--format: expected csv, jsonl or both, got '%s'", format);
  double timeout, memory;
  if ((rc = mx__args_double(&a, "timeout", 300, 0, 1e9, &timeout))) return rc;
  if ((rc = mx__args_double(&a, "memory", 1024, 0, 1 << 22, &memory))) return rc;
  if (mx__args_has(&a, "memory") && memory < 1)
    return mx__cli_usage("run", "--memory: at least 1 MB (0 is not a limit here)");
  o.timeout = timeout;
  double busy;
  if ((rc = mx__args_double(&a, "busy-timeout", 60, 0.001, 1e6, &busy))) return rc;
  o.busy_timeout = busy;
  o.memory_mb = (size_t)memory;
  const char *now = mx__args_get(&a, "now", NULL);
  if (now) {
    if (mx_parse_time(now, &o.now) != 0)
      return mx__cli_usage("run", "--now: expected an ISO 8601 time or epoch seconds, got '%s'", now);
    o.has_now = 1;
  }
  const char *shard = mx__args_get(&a, "shard", NULL);
  if (shard) {
    char *end1 = NULL, *end2 = NULL;
    unsigned long i = strtoul(shard, &end1, 10), n = 0;
    if (end1 != shard && *end1 == '/') n = strtoul(end1 + 1, &end2, 10);
    if (!end2 || end2 == end1 + 1 || *end2 || n == 0 || i >= n || n > 1000000)
      return mx__cli_usage("run", "--shard: expected I/N with 0 <= I < N, got '%s'", shard);
    o.shard_index = (uint32_t)i;
    o.shard_count = (uint32_t)n;
  }
  o.solve_path = mx__args_get(&a, "solve", NULL);
  o.duals_path = mx__args_get(&a, "duals", NULL);
  if (o.solve_path && shard)
    return mx__cli_usage("run", "--solve prices the whole run: drop --shard (shards take --duals)");
  if (o.solve_path && o.duals_path) return mx__cli_usage("run", "give --solve or --duals, not both");
  if (mx__args_has(&a, "shards")) {
    long shards;
    if (!o.solve_path) return mx__cli_usage("run", "--shards N goes with --solve FILE");
    if ((rc = mx__args_int(&a, "shards", 1, 1, 1000000, &shards))) return rc;
    o.solve_shards = (uint32_t)shards;
  }
  static const char *data_dirs[64];
  o.n_data_dirs = mx__args_all(&a, "data", data_dirs, 64);
  if (o.n_data_dirs > 64) return mx__cli_usage("run", "--data: at most 64 folders");
  for (int i = 0; i < o.n_data_dirs; i++)
    if (!*data_dirs[i]) return mx__cli_usage("run", "--data: expected a folder, got ''");
  o.data_dirs = data_dirs;
  o.reidentify_path = mx__args_get(&a, "reidentify", NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  mx_script_result res;
  mx_error err;
  rc = mx_script_run(&o, &res, &err);
  fflush(stdout);
  if (rc != MX_OK) {
    if (err.code == MX_ESCRIPT || err.code == MX_ELIMIT || err.code == MX_EINTERRUPTED) {
      fprintf(stderr, "%s\n", err.message);
      if (res.traceback) fprintf(stderr, "%s\n", res.traceback);
    } else {
      mx__cli_fail("run", &err);
    }
    mx_script_result_free(&res);
    return MX_EXIT_FAIL;
  }
  if (res.committed && res.decisions > 0)
    fprintf(stderr, "run %s: committed %zu decisions to %s%s%s\n", res.run_id, res.decisions,
            o.out_dir, o.store_dir ? " and the store " : "", o.store_dir ? o.store_dir : "");
  if (res.committed && o.reidentify_path)
    fprintf(stderr,
            "run %s: the user column of the files in %s holds REAL ids (re-identified from %s: "
            "%llu rows; %llu pseudonyms not in it left as they are); the store keeps pseudonyms\n",
            res.run_id, o.out_dir, o.reidentify_path, (unsigned long long)res.reidentified,
            (unsigned long long)res.not_reidentified);
  mx_script_result_free(&res);
  return MX_EXIT_OK;
}
