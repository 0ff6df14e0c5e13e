/* Atomic output files: the target is either the old file or the complete new
 * one; failures leave the old file intact and no temporary file behind. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
  if (mx__read_file(path, &data, &n, &err) != 0) return NULL;
  return data;
}

static void test_commit_and_abort(void **s) {
  (void)s;
  const char *p = tu_write("out.csv", "old\n");
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx__atomic_open(&af, p, &err), 0);
  fputs("new content\n", af.f);
  /* until commit, readers see the old file */
  char *c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  mx__atomic_abort(&af);
  c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  assert_int_equal(mx__atomic_open(&af, p, &err), 0);
  fputs("new content\n", af.f);
  assert_int_equal(mx__atomic_commit(&af, &err), 0);
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
  assert_int_equal(mx__atomic_open(&af, tu_path("no/such/dir/out.csv"), &err), MX_EIO);
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
  assert_int_equal(mx__atomic_open(&af, p, &err), 0);
  for (int i = 0; i < 100000; i++) fprintf(af.f, "row %d of a result that will not fit\n", i);
  assert_int_equal(mx__atomic_commit(&af, &err), MX_EIO);
  setrlimit(RLIMIT_FSIZE, &old);
  char *c = contents(p);
  assert_string_equal(c, "old\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  assert_non_null(strstr(err.message, "write failed"));
  assert_non_null(strstr(err.message, "File too large")); /* the cause, not "stream error" */
}

/* A writer killed before its rename leaves ".NAME.tmp.PID.XXXXXX" (or, killed
 * inside mx__atomic_publish, its backup ".NAME.tmp.PID.XXXXXX.bak"); the next
 * writer of NAME removes them once PID is gone, and leaves a live writer's
 * files (pid 1 always exists) and other targets' temporaries alone. */
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
  char *keep_dead = mx__strdup(tu_write(dead, "partial"));
  char *keep_live = mx__strdup(tu_write(live, "partial"));
  char *keep_other = mx__strdup(tu_write(other, "partial"));
  char dead_bak[80], live_bak[80];
  snprintf(dead_bak, sizeof dead_bak, "%s.bak", dead);
  snprintf(live_bak, sizeof live_bak, "%s.bak", live);
  char *keep_dead_bak = mx__strdup(tu_write(dead_bak, "old target"));
  char *keep_live_bak = mx__strdup(tu_write(live_bak, "old target"));
  const char *p = tu_write("st.csv", "old\n");
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx__atomic_open(&af, p, &err), 0);
  assert_non_null(strstr(af.tmp, ".st.csv.tmp."));
  fputs("new\n", af.f);
  assert_int_equal(mx__atomic_commit(&af, &err), 0);
  struct stat st;
  assert_int_not_equal(stat(keep_dead, &st), 0);
  assert_int_equal(stat(keep_live, &st), 0);
  assert_int_equal(stat(keep_other, &st), 0);
  assert_int_not_equal(stat(keep_dead_bak, &st), 0);
  assert_int_equal(stat(keep_live_bak, &st), 0);
  unlink(keep_live);
  unlink(keep_other);
  unlink(keep_live_bak);
  free(keep_dead_bak);
  free(keep_live_bak);
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
  assert_int_equal(mx__atomic_write(tu_path("w.txt"), "abc", 3, &err), 0);
  char *c = contents(tu_path("w.txt"));
  assert_string_equal(c, "abc");
  free(c);
}

/* A FIFO (a pipe to another program) is written in place, never replaced by a
 * regular file: the reader receives the output and the FIFO stays a FIFO. The
 * reader is a child process bounded by alarm(). */
static void test_fifo_written_in_place(void **s) {
  (void)s;
  char fifo[4096], got[4096];
  snprintf(fifo, sizeof fifo, "%s", tu_path("pipe.csv"));
  snprintf(got, sizeof got, "%s", tu_path("pipe.got"));
  assert_int_equal(mkfifo(fifo, 0600), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    alarm(20);
    int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[256];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
      if (write(out, buf, (size_t)n) != n) _exit(2);
    _exit(in >= 0 && out >= 0 ? 0 : 1);
  }
  mx_atomic_file af;
  mx_error err;
  int rc = mx__atomic_open(&af, fifo, &err);
  if (rc == MX_OK) {
    fputs("through the pipe\n", af.f);
    rc = mx__atomic_commit(&af, &err);
  }
  int status;
  if (rc != MX_OK) kill(child, SIGKILL);
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_int_equal(rc, MX_OK);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  struct stat st;
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  char *c = contents(got);
  assert_string_equal(c, "through the pipe\n");
  free(c);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
}

