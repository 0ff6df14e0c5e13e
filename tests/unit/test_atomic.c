/* Atomic output files: the target is either the old file or the complete new
 * one; failures leave the old file intact and no temporary file behind. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "util/util.h"

static int count_tmp(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) n++;
  closedir(d);
  return n;
}

static char *contents(const char *path) {
  char *data;
  size_t n;
  mx_error err;
  if (mx_read_file(path, &data, &n, &err) != 0) return NULL;
  return data;
}

static void test_commit_and_abort(void **s) {
  (void)s;
  const char *p = tu_write("out.csv", "old\n");
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx_atomic_open(&af, p, &err), 0);
  fputs("new content\n", af.f);
  /* until commit, readers see the old file */
  char *c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  mx_atomic_abort(&af);
  c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  assert_int_equal(mx_atomic_open(&af, p, &err), 0);
  fputs("new content\n", af.f);
  assert_int_equal(mx_atomic_commit(&af, &err), 0);
  c = contents(p);
  assert_string_equal(c, "new content\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_true((st.st_mode & 0444) == 0444 || (st.st_mode & 0400)); /* readable, not 0600-only by accident of umask */
}

static void test_unwritable_directory(void **s) {
  (void)s;
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx_atomic_open(&af, tu_path("no/such/dir/out.csv"), &err), MX_EIO);
  assert_non_null(strstr(err.file, "out.csv"));
  assert_null(af.f);
}

/* A write that fails half-way (file-size limit, like a full disk) keeps the
 * old file and removes the temporary one. */
static void test_write_failure_keeps_old(void **s) {
  (void)s;
  const char *p = tu_write("big.csv", "old\n");
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 64 * 1024;
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx_atomic_open(&af, p, &err), 0);
  for (int i = 0; i < 100000; i++) fprintf(af.f, "row %d of a result that will not fit\n", i);
  assert_int_equal(mx_atomic_commit(&af, &err), MX_EIO);
  setrlimit(RLIMIT_FSIZE, &old);
  char *c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  assert_non_null(strstr(err.message, "write failed"));
  assert_non_null(strstr(err.message, "File too large")); /* the cause, not "stream error" */
}

/* A writer killed before its rename leaves ".NAME.tmp.PID.XXXXXX"; the next
 * writer of NAME removes it once PID is gone, and leaves a live writer's
 * temporary (pid 1 always exists) and other targets' temporaries alone. */
static void test_stale_temporaries_removed(void **s) {
  (void)s;
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) _exit(0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  char dead[64], live[64], other[64];
  snprintf(dead, sizeof dead, ".st.csv.tmp.%ld.AbC123", (long)child);
  snprintf(live, sizeof live, ".st.csv.tmp.1.XyZ789");
  snprintf(other, sizeof other, ".st2.csv.tmp.%ld.AbC123", (long)child);
  char *keep_dead = mx_strdup(tu_write(dead, "partial"));
  char *keep_live = mx_strdup(tu_write(live, "partial"));
  char *keep_other = mx_strdup(tu_write(other, "partial"));
  const char *p = tu_write("st.csv", "old\n");
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx_atomic_open(&af, p, &err), 0);
  assert_non_null(strstr(af.tmp, ".st.csv.tmp."));
  fputs("new\n", af.f);
  assert_int_equal(mx_atomic_commit(&af, &err), 0);
  struct stat st;
  assert_int_not_equal(stat(keep_dead, &st), 0);
  assert_int_equal(stat(keep_live, &st), 0);
  assert_int_equal(stat(keep_other, &st), 0);
  unlink(keep_live);
  unlink(keep_other);
  free(keep_dead);
  free(keep_live);
  free(keep_other);
  char *c = contents(p);
  assert_string_equal(c, "new\n");
  free(c);
}

static void test_write_whole_buffer(void **s) {
  (void)s;
  mx_error err;
  assert_int_equal(mx_atomic_write(tu_path("w.txt"), "abc", 3, &err), 0);
  char *c = contents(tu_path("w.txt"));
  assert_string_equal(c, "abc");
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_and_abort), cmocka_unit_test(test_unwritable_directory),
      cmocka_unit_test(test_write_failure_keeps_old), cmocka_unit_test(test_write_whole_buffer),
      cmocka_unit_test(test_stale_temporaries_removed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
