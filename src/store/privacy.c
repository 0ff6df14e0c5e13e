/* The store's key and privacy policy (privacy.h). */
#include "store/privacy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "merx/csv.h"
#include "util/util.h"

static const char key_env[] = "MERX_STORE_KEY";

int mx__store_key(const char *dir, mx_hmac_key *key, int *has_key, mx_error *err) {
  *has_key = 0;
  const char *env = getenv(key_env);
  if (env && *env) {
    mx__hmac_key_init(key, env, strlen(env));
    *has_key = 1;
    return MX_OK;
  }
  if (!dir) return MX_OK;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, MX_STORE_KEY);
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT) return MX_OK;
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "store key: %s", strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "store key: not a regular file");
  if (st.st_mode & 077)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "store key: mode %04o lets others read it; make it private "
                       "(chmod 600 %s)",
                       (unsigned)(st.st_mode & 07777), path);
  FILE *f = fopen(path, "rb");
  if (!f) return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "store key: %s", strerror(errno));
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  int bad = ferror(f) || !feof(f);
  fclose(f);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  int rc = MX_OK;
  if (bad)
    rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "store key: unreadable or over 4096 bytes");
  else if (n < 16)
    rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                     "store key: %zu bytes; a key needs at least 16 (e.g. head -c 32 "
                     "/dev/urandom)",
                     n);
  if (rc == MX_OK) {
    mx__hmac_key_init(key, buf, n);
    *has_key = 1;
  }
  mx__secure_zero(buf, sizeof buf);
  return rc;
}

static const char policy_names[] =
    "retain_days retain_decisions_days retain_exposures_days retain_runs_days retain_cache_days "
    "retain_queries_days store_queries ";

int mx__store_policy_load(const char *dir, mx_store_policy *p, mx_error *err) {
  memset(p, 0, sizeof *p);
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, MX_STORE_CONFIG);
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return MX_OK;
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "store config: %s", strerror(errno));
  }
  char line[1024];
  long lineno = 0;
  int all = -1, per[5] = {-1, -1, -1, -1, -1}, rc = MX_OK;
  while (rc == MX_OK && fgets(line, sizeof line, f)) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1])) s[--len] = 0;
    if (!*s) continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = mx_error_at(err, MX_EPARSE, path, lineno, 0, NULL, "expected `name = value`");
      break;
    }
    char *name = s, *value = eq + 1;
    char *e = eq;
    while (e > name && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = 0;
    while (*value == ' ' || *value == '\t') value++;
    if (strcmp(name, "store_queries") == 0) {
      if (!strcmp(value, "yes") || !strcmp(value, "true")) p->store_queries = 1;
      else if (!strcmp(value, "no") || !strcmp(value, "false")) p->store_queries = 0;
      else rc = mx_error_at(err, MX_EPARSE, path, lineno, 0, name, "expected yes or no, got '%s'", value);
      continue;
    }
    static const char *const places[] = {"retain_decisions_days", "retain_exposures_days",
                                         "retain_runs_days", "retain_cache_days",
                                         "retain_queries_days"};
    int which = strcmp(name, "retain_days") == 0 ? 5 : -1;
    for (int i = 0; i < 5; i++)
      if (strcmp(name, places[i]) == 0) which = i;
    if (which < 0) {
      const char *near = mx__closest_word(name, strlen(name), policy_names, &len);
      rc = near ? mx_error_at(err, MX_EPARSE, path, lineno, 0, name,
                              "unknown setting (did you mean %.*s?)", (int)len, near)
                : mx_error_at(err, MX_EPARSE, path, lineno, 0, name,
                              "unknown setting (known: retain_days, retain_decisions_days, "
                              "retain_exposures_days, retain_runs_days, retain_cache_days, "
                              "retain_queries_days, store_queries)");
      continue;
    }
    double d;
    if (mx_parse_double(value, &d) != 0 || d < 0 || d > 100000 || d != (int)d) {
      rc = mx_error_at(err, MX_EPARSE, path, lineno, 0, name,
                       "expected a whole number of days (0: keep for ever), got '%s'", value);
      continue;
    }
    if (which == 5) all = (int)d;
    else per[which] = (int)d;
  }
  fclose(f);
  if (rc != MX_OK) return rc;
  int *dst[5] = {&p->retain_decisions_days, &p->retain_exposures_days, &p->retain_runs_days,
                 &p->retain_cache_days, &p->retain_queries_days};
  for (int i = 0; i < 5; i++) *dst[i] = per[i] >= 0 ? per[i] : all > 0 ? all : 0;
  return MX_OK;
}