/* A character device such as /dev/null is written in place. As root the old
 * code renamed a regular file over it, so the test never points a possibly
 * broken build at the real /dev/null as root: it makes its own node with the
 * same device numbers (mknod), and uses /dev/null itself only when not root
 * (where a rename over it could only fail). */
static void test_char_device_written_in_place(void **s) {
  (void)s;
  char dev[4096];
  struct stat st;
  assert_int_equal(stat("/dev/null", &st), 0);
  snprintf(dev, sizeof dev, "%s", tu_path("null"));
  if (mknod(dev, S_IFCHR | 0666, st.st_rdev) != 0) {
    if (geteuid() == 0) tu_skip("root without CAP_MKNOD: no safe device node to write");
    snprintf(dev, sizeof dev, "/dev/null");
  }
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx__atomic_open(&af, dev, &err), MX_OK);
  fputs("discarded\n", af.f);
  assert_int_equal(mx__atomic_commit(&af, &err), MX_OK);
  struct stat after;
  assert_int_equal(lstat(dev, &after), 0);
  assert_true(S_ISCHR(after.st_mode));
  assert_true(after.st_rdev == st.st_rdev);
  assert_int_equal(mx__atomic_write(dev, "x", 1, &err), MX_OK);
  assert_int_equal(lstat(dev, &after), 0);
  assert_true(S_ISCHR(after.st_mode));
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  if (strcmp(dev, "/dev/null") != 0) unlink(dev);
}

/* A symlink keeps pointing where it pointed; the file it names is replaced
 * atomically (the temporary sits beside the target, in the target's
 * directory), through a chain of links and relative link text. A dangling link
 * creates its target. */
