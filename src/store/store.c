/* The store folder (store.h). */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

const char *mx__store_from_env(void) {
  const char *s = getenv("MERX_STORE");
  return s && *s ? s : NULL;
}

int mx__store_create(const char *dir, mx_error *err) {
  char buf[4096];
  if (!*dir || snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
    return mx_error_at(err, MX_EINVAL, dir, 0, 0, NULL, "store: not a usable folder name");
  if (mx__mkdir_p(buf) != 0)
    return mx_error_at(err, MX_EIO, dir, 0, 0, NULL, "cannot create the store folder: %s",
                       strerror(errno));
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return mx_error_at(err, MX_EINVAL, dir, 0, 0, NULL,
                       "the store must be a folder (a .db file is a schedule's run history)");
  return MX_OK;
}

char *mx__store_ledger_path(const char *dir) {
  size_t n = strlen(dir) + sizeof MX_STORE_LEDGER + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, MX_STORE_LEDGER);
  return p;
}

int mx__store_is_folder(const char *path) {
  size_t n = strlen(path);
  if (n >= 3 && strcmp(path + n - 3, ".db") == 0) return 0;
  struct stat st;
  return !(stat(path, &st) == 0 && S_ISREG(st.st_mode));
}
