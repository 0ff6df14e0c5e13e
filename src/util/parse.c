/* Strict number and timestamp parsing for input fields. */
#include "merx/csv.h"
#include "util/util.h"

#include <errno.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const double pow10_table[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int mx_parse_double(const char *s, double *out) {
  const char *p = s;
  while (*p == ' ' || *p == '\t') p++;
  const char *start = p;
  /* Fast path: [-+]digits[.digits] with at most 15 significant digits is
   * exact as mantissa / 10^k (both exactly representable), as in
   * Clinger's fast path. Anything else goes to strtod. */
  int neg = 0;
  if (*p == '-' || *p == '+') { neg = (*p == '-'); p++; }
  uint64_t mant = 0;
  int digits = 0, frac = 0, any = 0;
  while (*p >= '0' && *p <= '9') {
    if (mant || *p != '0') digits++;
    mant = mant * 10 + (uint64_t)(*p - '0');
    p++;
    any = 1;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      if (mant || *p != '0') digits++;
      mant = mant * 10 + (uint64_t)(*p - '0');
      frac++;
      p++;
      any = 1;
    }
  }
  const char *q = p;
  while (*q == ' ' || *q == '\t' || *q == '\r') q++;
  if (any && *q == '\0' && digits <= 15 && frac <= 22) {
    double v = (double)mant / pow10_table[frac];
    *out = neg ? -v : v;
    return 0;
  }
  /* general path */
  if (*start == '\0') return MX_EPARSE;
  char *end;
  double v = strtod(start, &end);
  if (end == start) return MX_EPARSE;
  while (*end == ' ' || *end == '\t' || *end == '\r') end++;
  if (*end != '\0') return MX_EPARSE;
  if (!isfinite(v)) return MX_EPARSE;
  *out = v;
  return 0;
}

static int read_digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

int mx_parse_time(const char *s, int64_t *out) {
  const char *p = s;
  while (*p == ' ') p++;
  /* ISO 8601: YYYY-MM-DD... */
  if (strlen(p) >= 10 && p[4] == '-' && p[7] == '-') {
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
        read_digits(&p, 2, &d))
      return MX_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > mx__days_in_month(y, mo)) return MX_EPARSE;
    int64_t offset = 0;
    if (*p == 'T' || *p == ' ') {
      p++;
      if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi)) return MX_EPARSE;
      if (*p == ':') {
        p++;
        if (read_digits(&p, 2, &se)) return MX_EPARSE;
        if (*p == '.' || *p == ',') { /* fractional seconds are dropped */
          p++;
          while (*p >= '0' && *p <= '9') p++;
        }
      }
      if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi || se))) return MX_EPARSE;
      if (*p == 'Z') {
        p++;
      } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (read_digits(&p, 2, &oh)) return MX_EPARSE;
        if (*p == ':') p++;
        if (*p >= '0' && *p <= '9' && read_digits(&p, 2, &om)) return MX_EPARSE;
        /* real zones lie within -12:00..+14:00; beyond +-14:00 is a typo */
        if (om > 59 || oh * 60 + om > 14 * 60) return MX_EPARSE;
        offset = sign * (oh * 3600 + om * 60);
      }
    }
    while (*p == ' ' || *p == '\r') p++;
    if (*p) return MX_EPARSE;
    *out = mx__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
           offset;
    return 0;
  }
  /* epoch seconds */
  double v;
  if (mx_parse_double(p, &v) != 0) return MX_EPARSE;
  if (v < -1e13 || v > 1e13) return MX_EPARSE;
  *out = (int64_t)floor(v);
  return 0;
}

char *mx_format_time(int64_t t, int date_only, char *buf, size_t size) {
  int64_t days = mx__floor_div(t, 86400);
  int64_t secs = t - days * 86400;
  int64_t y;
  int m, d;
  mx__civil_from_days(days, &y, &m, &d);
  if (date_only)
    snprintf(buf, size, "%04lld-%02d-%02d", (long long)y, m, d);
  else
    snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
  return buf;
}

/* Parse "A<sep>B<sep>..." of unsigned decimal integers (no sign, no
 * spaces). Returns how many were read, or -1 on anything else. */
int mx__parse_uints(const char *s, char sep, unsigned long long *out, int max) {
  int n = 0;
  while (n < max) {
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    out[n++] = strtoull(s, &end, 10);
    if (errno) return -1;
    s = end;
    if (*s == '\0') return n;
    if (*s != sep) return -1;
    s++;
  }
  return -1;
}

int mx__parse_named_numbers(const char *spec, const char *what, mx_named_number_fn fn, void *ctx,
                           mx_error *err) {
  const char *p = spec;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = NULL;
    for (const char *q = p; q < p + len; q++)
      if (*q == '=') eq = q;
    size_t nl = eq ? (size_t)(eq - p) : 0;
    char num[64];
    size_t vl = eq ? len - nl - 1 : 0;
    if (!eq || nl == 0 || vl == 0 || vl >= sizeof num)
      return mx_error_set(err, MX_EINVAL, "expected %s, got '%.*s'", what, (int)len, p);
    memcpy(num, eq + 1, vl);
    num[vl] = '\0';
    double v;
    if (mx_parse_double(num, &v) != 0)
      return mx_error_set(err, MX_EINVAL, "'%.*s' must be followed by a number, got '%s'", (int)nl,
                          p, num);
    int rc = fn(ctx, p, nl, v, err);
    if (rc) return rc;
    p += len;
    if (*p == ',') p++;
  }
  return MX_OK;
}
