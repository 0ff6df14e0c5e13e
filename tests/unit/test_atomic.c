/* Atomic output files: the target is either the old file or the complete new
 * one; failures leave the old file intact and no temporary file behind. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
