/* IANA time zones read from TZif files (RFC 8536) — no use of the C library's
 * process-global TZ state, so zones can be held side by side and shared.
 *
 * A zone becomes one sorted list of transitions (UTC instant, offset after).
 * Instants past the file's last transition follow the POSIX TZ rule in the
 * version 2+ footer (RFC 8536 section 3.3); that rule is expanded into
 * explicit transitions up to year 2200 at load time, the way tzcode's
 * localtime.c does, so every lookup is one binary search. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/schedule.h"
#include "sched/internal.h"
#include "util/util.h"

struct mx_tz {
  char *name;
  int n;           /* transitions */
  int64_t *at;     /* UTC instants, ascending */
  int32_t *off;    /* offset in effect from at[i] on */
  int32_t off0;    /* offset before at[0] (time type 0, RFC 8536 3.2) */
};

#define TZ_EXPAND_LAST_YEAR 2200

void mx__civil_split(int64_t local, mx_civil *c) {
  int64_t days = mx__floor_div(local, 86400);
  int64_t secs = local - days * 86400;
  mx__civil_from_days(days, &c->year, &c->mon, &c->mday);
  c->hour = (int)(secs / 3600);
  c->min = (int)(secs / 60 % 60);
  c->sec = (int)(secs % 60);
  /* 1970-01-01 was a Thursday (4). */
  c->wday = (int)(((days % 7) + 11) % 7);
}

/* ---- TZif reading */
static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ rule ("GMT0BST,M3.5.0/1,M10.5.0") */
typedef struct {
  char kind; /* 'M', 'J' (1..365, Feb 29 never counted), 'D' (0..365) */
  int m, w, d, n;
  int32_t time; /* seconds after local midnight, may be negative or > 24 h */
} posix_date;

typedef struct {
  int32_t std_off, dst_off; /* seconds east */
  int has_dst, has_rule;
  posix_date start, end;
} posix_tz;

static const char *posix_name(const char *p) {
  if (*p == '<') {
    while (*p && *p != '>') p++;
    return *p == '>' ? p + 1 : NULL;
  }
  const char *s = p;
  while (isalpha((unsigned char)*p)) p++;
  return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds; returns end or NULL. */
static const char *posix_hms(const char *p, int32_t *out) {
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*p)) return NULL;
  int32_t h = 0, m = 0, s = 0;
  while (isdigit((unsigned char)*p)) h = h * 10 + (*p++ - '0');
  if (h > 167) return NULL;
  if (*p == ':') {
    p++;
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p)) m = m * 10 + (*p++ - '0');
    if (*p == ':') {
      p++;
      if (!isdigit((unsigned char)*p)) return NULL;
      while (isdigit((unsigned char)*p)) s = s * 10 + (*p++ - '0');
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return p;
}

static const char *posix_rule_date(const char *p, posix_date *d) {
  memset(d, 0, sizeof *d);
  if (*p == 'M') {
    d->kind = 'M';
    int *dst[3] = {&d->m, &d->w, &d->d};
    p++;
    for (int i = 0; i < 3; i++) {
      if (i > 0 && *p++ != '.') return NULL;
      if (!isdigit((unsigned char)*p)) return NULL;
      *dst[i] = 0;
      while (isdigit((unsigned char)*p) && *dst[i] < 100) *dst[i] = *dst[i] * 10 + (*p++ - '0');
    }
    if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6) return NULL;
  } else {
    d->kind = 'D';
    if (*p == 'J') {
      d->kind = 'J';
      p++;
    }
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p)) d->n = d->n * 10 + (*p++ - '0');
    if (d->n > 365 || (d->kind == 'J' && d->n < 1)) return NULL;
  }
  d->time = 7200;
  if (*p == '/') {
    p = posix_hms(p + 1, &d->time);
    if (!p) return NULL;
  }
  return p;
}

static int posix_parse(const char *s, posix_tz *tz) {
  memset(tz, 0, sizeof *tz);
  const char *p = posix_name(s);
  if (!p) return -1;
  int32_t o;
  if (!(p = posix_hms(p, &o))) return -1;
  tz->std_off = -o; /* POSIX offsets count west of Greenwich */
  if (!*p) return 0;
  if (!(p = posix_name(p))) return -1;
  tz->has_dst = 1;
  tz->dst_off = tz->std_off + 3600;
  if (*p && *p != ',') {
    if (!(p = posix_hms(p, &o))) return -1;
    tz->dst_off = -o;
  }
  if (!*p) {
    /* No rule: POSIX leaves the default unspecified; tzcode uses the US rule. */
    tz->has_rule = 1;
    posix_rule_date("M3.2.0", &tz->start);
    posix_rule_date("M11.1.0", &tz->end);
    return 0;
  }
  if (*p != ',' || !(p = posix_rule_date(p + 1, &tz->start))) return -1;
  if (*p != ',' || !(p = posix_rule_date(p + 1, &tz->end))) return -1;
  tz->has_rule = 1;
  return *p ? -1 : 0;
}

