/* Atomic output files: temporary file in the same directory, fsync, rename.
 * Devices, FIFOs, sockets and "-" (standard output) are written in place, and
 * a symlink's final target is what gets replaced (util.h says why). */
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir_of(const char *path) {
  char *copy = mx__strdup(path);
  if (!copy) return NULL;
  char *d = mx__strdup(dirname(copy));
  free(copy);
  return d;
}

/* A process killed (SIGKILL, power loss) between mkstemp and rename leaves
 * its temporary behind; nothing else would ever remove it, and a killed
 * nightly job would leave one per night. The temporary's name carries the
 * writer's pid, so the next writer of the same target removes those whose
 * writer no longer exists (kill(pid, 0) fails with ESRCH). A live writer's
 * temporary is never touched; a pid reused by another process only delays
 * the cleanup. Best effort: errors are ignored. */
static void remove_stale(const char *dir, const char *base) {
  DIR *d = opendir(dir);
  if (!d) return;
  size_t bl = strlen(base);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (n[0] != '.' || strncmp(n + 1, base, bl) != 0 || strncmp(n + 1 + bl, ".tmp.", 5) != 0)
      continue;
    const char *q = n + 1 + bl + 5;
    char *end;
    errno = 0;
    long pid = strtol(q, &end, 10);
    /* exactly ".NAME.tmp.PID.XXXXXX" as written below, or its ".bak" backup
     * (mx__atomic_publish) */
    if (errno || end == q || *q < '1' || *q > '9' || pid <= 0 || (long)(pid_t)pid != pid ||
        *end != '.' || (pid_t)pid == getpid())
      continue;
    size_t rest = strlen(end + 1);
    if (rest != 6 && (rest != 10 || strcmp(end + 7, ".bak") != 0))
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    (void)unlinkat(dirfd(d), n, 0);
  }
  closedir(d);
}

static int stdout_fd = STDOUT_FILENO;

int mx__atomic_stdout_fd(int fd) {
  int prev = stdout_fd;
  stdout_fd = fd;
  return prev;
}

/* The file a chain of symlinks finally names (path itself when it is not a
 * link; a dangling link's missing target). Renaming over the link would turn
 * it into a regular file; renaming over its target keeps it, and the
 * temporary beside the target stays on the target's file system, so the
 * rename is still atomic. Returns NULL with *e set (ELOOP past 40 links). */
static char *resolve_links(const char *path, int *e) {
  char *p = mx__strdup(path);
  for (int hops = 0; p; hops++) {
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) return p; /* errors surface at mkstemp */
    char link[PATH_MAX];
    ssize_t n = hops < 40 ? readlink(p, link, sizeof link - 1) : (errno = ELOOP, -1);
    if (n < 0) {
      *e = errno;
      free(p);
      return NULL;
    }
    link[n] = '\0';
    char *next = NULL;
    if (link[0] == '/') {
      next = mx__strdup(link);
    } else { /* relative to the link's own directory */
      char *d = dir_of(p);
      size_t len = d ? strlen(d) + (size_t)n + 2 : 0;
      if (d && (next = malloc(len)) != NULL) snprintf(next, len, "%s/%s", d, link);
      free(d);
    }
    free(p);
    p = next;
  }
  *e = ENOMEM;
  return NULL;
}

/* Devices, FIFOs and standard output are written where they are: renaming a
 * regular file over /dev/null or a named pipe (as root, over /dev/stdout's
 * link) would replace the node, and a reader at the other end would never see
 * the output. Takes fd (closes it on error). */
static int open_in_place(mx_atomic_file *af, const char *path, int fd, mx_error *err) {
  if (fd < 0)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open output: %s", strerror(errno));
  af->f = fdopen(fd, "w");
  af->path = mx__strdup(path);
  if (!af->f || !af->path) {
    int e = errno;
    if (af->f) fclose(af->f);
    else close(fd);
    free(af->path);
    memset(af, 0, sizeof *af);
    return e == ENOMEM || !e ? mx_error_set(err, MX_ENOMEM, "out of memory")
                             : mx_error_at(err, MX_EIO, path, 0, 0, NULL,
                                           "cannot open output: %s", strerror(e));
  }
  return MX_OK;
}

