#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[256];

static void cleanup(void) {
  if (!g_dir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) { /* best effort */ }
}

const char *tu_tmpdir(void) {
  if (!g_dir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/merx-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(g_dir)) {
      perror("mkdtemp");
      exit(1);
    }
    atexit(cleanup);
  }
  return g_dir;
}

const char *tu_path(const char *name) {
  static char bufs[8][512];
  static int k;
  char *b = bufs[k++ & 7];
  snprintf(b, 512, "%s/%s", tu_tmpdir(), name);
  return b;
}

const char *tu_write(const char *name, const char *text) {
  const char *p = tu_path(name);
  FILE *f = fopen(p, "wb");
  if (!f) {
    perror(p);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
  return p;
}

const char *tu_examples(const char *name) {
  static char bufs[4][512];
  static int k;
  char *b = bufs[k++ & 3];
  snprintf(b, 512, "%s/examples/data/%s", MERX_SRC_DIR, name);
  return b;
}

const char *tu_shared_data(const char *name) {
  static char b[512];
  const char *root = getenv("MERX_SHARED_DATA");
  if (root) snprintf(b, sizeof b, "%s/%s", root, name);
  else snprintf(b, sizeof b, "%s/../shared/data/%s", MERX_SRC_DIR, name);
  struct stat st;
  if (stat(b, &st) != 0) return NULL;
  return b;
}

static int g_skipped;

void tu_skip(const char *why) {
  print_message("skipped: %s\n", why);
  g_skipped++;
  skip();
}

int tu_exit(int failed) { return failed ? failed : g_skipped ? 77 : 0; }

void tu_filters(void) {
  const char *only = getenv("TU_TEST_FILTER"), *skip_pattern = getenv("TU_SKIP_FILTER");
  if (only && *only) cmocka_set_test_filter(only);
  if (skip_pattern && *skip_pattern) cmocka_set_skip_filter(skip_pattern);
}
