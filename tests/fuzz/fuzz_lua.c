/* libFuzzer target: random scripts through the Lua sandbox (mx_script_run,
 * as `merx run` does), with a 0.25 s time limit and a 32 MB memory cap so
 * every input ends fast.
 *
 * Each input is a script file in a private temporary directory that also
 * holds tiny data files (so merx.data.read/merx.model.* have something to
 * work on). A script whose first line is "--commit" runs for real into a
 * private output directory; every other one is a dry run. Invariants:
 *   - no crash, no leak (ASan), no hang (libFuzzer's -timeout);
 *   - an error has a non-empty message that starts with a position,
 *     "CHUNK:LINE: ..." (the script, or the chunk a script load()ed);
 *   - the script directory keeps exactly its files, unchanged in number;
 *   - a dry run creates no output directory; a committed run leaves only
 *     regular files and directories in it, no links (removed again here).
 * Pattern functions are fuzzed too: the sandbox's matcher polls the time
 * limit (src/lua/lpattern.c), so pathological patterns end within it.
 * Network: no server is configured (MERX_LLM_* are cleared), so merx.llm and
 * merx.http fail cleanly without sending anything.
 * Replayed over tests/fuzz/corpus/lua by ctest (fuzz_lua). */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merx/script.h"

/* Say which invariant broke, then crash (libFuzzer keeps the input). */
#define FAIL(why)                                   \
  do {                                              \
    fprintf(stderr, "fuzz_lua: %s\n", why);         \
    __builtin_trap();                               \
  } while (0)

static char g_root[64], g_script[96], g_out[96], g_sdir[80];
static FILE *g_null;
static int g_files; /* entries in the script directory */

static int write_file(const char *dir, const char *name, const char *text) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* Committed outputs: regular files and directories only (a symbolic link
 * could lead outside); removed as they are checked. */
static int check_output(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)ftw;
  if (flag == FTW_SL || flag == FTW_SLN || (flag == FTW_F && !S_ISREG(st->st_mode))) FAIL(p);
  return remove(p);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static void cleanup(void) {
  if (g_root[0]) nftw(g_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  if (g_null) fclose(g_null);
}

static int init(void) {
  /* nothing may reach a server */
  static const char *vars[] = {"MERX_LLM_CONFIG", "MERX_LLM_URL", "MERX_LLM_MODEL",
                               "MERX_LLM_CHAT_MODEL", "MERX_LLM_KEY_ENV", "MERX_LLM_CACHE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
  snprintf(g_root, sizeof g_root, "/tmp/mxfzXXXXXX");
  if (!mkdtemp(g_root)) return -1;
  atexit(cleanup);
  snprintf(g_sdir, sizeof g_sdir, "%s/s", g_root);
  snprintf(g_script, sizeof g_script, "%s/s/f.lua", g_root);
  snprintf(g_out, sizeof g_out, "%s/o", g_root);
  char data[96];
  snprintf(data, sizeof data, "%s/data", g_sdir);
  if (mkdir(g_sdir, 0700) != 0 || mkdir(data, 0700) != 0) return -1;
  if (write_file(data, "orders.csv",
                 "order,sku,qty,price,date\n"
                 "o1,A,2,9.5,2024-03-01\n"
                 "o1,B,1,4.25,2024-03-01\n"
                 "o2,A,5,9.5,2024-03-02\n"
                 "o3,C,1,120,2024-03-05\n") ||
      write_file(data, "daily_sales.csv",
                 "StockCode,date,quantity\n"
                 "A,2024-03-01,4\nA,2024-03-02,6\nA,2024-03-03,5\nA,2024-03-04,7\n"
                 "B,2024-03-01,1\nB,2024-03-03,2\nB,2024-03-04,0\n") ||
      write_file(data, "purchases.csv",
                 "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                 "536365,A,LANTERN,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
                 "536365,B,MUG,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
                 "536366,A,LANTERN,6,2010-12-01 08:28:00,2.55,13047,United Kingdom\n"
                 "536367,C,CANDLE,32,2010-12-01 08:34:00,1.69,13047,France\n"
                 "536368,B,MUG,3,2010-12-02 09:00:00,3.39,12583,France\n") ||
      write_file(g_sdir, "stock.csv",
                 "StockCode,on_hand,on_order,lead_time_days,pack_size,unit_cost\n"
                 "A,10,0,5,1,0.50\nB,3,2,10,6,0.07\n") ||
      write_file(g_sdir, "f.lua", ""))
    return -1;
  g_files = count_entries(g_sdir);
  g_null = fopen("/dev/null", "w");
  return g_null ? 0 : -1;
}

/* "CHUNK:LINE: ..." with a non-empty chunk name. */
static int has_position(const char *m) {
  for (const char *p = m; *p; p++) {
    if (*p != ':' || p == m || p[1] < '0' || p[1] > '9') continue;
    const char *q = p + 1;
    while (*q >= '0' && *q <= '9') q++;
    if (*q == ':') return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready = -1;
  if (ready < 0) ready = init();
  if (ready != 0) FAIL("cannot set up the temporary directory");
  if (size > 8192) return 0;
  FILE *f = fopen(g_script, "wb");
  if (!f) FAIL("cannot write the script");
  if (size) fwrite(data, 1, size, f);
  if (fclose(f) != 0) FAIL("cannot write the script");

  int commit = size >= 8 && memcmp(data, "--commit", 8) == 0;
  mx_script_options o = mx_script_defaults();
  o.path = g_script;
  o.out_dir = g_out;
  o.log_path = "";
  o.dry_run = !commit;
  o.timeout = 0.25;
  o.memory_mb = 32;
  o.has_now = 1;
  o.now = 1709251200;
  o.jsonl = 1;
  o.out = g_null;
  o.err = g_null;
  mx_script_result r;
  mx_error err;
  int rc = mx_script_run(&o, &r, &err);
  if (rc != MX_OK) {
    /* a limit hit before the hook saw a line may only name the script */
    int named = has_position(err.message) ||
                (rc == MX_ELIMIT && strncmp(err.message, g_script, strlen(g_script)) == 0);
    if (rc >= 0 || err.message[0] == '\0' || !named) {
      fprintf(stderr, "fuzz_lua: bad error report (rc %d): '%s'\n", rc, err.message);
      __builtin_trap();
    }
  }
  mx_script_result_free(&r);
  if (count_entries(g_sdir) != g_files) FAIL("the script directory changed");
  struct stat st;
  if (lstat(g_out, &st) == 0) {
    if (!commit) FAIL("a dry run created the output directory");
    nftw(g_out, check_output, 16, FTW_DEPTH | FTW_PHYS);
  }
  return 0;
}
