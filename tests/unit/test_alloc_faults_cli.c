/* Fault injection through the commands (as test_alloc_faults_train.c does
 * for the library calls): `merx train`, `model info/export/import`,
 * `recommend`, `eval`, `similar`, `score`, `split` and `data stats` run
 * in-process with the N-th allocation failing, for every N. Each run must
 * either exit 1 with "out of memory" on stderr and leave no output file
 * behind, or exit 0 with exactly the clean run's output files; nothing may
 * leak (LeakSanitizer in the sanitizer build). stdout and
 * stderr of the commands go to files in the test's temporary directory. */
#include "testutil.h"
#include "faultalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "merx/error.h"
#include "util/util.h"

/* ------------------------------------------------------------- harness */

typedef struct cli_case {
  const char *what;
  int (*fn)(int, char **);
  const char *args[40]; /* NULL-terminated; "@name" is tu_path(name) */
  const char *outputs[8]; /* files (in tu_tmpdir) compared with the clean run */
  int partial;            /* a failed run may leave some outputs (separate files) */
} cli_case;

static const cli_case *g_case;
static char *g_ref[8]; /* clean outputs (read before the sweep's failures) */
static size_t g_ref_n[8];

/* The harness's own buffers bypass the injector (linked with --wrap). */
void *__real_malloc(size_t n);

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = __real_malloc((size_t)len + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  buf[len] = '\0';
  fclose(f);
  *n = (size_t)len;
  return buf;
}

/* Run the case's command with stdout/stderr sent to files; returns its exit
 * status. argv is rebuilt in static storage (the harness's own allocations
 * would count as failure points). */