/* Local-midnight day number (days since epoch) of a rule date in year y. */
static int64_t posix_day(const posix_date *d, int64_t y) {
  if (d->kind == 'J') {
    int64_t day = mx__days_from_civil(y, 1, 1) + d->n - 1;
    if (mx__is_leap_year(y) && d->n >= 60) day++;
    return day;
  }
  if (d->kind == 'D') return mx__days_from_civil(y, 1, 1) + d->n;
  /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m. */
  int64_t first = mx__days_from_civil(y, d->m, 1);
  int wday1 = (int)(((first % 7) + 11) % 7);
  int mday = 1 + (d->d - wday1 + 7) % 7 + (d->w - 1) * 7;
  int dim = mx__days_in_month(y, d->m);
  while (mday > dim) mday -= 7;
  return first + mday - 1;
}

static int tz_push(mx_tz *tz, int *cap, int64_t at, int32_t off) {
  if (tz->n == *cap) {
    int nc = *cap ? *cap * 2 : 64;
    int64_t *a = realloc(tz->at, (size_t)nc * sizeof *a);
    if (!a) return -1;
    tz->at = a;
    int32_t *o = realloc(tz->off, (size_t)nc * sizeof *o);
    if (!o) return -1;
    tz->off = o;
    *cap = nc;
  }
  tz->at[tz->n] = at;
  tz->off[tz->n] = off;
  tz->n++;
  return 0;
}

/* Append the footer rule's transitions after the last explicit one. */
static int tz_expand(mx_tz *tz, int *cap, const posix_tz *r) {
  int64_t last = tz->n ? tz->at[tz->n - 1] : INT64_MIN;
  if (!r->has_dst || !r->has_rule) {
    int32_t cur = tz->n ? tz->off[tz->n - 1] : tz->off0;
    if (cur != r->std_off) {
      if (!tz->n) tz->off0 = r->std_off;
      else if (tz_push(tz, cap, last + 1, r->std_off)) return -1;
    }
    return 0;
  }
  mx_civil c;
  mx__civil_split(tz->n ? last : 0, &c);
  for (int64_t y = c.year - 1; y <= TZ_EXPAND_LAST_YEAR; y++) {
    /* Start is given in standard local time, end in daylight local time. */
    int64_t s = posix_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t e = posix_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    int64_t t1 = s < e ? s : e, t2 = s < e ? e : s;
    int32_t o1 = s < e ? r->dst_off : r->std_off, o2 = s < e ? r->std_off : r->dst_off;
    if (t1 > last && tz_push(tz, cap, t1, o1)) return -1;
    if (t1 > last) last = t1;
    if (t2 > last && tz_push(tz, cap, t2, o2)) return -1;
    if (t2 > last) last = t2;
  }
  return 0;
}

static int tz_valid_name(const char *name) {
  if (!*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 255) return 0;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return 0;
  return 1;
}