static void test_symlink_target_replaced(void **s) {
  (void)s;
  char sub[4096], real[4096], link1[4096], link2[4096], dangling[4096], fresh[4096];
  snprintf(sub, sizeof sub, "%s", tu_path("linked"));
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(real, sizeof real, "%s", tu_write("linked/real.csv", "old\n"));
  snprintf(link1, sizeof link1, "%s", tu_path("l1.csv"));
  snprintf(link2, sizeof link2, "%s", tu_path("l2.csv"));
  assert_int_equal(symlink("linked/real.csv", link1), 0); /* relative to the link's directory */
  assert_int_equal(symlink(link1, link2), 0);             /* a link to a link */
  struct stat before, st;
  assert_int_equal(stat(real, &before), 0);
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx__atomic_open(&af, link2, &err), MX_OK);
  fputs("new\n", af.f);
  /* the temporary is beside the target, not beside the link */
  assert_int_equal(count_tmp(sub), 1);
  assert_int_equal(mx__atomic_commit(&af, &err), MX_OK);
  assert_int_equal(lstat(link1, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(lstat(link2, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  char *c = contents(real);
  assert_string_equal(c, "new\n");
  free(c);
  assert_int_equal(lstat(real, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_true(st.st_ino != before.st_ino); /* replaced by rename, not rewritten in place */
  assert_int_equal(count_tmp(sub), 0);
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
  /* a dangling link: its target is created, the link kept */
  snprintf(dangling, sizeof dangling, "%s", tu_path("dangling.csv"));
  snprintf(fresh, sizeof fresh, "%s", tu_path("linked/fresh.csv"));
  assert_int_equal(symlink("linked/fresh.csv", dangling), 0);
  assert_int_equal(mx__atomic_write(dangling, "abc", 3, &err), MX_OK);
  assert_int_equal(lstat(dangling, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  c = contents(fresh);
  assert_string_equal(c, "abc");
  free(c);
  /* a loop is refused with an error naming the path, nothing created */
  assert_int_equal(symlink("loop_b", tu_path("loop_a")), 0);
  assert_int_equal(symlink("loop_a", tu_path("loop_b")), 0);
  assert_int_equal(mx__atomic_open(&af, tu_path("loop_a"), &err), MX_EIO);
  assert_non_null(strstr(err.file, "loop_a"));
  assert_int_equal(count_tmp(tu_tmpdir()), 0);
}

/* "-" is standard output (mx__atomic_stdout_fd says which descriptor that is):
 * written in place, no file named "-" created. */
static void test_dash_is_standard_output(void **s) {
  (void)s;
  char got[4096];
  snprintf(got, sizeof got, "%s", tu_path("stdout.got"));
  int fd = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  int prev = mx__atomic_stdout_fd(fd);
  assert_int_equal(prev, STDOUT_FILENO);
  mx_atomic_file af;
  mx_error err;
  assert_int_equal(mx__atomic_open(&af, "-", &err), MX_OK);
  fputs("to stdout\n", af.f);
  assert_int_equal(mx__atomic_commit(&af, &err), MX_OK);
  assert_int_equal(mx__atomic_write("-", "more\n", 5, &err), MX_OK);
  assert_int_equal(mx__atomic_stdout_fd(prev), fd);
  close(fd);
  char *c = contents(got);
  assert_string_equal(c, "to stdout\nmore\n");
  free(c);
  struct stat st;
  assert_int_not_equal(lstat("-", &st), 0);
}

/* A group of files appears together or not at all: a directory in the way
 * of the second target leaves the first untouched, and undo after a
 * successful publish (the ledger's COMMIT failed) puts the old files back. */
static void test_publish_all_or_nothing(void **s) {
  (void)s;
  char *a = strdup(tu_write("a.csv", "old a\n"));
  const char *b = tu_write("b.csv", "x");
  char *bdir = strdup(b);
  char *c = strdup(bdir);
  strcpy(strrchr(c, '/') + 1, "c.csv"); /* does not exist yet */
  mx_atomic_file fa, fb, fc;
  mx_atomic_file *all[3] = {&fa, &fb, &fc};
  mx_error err;
  assert_int_equal(mx__atomic_open(&fa, a, &err), 0);
  assert_int_equal(mx__atomic_open(&fb, bdir, &err), 0);
  assert_int_equal(mx__atomic_open(&fc, c, &err), 0);
  /* a directory appears in the way while the run writes */
  unlink(bdir);
  assert_int_equal(mkdir(bdir, 0777), 0);
  fputs("new a\n", fa.f);
  fputs("new b\n", fb.f);
  fputs("new c\n", fc.f);
  assert_int_not_equal(mx__atomic_publish(all, 3, &err), 0);
  assert_non_null(strstr(err.message, "directory"));
  char *got = contents(a);
  assert_string_equal(got, "old a\n");
  free(got);
  assert_int_equal(access(c, F_OK), -1);
  rmdir(bdir);
  /* published, then undone */
  assert_int_equal(mx__atomic_open(&fa, a, &err), 0);
  assert_int_equal(mx__atomic_open(&fc, c, &err), 0);
  fputs("new a\n", fa.f);
  fputs("new c\n", fc.f);
  mx_atomic_file *two[2] = {&fa, &fc};
  assert_int_equal(mx__atomic_publish(two, 2, &err), 0);
  got = contents(a);
  assert_string_equal(got, "new a\n");
  free(got);
  mx__atomic_undo(two, 2);
  got = contents(a);
  assert_string_equal(got, "old a\n");
  free(got);
  assert_int_equal(access(c, F_OK), -1);
  /* published and settled: new files, no backup or temporary left */
  assert_int_equal(mx__atomic_open(&fa, a, &err), 0);
  assert_int_equal(mx__atomic_open(&fc, c, &err), 0);
  fputs("new a\n", fa.f);
  fputs("new c\n", fc.f);
  assert_int_equal(mx__atomic_publish(two, 2, &err), 0);
  mx__atomic_settle(two, 2);
  got = contents(c);
  assert_string_equal(got, "new c\n");
  free(got);
  char *dir = strdup(a);
  *strrchr(dir, '/') = 0;
  assert_int_equal(count_tmp(dir), 0);
  free(dir);
  free(a);
  free(bdir);
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_and_abort), cmocka_unit_test(test_unwritable_directory),
      cmocka_unit_test(test_write_failure_keeps_old), cmocka_unit_test(test_write_whole_buffer),
      cmocka_unit_test(test_stale_temporaries_removed), cmocka_unit_test(test_fifo_written_in_place),
      cmocka_unit_test(test_char_device_written_in_place),
      cmocka_unit_test(test_symlink_target_replaced), cmocka_unit_test(test_dash_is_standard_output),
      cmocka_unit_test(test_publish_all_or_nothing),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