int mx__atomic_open(mx_atomic_file *af, const char *path, mx_error *err) {
  memset(af, 0, sizeof *af);
  if (strcmp(path, "-") == 0)
    return open_in_place(af, path, fcntl(stdout_fd, F_DUPFD_CLOEXEC, 0), err);
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot write output: is a directory");
    return open_in_place(af, path, open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC), err);
  }
  int le = 0;
  char *target = resolve_links(path, &le);
  if (!target)
    return le == ENOMEM ? mx_error_set(err, MX_ENOMEM, "out of memory")
                        : mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot create output: %s",
                                      strerror(le));
  char *dir = dir_of(target);
  char *pcopy = mx__strdup(target);
  if (!dir || !pcopy) {
    free(dir);
    free(pcopy);
    free(target);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char *base = basename(pcopy);
  size_t n = strlen(dir) + strlen(base) + 48;
  char *tmp = malloc(n);
  if (!tmp) {
    free(dir);
    free(pcopy);
    free(target);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  remove_stale(dir, base);
  snprintf(tmp, n, "%s/.%s.tmp.%ld.XXXXXX", dir, base, (long)getpid());
  free(dir);
  free(pcopy);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(tmp);
    free(target);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot create output: %s", strerror(e));
  }
  /* mkstemp creates 0600; outputs are ordinary files (0666 & ~umask). */
  mode_t um = umask(0);
  umask(um);
  (void)fchmod(fd, 0666 & ~um);
  af->f = fdopen(fd, "w");
  if (!af->f) {
    int e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    free(target);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open output: %s", strerror(e));
  }
  af->tmp = tmp;
  af->target = target;
  af->path = mx__strdup(path);
  if (!af->path) {
    mx__atomic_abort(af);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  return MX_OK;
}

void mx__atomic_abort(mx_atomic_file *af) {
  if (!af) return;
  if (af->f) fclose(af->f);
  /* once published the temporary is the target */
  if (af->tmp && af->state != 2) unlink(af->tmp);
  if (af->backup) unlink(af->backup);
  free(af->tmp);
  free(af->target);
  free(af->path);
  free(af->backup);
  memset(af, 0, sizeof *af);
}

/* Flush, fsync and close the temporary: every write error shows here. On
 * failure the temporary is removed and af released. */
static int prepare(mx_atomic_file *af, mx_error *err) {
  if (af->state == 1) return MX_OK;
  if (!af->f) return mx_error_set(err, MX_ESTATE, "output file is not open");
  int bad = ferror(af->f);
  int e = 0;
  if (bad) {
    /* stdio flagged a failed write earlier but kept no errno, which left
     * users with "stream error" for a full disk. The temporary is discarded
     * anyway, so write once more to learn the cause: a full disk (ENOSPC) or
     * file-size limit (EFBIG) fails again the same way. */
    clearerr(af->f);
    errno = 0;
    if (fputc('\n', af->f) == EOF || fflush(af->f) != 0) e = errno;
  }
  if (!bad && fflush(af->f) != 0) { bad = 1; e = errno; }
  /* in place (a pipe, a device): nothing to sync or rename */
  if (!bad && af->tmp && fsync(fileno(af->f)) != 0) { bad = 1; e = errno; }
  if (fclose(af->f) != 0 && !bad) { bad = 1; e = errno; }
  af->f = NULL;
  if (bad) {
    int rc = mx_error_at(err, MX_EIO, af->path, 0, 0, NULL, "write failed: %s",
                         e ? strerror(e) : "stream error");
    mx__atomic_abort(af);
    return rc;
  }
  af->state = 1;
  return MX_OK;
}

static void fsync_dir_of(const char *path) {
  char *dir = dir_of(path);
  if (!dir) return;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  free(dir);
}

static void release(mx_atomic_file *af) {
  free(af->tmp);
  free(af->target);
  free(af->path);
  free(af->backup);
  memset(af, 0, sizeof *af);
}

int mx__atomic_commit(mx_atomic_file *af, mx_error *err) {
  int rc = prepare(af, err);
  if (rc != MX_OK) return rc;
  if (!af->tmp) { /* written in place */
    release(af);
    return MX_OK;
  }
  if (rename(af->tmp, af->target) != 0) {
    int e = errno;
    rc = mx_error_at(err, MX_EIO, af->path, 0, 0, NULL, "cannot rename output into place: %s",
                     strerror(e));
    mx__atomic_abort(af);
    return rc;
  }
  /* Make the rename itself durable. */
  fsync_dir_of(af->target);
  release(af);
  return MX_OK;
}

/* Put back the target af replaced (state 2 only). */
static void restore(mx_atomic_file *af) {
  if (!af->tmp) { /* written in place: nothing to put back */
    release(af);
    return;
  }
  if (af->backup) {
    (void)rename(af->backup, af->target);
    free(af->backup);
    af->backup = NULL;
  } else if (!af->existed) {
    (void)unlink(af->target);
  }
  fsync_dir_of(af->target);
  release(af);
}

void mx__atomic_undo(mx_atomic_file *const *files, int n) {
  for (int i = n - 1; i >= 0; i--) {
    if (files[i]->state == 2) restore(files[i]);
    else mx__atomic_abort(files[i]);
  }
}

void mx__atomic_settle(mx_atomic_file *const *files, int n) {
  for (int i = 0; i < n; i++) {
    mx_atomic_file *af = files[i];
    if (af->state != 2) {
      mx__atomic_abort(af);
      continue;
    }
    if (af->backup) (void)unlink(af->backup);
    if (af->tmp) fsync_dir_of(af->target);
    release(af);
  }
}

int mx__atomic_publish(mx_atomic_file *const *files, int n, mx_error *err) {
  int rc = MX_OK;
  for (int i = 0; i < n && rc == MX_OK; i++) rc = prepare(files[i], err);
  for (int i = 0; i < n && rc == MX_OK; i++) {
    struct stat st;
    if (files[i]->tmp && lstat(files[i]->target, &st) == 0 && S_ISDIR(st.st_mode))
      rc = mx_error_at(err, MX_EIO, files[i]->path, 0, 0, NULL,
                       "cannot replace a directory with an output file");
    for (int k = 0; k < i && rc == MX_OK; k++)
      if (files[k]->tmp && files[i]->tmp && strcmp(files[k]->target, files[i]->target) == 0)
        rc = mx_error_at(err, MX_EINVAL, files[i]->path, 0, 0, NULL,
                         "written twice by one run");
  }
  int done = 0;
  for (; done < n && rc == MX_OK; done++) {
    mx_atomic_file *af = files[done];
    if (!af->tmp) { /* written in place */
      af->state = 2;
      continue;
    }
    struct stat st;
    af->existed = lstat(af->target, &st) == 0;
    if (af->existed) {
      size_t len = strlen(af->tmp) + 8;
      af->backup = malloc(len);
      if (!af->backup) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      snprintf(af->backup, len, "%s.bak", af->tmp);
      /* a hard link keeps the old target visible until the rename below */
      if (link(af->target, af->backup) != 0) {
        free(af->backup);
        af->backup = NULL;
      }
    }
    if (rename(af->tmp, af->target) != 0) {
      int e = errno;
      rc = mx_error_at(err, MX_EIO, af->path, 0, 0, NULL, "cannot rename output into place: %s",
                       strerror(e));
      if (af->backup) (void)unlink(af->backup);
      break;
    }
    af->state = 2;
  }
  if (rc != MX_OK) mx__atomic_undo(files, n);
  return rc;
}

int mx__atomic_write(const char *path, const void *data, size_t len, mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  if (len && fwrite(data, 1, len, af.f) != len) {
    int e = errno;
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed: %s", strerror(e));
  }
  return mx__atomic_commit(&af, err);
}
