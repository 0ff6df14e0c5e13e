/* mx__read_file: a whole file (plain or .gz) into memory. */
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* zlib prefixes its messages with the path, which the error names already. */
static const char *without_path(const char *msg, const char *path) {
  size_t n = strlen(path);
  return strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : msg;
}

int mx__read_file(const char *path, char **data, size_t *len, mx_error *err) {
  *data = NULL;
  if (len) *len = 0;
  gzFile gz = gzopen(path, "rb");
  if (!gz) {
    int e = errno;
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s",
                       e ? strerror(e) : "out of memory");
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    gzclose(gz);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (;;) {
    if (cap - n < (1 << 15)) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        gzclose(gz);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
      buf = nb;
      cap *= 2;
    }
    int r = gzread(gz, buf + n, (unsigned)(cap - n));
    if (r < 0) {
      int e = errno, ez;
      const char *msg = gzerror(gz, &ez);
      msg = without_path(msg, path);
      int rc = ez == Z_ERRNO
                   ? mx_error_at(err, MX_EIO, path, 0, 0, NULL, "read failed: %s", strerror(e))
                   : mx_error_at(err, MX_EIO, path, 0, 0, NULL, "corrupt compressed file (%s)", msg);
      free(buf);
      gzclose(gz);
      return rc;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  int ez = 0;
  const char *zmsg = without_path(gzerror(gz, &ez), path);
  if (ez != Z_OK && ez != Z_BUF_ERROR ? 1 : (ez == Z_BUF_ERROR)) {
    int rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "truncated or corrupt compressed file: %s",
                         zmsg);
    free(buf);
    gzclose(gz);
    return rc;
  }
  gzclose(gz);
  buf[n] = '\0';
  *data = buf;
  if (len) *len = n;
  return MX_OK;
}
