/* Cron expressions: parsing (Vixie cron syntax, five fields) and the next
 * fire instant in an IANA zone.
 *
 * Next-fire works in two steps. First, candidate wall-clock minutes that match
 * the expression are enumerated in increasing local (civil) order. Second,
 * each candidate is mapped to an instant with mx_tz_resolve: the first
 * occurrence of a repeated reading, or the end of the gap for a skipped one.
 * That mapping is non-decreasing in the civil reading, so the answer is the
 * first candidate whose instant lies strictly after `after` — and all the
 * candidates inside one gap collapse onto the same instant, which therefore
 * fires once. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "merx/schedule.h"
#include "sched/internal.h"
#include "util/util.h"

typedef struct {
  const char *name;
  int lo, hi;
  const char *const *names; /* 3-letter names for lo.. (or NULL) */
  int names_base;
} field_spec;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_spec fields[5] = {
    {"minute", 0, 59, NULL, 0},
    {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},
    {"month", 1, 12, month_names, 1},
    {"day-of-week", 0, 7, dow_names, 0},
};

/* One number or name at *p; returns 0 and advances, or -1. */
static int parse_value(const field_spec *f, const char **p, int *out) {
  const char *s = *p;
  if (isdigit((unsigned char)*s)) {
    long v = 0;
    while (isdigit((unsigned char)*s)) {
      v = v * 10 + (*s++ - '0');
      if (v > 1000) return -1;
    }
    *out = (int)v;
    *p = s;
    return 0;
  }
  if (f->names && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
      isalpha((unsigned char)s[2]) && !isalpha((unsigned char)s[3])) {
    for (int i = 0; f->names[i]; i++)
      if (strncasecmp(s, f->names[i], 3) == 0) {
        *out = f->names_base + i;
        *p = s + 3;
        return 0;
      }
  }
  return -1;
}

/* Parse one field text (NUL-terminated) into a bit set. */
static int parse_field(const field_spec *f, const char *text, uint64_t *bits, mx_error *err) {
  *bits = 0;
  const char *p = text;
  for (;;) {
    int a, b, step = 1, ranged = 0;
    const char *item = p;
    if (*p == '*') {
      a = f->lo;
      b = f->hi;
      p++;
    } else {
      if (parse_value(f, &p, &a) != 0) goto bad;
      b = a;
      if (*p == '-') {
        ranged = 1;
        p++;
        if (parse_value(f, &p, &b) != 0) goto bad;
      }
    }
    if (*p == '/') {
      p++;
      if (!isdigit((unsigned char)*p)) goto bad;
      step = 0;
      while (isdigit((unsigned char)*p)) {
        step = step * 10 + (*p++ - '0');
        if (step > 1000) goto bad;
      }
      if (step < 1) goto bad;
      /* "a/n" (no range) means a through the end of the field, as Vixie cron. */
      /* (Whether THIS item had a range: searching the rest of the text for
       * '-' saw later list items, so "5/10,1-3" gave minute 5 alone.) */
      if (item[0] != '*' && !ranged) b = f->hi;
    }
    if (*p != ',' && *p != 0) goto bad;
    if (a < f->lo || a > f->hi || b < f->lo || b > f->hi) {
      size_t n = strcspn(item, ",");
      return mx_error_at(err, MX_EPARSE, NULL, 0, 0, f->name,
                         "invalid %s field '%s': '%.*s' is out of range %d-%d", f->name, text,
                         (int)n, item, f->lo, f->hi);
    }
    /* "fri-sun": a day-of-week range may end on Sunday written as 0. */
    if (f->hi == 7 && b == 0 && a > 0) b = 7;
    if (a > b) {
      size_t n = strcspn(item, ",");
      return mx_error_at(err, MX_EPARSE, NULL, 0, 0, f->name,
                         "invalid %s field '%s': range '%.*s' runs backwards", f->name, text,
                         (int)n, item);
    }
    for (int v = a; v <= b; v += step) *bits |= 1ULL << v;
    if (*p == 0) break;
    p++;
    continue;
  bad : {
    size_t n = strcspn(item, ",");
    return mx_error_at(err, MX_EPARSE, NULL, 0, 0, f->name,
                       "invalid %s field '%s': cannot read '%.*s'", f->name, text, (int)n, item);
  }
  }
  return MX_OK;
}