static int run_case(void) {
  static char pool[8192];
  static char *argv[40];
  size_t used = 0;
  int argc = 0;
  for (; g_case->args[argc]; argc++) {
    const char *s = g_case->args[argc];
    if (s[0] == '@') s = tu_path(s + 1);
    size_t len = strlen(s) + 1;
    assert_true(used + len <= sizeof pool);
    memcpy(pool + used, s, len);
    argv[argc] = pool + used;
    used += len;
  }
  argv[argc] = NULL;
  fflush(stdout);
  fflush(stderr);
  int save_out = dup(1), save_err = dup(2);
  int fo = open(tu_path("cmd.stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int fe = open(tu_path("cmd.stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(save_out >= 0 && save_err >= 0 && fo >= 0 && fe >= 0);
  dup2(fo, 1);
  dup2(fe, 2);
  int status = g_case->fn(argc, argv);
  fflush(stdout);
  fflush(stderr);
  dup2(save_out, 1);
  dup2(save_err, 2);
  close(fo);
  close(fe);
  close(save_out);
  close(save_err);
  return status;
}

static int have_ref;

static int cli_once(void) {
  for (int o = 0; g_case->outputs[o]; o++)
    if (strcmp(g_case->outputs[o], "cmd.stdout") != 0) remove(tu_path(g_case->outputs[o]));
  int status = run_case();
  if (status == MX_EXIT_OK) {
    for (int o = 0; g_case->outputs[o]; o++) {
      size_t n = 0;
      char *got = slurp(tu_path(g_case->outputs[o]), &n);
      if (!got) return MX_EINVAL; /* success must write every output */
      if (!have_ref) {
        g_ref[o] = got;
        g_ref_n[o] = n;
        continue;
      }
      int same = n == g_ref_n[o] && memcmp(got, g_ref[o], n) == 0;
      free(got);
      if (!same) {
        fprintf(stderr, "%s: %s differs from the clean run's\n", g_case->what,
                g_case->outputs[o]);
        return MX_EINVAL;
      }
    }
    have_ref = 1;
    return MX_OK;
  }
  size_t n = 0;
  char *msg = slurp(tu_path("cmd.stderr"), &n);
  int clean = status == MX_EXIT_FAIL && msg && strstr(msg, "out of memory") != NULL;
  if (!clean)
    fprintf(stderr, "%s: exit %d, stderr: %s\n", g_case->what, status, msg ? msg : "(none)");
  free(msg);
  if (!clean) return MX_EINVAL;
  for (int o = 0; g_case->outputs[o]; o++) {
    struct stat st;
    /* outputs are written atomically and committed together, except the
     * files of a directory export, each complete on its own */
    if (!g_case->partial && strcmp(g_case->outputs[o], "cmd.stdout") != 0 &&
        stat(tu_path(g_case->outputs[o]), &st) == 0) {
      fprintf(stderr, "%s: failed run left %s behind\n", g_case->what, g_case->outputs[o]);
      return MX_EINVAL;
    }
  }
  return MX_ENOMEM;
}

static long sweep(const cli_case *c) {
  g_case = c;
  have_ref = 0;
  long points = fa_sweep(cli_once, c->what);
  for (int o = 0; o < 8; o++) {
    free(g_ref[o]);
    g_ref[o] = NULL;
  }
  fprintf(stderr, "%s: %ld allocation-failure points tested\n", c->what, points);
  return points;
}

/* ---------------------------------------------------------------- data */

static void write_data(void) {
  /* 50 users x 30 items, ratings 1..5; 400 training rows, 80 held out. */
  char *train = malloc(1 << 15), *test = malloc(1 << 14);
  assert_non_null(train);
  assert_non_null(test);
  size_t nt = (size_t)sprintf(train, "u,i,v\n"), ne = (size_t)sprintf(test, "u,i,v\n");
  uint64_t x = 987654321;
  for (int q = 0; q < 480; q++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int u = (int)((x >> 33) % 50), i = (int)((x >> 17) % 30);
    int v = 1 + (u % 4 + i % 3 + (int)((x >> 50) % 2)) % 5;
    if (q < 400)
      nt += (size_t)sprintf(train + nt, "c%d,p%d,%d\n", u, i, v);
    else
      ne += (size_t)sprintf(test + ne, "c%d,p%d,%d\n", u, i, v);
  }
  tu_write("train.csv", train);
  tu_write("test.csv", test);
  free(train);
  free(test);
}

/* --------------------------------------------------------------- tests */

static void test_cli_every_allocation(void **s) {
  (void)s;
  write_data();
  static const cli_case train_als = {
      "merx train (als, --test, 2 threads)", mx__cmd_train,
      {"merx", "train", "--data", "@train.csv", "--columns", "user=u,item=i,value=v", "--algo",
       "als", "--factors", "4", "--epochs", "2", "--threads", "2", "--test", "@test.csv",
       "--json", "--out", "@als.mxm", NULL},
      {"als.mxm", NULL}, 0};
  static const cli_case train_ials = {
      "merx train (ials)", mx__cmd_train,
      {"merx", "train", "--data", "@train.csv", "--columns", "user=u,item=i", "--algo", "ials",
       "--factors", "4", "--epochs", "2", "--reg", "1", "--threads", "1", "--out", "@ials.mxm",
       NULL},
      {"ials.mxm", NULL}, 0};
  static const cli_case info = {
      "merx model info", mx__cmd_model,
      {"merx", "model", "info", "--model", "@als.mxm", "--json", NULL},
      {"cmd.stdout", NULL}, 0};
  static const cli_case export = {
      "merx model export", mx__cmd_model,
      {"merx", "model", "export", "--model", "@ials.mxm", "--out", "@exp", NULL},
      {"exp/user_factors.npy", "exp/item_factors.npy", "exp/user_ids.txt", "exp/item_ids.txt",
       NULL},
      1};
  static const cli_case import = {
      "merx model import (--data)", mx__cmd_model,
      {"merx", "model", "import", "--user-factors", "@exp/user_factors.npy", "--item-factors",
       "@exp/item_factors.npy", "--user-ids", "@exp/user_ids.txt", "--item-ids",
       "@exp/item_ids.txt", "--data", "@train.csv", "--columns", "user=u,item=i", "--out",
       "@imported.mxm", NULL},
      {"imported.mxm", NULL}, 0};
  static const cli_case recommend = {
      "merx recommend (--all --explain, 2 threads)", mx__cmd_recommend,
      {"merx", "recommend", "--model", "@ials.mxm", "--all", "--k", "5", "--explain",
       "--threads", "2", "--out", "@recs.csv", NULL},
      {"recs.csv", NULL}, 0};
  static const cli_case eval = {
      "merx eval (ials)", mx__cmd_eval,
      {"merx", "eval", "--model", "@ials.mxm", "--test", "@test.csv", "--columns",
       "user=u,item=i", "--k", "5", "--threads", "2", NULL},
      {"cmd.stdout", NULL}, 0};
  static const cli_case similar = {
      "merx similar (--all, 2 threads)", mx__cmd_similar,
      {"merx", "similar", "--model", "@ials.mxm", "--all", "--k", "3", "--threads", "2",
       "--out", "@similar.csv", NULL},
      {"similar.csv", NULL}, 0};
  static const cli_case score = {
      "merx score (als)", mx__cmd_score,
      {"merx", "score", "--model", "@als.mxm", "--pairs", "@test.csv", "--columns",
       "user=u,item=i", "--skip-unknown", "--out", "@scores.csv", NULL},
      {"scores.csv", NULL}, 0};
  static const cli_case split = {
      "merx split (--random)", mx__cmd_split,
      {"merx", "split", "--data", "@train.csv", "--columns", "user=u,item=i,value=v",
       "--random", "0.2", "--train", "@split_train.csv", "--test", "@split_test.csv", NULL},
      {"split_train.csv", "split_test.csv", NULL}, 0};
  static const cli_case stats = {
      "merx data stats", mx__cmd_data,
      /* text, not --json: the JSON's "seconds" differs between runs, and a run
       * may survive a failed allocation (a shrinking realloc) */
      {"merx", "data", "stats", "--data", "@train.csv", "--columns", "user=u,item=i,value=v",
       NULL},
      {"cmd.stdout", NULL}, 0};
  const cli_case *cases[] = {&train_als, &train_ials, &info,    &export, &import, &recommend,
                             &eval,      &similar,    &score,   &split,  &stats};
  long total = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) total += sweep(cases[c]);
  fprintf(stderr, "commands: %ld allocation-failure points tested\n", total);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cli_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
