/* Role-based column selection: "user=CustomerID,item=StockCode" by header
 * name, or "user=1,item=2" by 1-based index for files without a header. */
#include "merx/csv.h"

#include <stdlib.h>
#include <string.h>

static int role_allowed(const char *const *allowed, const char *role) {
  if (!allowed) return 1;
  for (; *allowed; allowed++)
    if (strcmp(*allowed, role) == 0) return 1;
  return 0;
}

int mx_columns_set(mx_columns *cols, const char *role, const char *name, mx_error *err) {
  size_t rl = strlen(role), nl = strlen(name);
  if (rl >= sizeof cols->role[0] || nl >= sizeof cols->name[0])
    return mx_error_set(err, MX_EINVAL, "column name too long: '%s'", name);
  for (int i = 0; i < cols->count; i++)
    if (strcmp(cols->role[i], role) == 0) {
      memcpy(cols->name[i], name, nl + 1);
      cols->index[i] = -1;
      return MX_OK;
    }
  if (cols->count >= MX_MAX_ROLES) return mx_error_set(err, MX_EINVAL, "too many columns");
  memcpy(cols->role[cols->count], role, rl + 1);
  memcpy(cols->name[cols->count], name, nl + 1);
  cols->index[cols->count] = -1;
  cols->count++;
  return MX_OK;
}

int mx_columns_parse(const char *spec, const char *const *allowed, mx_columns *out,
                     mx_error *err) {
  memset(out, 0, sizeof *out);
  const char *p = spec;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p || eq + 1 == p + len)
      return mx_error_set(err, MX_EINVAL, "expected ROLE=NAME, got '%.*s'", (int)len, p);
    char role[64], name[256];
    size_t rl = (size_t)(eq - p), nl = len - rl - 1;
    if (rl >= sizeof role || nl >= sizeof name)
      return mx_error_set(err, MX_EINVAL, "'%.*s' is too long", (int)len, p);
    memcpy(role, p, rl);
    role[rl] = '\0';
    memcpy(name, eq + 1, nl);
    name[nl] = '\0';
    if (!role_allowed(allowed, role)) {
      char list[256] = "";
      for (const char *const *a = allowed; a && *a; a++) {
        if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, *a, sizeof list - strlen(list) - 1);
      }
      return mx_error_set(err, MX_EINVAL, "unknown role '%s' (roles: %s)", role, list);
    }
    for (int i = 0; i < out->count; i++)
      if (strcmp(out->role[i], role) == 0)
        return mx_error_set(err, MX_EINVAL, "role '%s' given twice", role);
    int rc = mx_columns_set(out, role, name, err);
    if (rc) return rc;
    p += len;
    if (*p == ',') p++;
  }
  return MX_OK;
}

int mx_columns_resolve(mx_columns *cols, const mx_csv *csv, mx_error *err) {
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  for (int i = 0; i < cols->count; i++) {
    const char *name = cols->name[i];
    int idx = -1;
    if (nh > 0) {
      for (size_t j = 0; j < nh; j++)
        if (strcmp(hdr[j], name) == 0) { idx = (int)j; break; }
    }
    if (idx < 0) {
      /* a number: 1-based index (always allowed without a header, and with a
       * header when no column has that name) */
      char *end;
      long v = strtol(name, &end, 10);
      if (*name && *end == '\0') {
        if (v < 1 || (nh > 0 && (size_t)v > nh))
          return mx_error_at(err, MX_ENOTFOUND, mx_csv_path(csv), 1, 0, cols->role[i],
                             "column index %ld out of range%s", v, nh ? "" : " (1-based)");
        idx = (int)(v - 1);
      }
    }
    if (idx < 0) {
      char list[MX_ERROR_MESSAGE_MAX / 2] = "";
      for (size_t j = 0; j < nh; j++) {
        if (j) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, hdr[j], sizeof list - strlen(list) - 1);
      }
      if (nh == 0)
        return mx_error_at(err, MX_ENOTFOUND, mx_csv_path(csv), 1, 0, cols->role[i],
                           "column '%s' needs a header; without one use a 1-based index", name);
      return mx_error_at(err, MX_ENOTFOUND, mx_csv_path(csv), 1, 0, cols->role[i],
                         "no column named '%s' in the header (columns: %s)", name, list);
    }
    cols->index[i] = idx;
  }
  return MX_OK;
}

int mx_columns_index(const mx_columns *cols, const char *role) {
  for (int i = 0; i < cols->count; i++)
    if (strcmp(cols->role[i], role) == 0) return cols->index[i];
  return -1;
}