int mx_cron_parse(const char *expr, mx_cron *out, mx_error *err) {
  memset(out, 0, sizeof *out);
  while (isspace((unsigned char)*expr)) expr++;
  if (*expr == '@') {
    static const struct {
      const char *name, *expansion;
    } macros[] = {{"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},
                  {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
                  {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
                  {"@annually", "0 0 1 1 *"}};
    size_t n = strcspn(expr, " \t\r\n");
    const char *rest = expr + n;
    while (isspace((unsigned char)*rest)) rest++;
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
      if (strlen(macros[i].name) == n && strncasecmp(expr, macros[i].name, n) == 0 && !*rest)
        return mx_cron_parse(macros[i].expansion, out, err);
    return mx_error_at(err, MX_EPARSE, NULL, 0, 0, "cron",
                       "unknown cron macro '%.*s' (known: @hourly @daily @weekly @monthly "
                       "@yearly)",
                       (int)n, expr);
  }
  char buf[5][128];
  int nf = 0;
  const char *p = expr;
  while (*p) {
    size_t n = strcspn(p, " \t\r\n");
    if (nf == 5) {
      nf++;
      break;
    }
    if (n >= sizeof buf[0])
      return mx_error_at(err, MX_EPARSE, NULL, 0, 0, fields[nf].name, "%s field too long",
                         fields[nf].name);
    memcpy(buf[nf], p, n);
    buf[nf][n] = 0;
    nf++;
    p += n;
    while (isspace((unsigned char)*p)) p++;
  }
  if (nf != 5)
    return mx_error_at(err, MX_EPARSE, NULL, 0, 0, "cron",
                       "expected 5 fields (minute hour day-of-month month day-of-week), got %s "
                       "in '%s'",
                       nf > 5 ? "more" : (nf == 0 ? "none" : "fewer"), expr);
  uint64_t bits[5];
  for (int i = 0; i < 5; i++) {
    int rc = parse_field(&fields[i], buf[i], &bits[i], err);
    if (rc) return rc;
  }
  out->minute = bits[0];
  out->hour = (uint32_t)bits[1];
  out->dom = (uint32_t)bits[2];
  out->month = (uint16_t)bits[3];
  out->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 = Sunday */
  out->dom_star = buf[2][0] == '*';
  out->dow_star = buf[4][0] == '*';
  return MX_OK;
}

static int day_matches(const mx_cron *c, int64_t y, int mon, int mday) {
  int64_t days = mx__days_from_civil(y, mon, mday);
  int wday = (int)(((days % 7) + 11) % 7);
  int dom_ok = (c->dom >> mday) & 1, dow_ok = (c->dow >> wday) & 1;
  /* Vixie cron: OR when both day fields are restricted, else AND. */
  return (c->dom_star || c->dow_star) ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
}

int mx_cron_matches(const mx_cron *c, int year, int mon, int mday, int hour, int min) {
  return ((c->month >> mon) & 1) && day_matches(c, year, mon, mday) && ((c->hour >> hour) & 1) &&
         ((c->minute >> min) & 1);
}

/* The first matching civil minute >= local (local seconds, minute aligned).
 * Returns 0 and sets *out, or -1 when none within `years`. */
static int next_civil(const mx_cron *c, int64_t local, int years, int64_t *out) {
  mx_civil t;
  mx__civil_split(local, &t);
  int64_t y = t.year, ylimit = t.year + years;
  int mon = t.mon, mday = t.mday, hour = t.hour, min = t.min;
  while (y <= ylimit) {
    if (!((c->month >> mon) & 1)) {
      if (++mon > 12) {
        mon = 1;
        y++;
      }
      mday = 1;
      hour = 0;
      min = 0;
      continue;
    }
    if (mday > mx__days_in_month(y, mon) || !day_matches(c, y, mon, mday)) {
      if (++mday > mx__days_in_month(y, mon)) {
        mday = 1;
        if (++mon > 12) {
          mon = 1;
          y++;
        }
      }
      hour = 0;
      min = 0;
      continue;
    }
    if (!((c->hour >> hour) & 1)) {
      min = 0;
      if (++hour > 23) {
        hour = 0;
        if (++mday > mx__days_in_month(y, mon)) {
          mday = 1;
          if (++mon > 12) {
            mon = 1;
            y++;
          }
        }
      }
      continue;
    }
    if (!((c->minute >> min) & 1)) {
      if (++min > 59) {
        min = 0;
        if (++hour > 23) {
          hour = 0;
          if (++mday > mx__days_in_month(y, mon)) {
            mday = 1;
            if (++mon > 12) {
              mon = 1;
              y++;
            }
          }
        }
      }
      continue;
    }
    *out = mx__days_from_civil(y, mon, mday) * 86400 + hour * 3600 + min * 60;
    return 0;
  }
  return -1;
}

static int64_t floor_minute(int64_t t) {
  int64_t r = t % 60;
  return r < 0 ? t - r - 60 : t - r;
}

int mx_cron_next(const mx_cron *c, const mx_tz *tz, int64_t after, int64_t *next) {
  /* The civil reading of `after` maps to an instant <= after, and the mapping
   * is monotonic, so no earlier reading can map past `after`. */
  int64_t local = floor_minute(after + mx_tz_offset(tz, after));
  /* Bound the walk through repeated readings (at most a day long in any zone). */
  for (int guard = 0; guard < 2 * 1440 + 2; guard++) {
    int64_t cand;
    if (next_civil(c, local, 8, &cand) != 0) break;
    int64_t at = mx_tz_resolve(tz, cand, NULL);
    if (at > after) {
      *next = at;
      return MX_OK;
    }
    local = cand + 60;
  }
  return MX_ENOTFOUND;
}