static int tz_parse(mx_tz *tz, const unsigned char *b, size_t len, const char *path,
                    mx_error *err) {
#define BAD() mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "not a valid TZif file")
  if (len < 44 || memcmp(b, "TZif", 4) != 0) return BAD();
  int version = b[4] ? b[4] - '0' : 1;
  const unsigned char *h = b;
  size_t tsize = 4;
  uint32_t cnt[6];
  for (int i = 0; i < 6; i++) cnt[i] = be32(h + 20 + 4 * i);
  /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
  size_t v1 = (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * 8 + cnt[1] +
              cnt[0];
  if (44 + v1 > len) return BAD();
  if (version >= 2) {
    h = b + 44 + v1;
    if ((size_t)(h - b) + 44 > len || memcmp(h, "TZif", 4) != 0) return BAD();
    for (int i = 0; i < 6; i++) cnt[i] = be32(h + 20 + 4 * i);
    tsize = 8;
  }
  uint32_t timecnt = cnt[3], typecnt = cnt[4];
  /* "right/" zones count leap seconds in their timestamps; civil scheduling
   * wants POSIX time, so they are refused rather than silently ~27 s off. */
  if (cnt[2] > 0)
    return mx_error_set(err, MX_EINVAL,
                        "time zone file %s counts leap seconds; use the zone without right/",
                        path);
  size_t need = (size_t)timecnt * (tsize + 1) + (size_t)typecnt * 6 + cnt[5] +
                (size_t)cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
  const unsigned char *d = h + 44;
  if (typecnt == 0 || (size_t)(d - b) + need > len) return BAD();
  const unsigned char *times = d, *idx = d + (size_t)timecnt * tsize;
  const unsigned char *types = idx + timecnt;
  int cap = 0;
  tz->off0 = (int32_t)be32(types);
  for (uint32_t i = 0; i < timecnt; i++) {
    if (idx[i] >= typecnt) return BAD();
    int64_t at = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
    if (tz->n && at <= tz->at[tz->n - 1]) return BAD();
    if (tz_push(tz, &cap, at, (int32_t)be32(types + 6 * idx[i])))
      return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (version >= 2) {
    const unsigned char *f = d + need;
    if (f < b + len && *f == '\n') {
      const unsigned char *e = memchr(f + 1, '\n', (size_t)(b + len - f - 1));
      if (e && e > f + 1) {
        char rule[256];
        size_t rl = (size_t)(e - f - 1);
        if (rl >= sizeof rule) return BAD();
        memcpy(rule, f + 1, rl);
        rule[rl] = 0;
        posix_tz r;
        if (posix_parse(rule, &r) != 0)
          return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                             "unsupported TZ rule in footer: '%s'", rule);
        if (tz_expand(tz, &cap, &r)) return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
    }
  }
  return MX_OK;
#undef BAD
}

int mx_tz_load(const char *name, mx_tz **out, mx_error *err) {
  *out = NULL;
  if (!name || !tz_valid_name(name))
    return mx_error_set(err, MX_ENOTFOUND, "unknown time zone '%s'", name ? name : "");
  const char *dir = getenv("TZDIR");
  if (!dir || !*dir) dir = "/usr/share/zoneinfo";
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return mx_error_set(err, MX_ENOTFOUND, "unknown time zone '%s' (no %s: %s)", name, path,
                        strerror(errno));
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 8192;
      if (cap > (1u << 22)) break; /* TZif files are a few KB; refuse giants */
      unsigned char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  fclose(f);
  mx_tz *tz = calloc(1, sizeof *tz);
  if (!tz || !(tz->name = mx__strdup(name))) {
    free(tz);
    free(buf);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int rc = tz_parse(tz, buf, len, path, err);
  free(buf);
  if (rc != MX_OK) {
    mx_tz_free(tz);
    if (rc == MX_EFORMAT) {
      /* A directory ("Europe") or a non-zone file: to the user, an unknown zone. */
      return mx_error_set(err, MX_ENOTFOUND, "unknown time zone '%s' (%s is not a zone file)",
                          name, path);
    }
    return rc;
  }
  *out = tz;
  return MX_OK;
}

void mx_tz_free(mx_tz *tz) {
  if (!tz) return;
  free(tz->name);
  free(tz->at);
  free(tz->off);
  free(tz);
}

const char *mx_tz_name(const mx_tz *tz) { return tz->name; }

/* Index of the last transition <= t, or -1. */
static int tz_find(const mx_tz *tz, int64_t t) {
  int lo = 0, hi = tz->n; /* first index with at > t */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (tz->at[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

static int32_t seg_off(const mx_tz *tz, int i) { return i < 0 ? tz->off0 : tz->off[i]; }

int32_t mx_tz_offset(const mx_tz *tz, int64_t t) { return seg_off(tz, tz_find(tz, t)); }

int64_t mx_tz_resolve(const mx_tz *tz, int64_t local, int *exists) {
  /* Every real offset is within +-26 h, so only segments overlapping the UTC
   * window [local - 30 h, local + 30 h] can contain local - offset. */
  const int64_t W = 30 * 3600;
  int i = tz_find(tz, local - W);
  int64_t best = INT64_MAX;
  for (int k = i; k < tz->n && (k < 0 || tz->at[k] <= local + W); k++) {
    int64_t u = local - seg_off(tz, k);
    int64_t lo = k < 0 ? INT64_MIN : tz->at[k];
    int64_t hi = k + 1 < tz->n ? tz->at[k + 1] : INT64_MAX;
    if (u >= lo && u < hi && u < best) best = u;
  }
  if (best != INT64_MAX) {
    if (exists) *exists = 1;
    return best;
  }
  /* In a gap: the transition whose forward jump skipped this reading. */
  if (exists) *exists = 0;
  for (int k = i + 1; k < tz->n && tz->at[k] <= local + W; k++) {
    if (k < 0) continue;
    int32_t before = seg_off(tz, k - 1), after = tz->off[k];
    if (after > before && local >= tz->at[k] + before && local < tz->at[k] + after)
      return tz->at[k];
  }
  return local - seg_off(tz, i); /* unreachable for consistent data */
}

char *mx_tz_format(const mx_tz *tz, int64_t t, char *buf, size_t size) {
  int32_t off = mx_tz_offset(tz, t);
  mx_civil c;
  mx__civil_split(t + off, &c);
  int32_t a = off < 0 ? -off : off;
  snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)c.year, c.mon,
           c.mday, c.hour, c.min, c.sec, off < 0 ? '-' : '+', (int)(a / 3600),
           (int)(a / 60 % 60));
  return buf;
}
