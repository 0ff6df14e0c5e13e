/* Atomic output files: temporary file in the same directory, fsync, rename. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir_of(const char *path) {
  char *copy = mx_strdup(path);
  if (!copy) return NULL;
  char *d = mx_strdup(dirname(copy));
  free(copy);
  return d;
}

int mx_atomic_open(mx_atomic_file *af, const char *path, mx_error *err) {
  memset(af, 0, sizeof *af);
  char *dir = dir_of(path);
  char *pcopy = mx_strdup(path);
  if (!dir || !pcopy) {
    free(dir);
    free(pcopy);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char *base = basename(pcopy);
  size_t n = strlen(dir) + strlen(base) + 32;
  char *tmp = malloc(n);
  if (!tmp) {
    free(dir);
    free(pcopy);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  snprintf(tmp, n, "%s/.%s.tmp.XXXXXX", dir, base);
  free(dir);
  free(pcopy);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(tmp);
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
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open output: %s", strerror(e));
  }
  af->tmp = tmp;
  af->path = mx_strdup(path);
  if (!af->path) {
    mx_atomic_abort(af);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  return MX_OK;
}

void mx_atomic_abort(mx_atomic_file *af) {
  if (!af) return;
  if (af->f) fclose(af->f);
  if (af->tmp) unlink(af->tmp);
  free(af->tmp);
  free(af->path);
  memset(af, 0, sizeof *af);
}

int mx_atomic_commit(mx_atomic_file *af, mx_error *err) {
  if (!af->f) return mx_error_set(err, MX_ESTATE, "output file is not open");
  int bad = ferror(af->f);
  int e = 0;
  if (!bad && fflush(af->f) != 0) { bad = 1; e = errno; }
  if (!bad && fsync(fileno(af->f)) != 0) { bad = 1; e = errno; }
  if (fclose(af->f) != 0 && !bad) { bad = 1; e = errno; }
  af->f = NULL;
  if (bad) {
    int rc = mx_error_at(err, MX_EIO, af->path, 0, 0, NULL, "write failed: %s",
                         e ? strerror(e) : "stream error");
    mx_atomic_abort(af);
    return rc;
  }
  if (rename(af->tmp, af->path) != 0) {
    e = errno;
    int rc = mx_error_at(err, MX_EIO, af->path, 0, 0, NULL, "cannot rename output into place: %s",
                         strerror(e));
    mx_atomic_abort(af);
    return rc;
  }
  /* Make the rename itself durable. */
  char *dir = dir_of(af->path);
  if (dir) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      (void)fsync(dfd);
      close(dfd);
    }
    free(dir);
  }
  free(af->tmp);
  free(af->path);
  memset(af, 0, sizeof *af);
  return MX_OK;
}

int mx_atomic_write(const char *path, const void *data, size_t len, mx_error *err) {
  mx_atomic_file af;
  int rc = mx_atomic_open(&af, path, err);
  if (rc) return rc;
  if (len && fwrite(data, 1, len, af.f) != len) {
    int e = errno;
    mx_atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed: %s", strerror(e));
  }
  return mx_atomic_commit(&af, err);
}
