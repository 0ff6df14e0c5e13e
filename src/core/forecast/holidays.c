/* Holiday calendars as regressors: "country,date,name" rows of one country
 * become, per period of a dated series, the number of holiday days in it
 * (and optionally of the days just before and after holidays).
 *
 * One pooled "holiday" regressor rather than one per holiday name: each named
 * holiday occurs once a year, so two years of history hold two observations
 * of "Easter Monday", too few to estimate its own effect, while a pooled
 * effect has all of them (Hyndman & Athanasopoulos, FPP3 sec. 7.4, use one
 * dummy for public holidays the same way). A count rather than 0/1 lets a
 * week of Christmas and Boxing Day weigh twice. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/forecast/internal.h"
#include "merx/csv.h"
#include "util/util.h"

void mx_holidays_free(mx_holidays *h) {
  if (!h) return;
  free(h->days);
  free(h->path);
  free(h->country);
  free(h);
}

static int cmp_day(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Sort and drop repeats; returns the new count. */
static size_t sort_unique(int64_t *d, size_t n) {
  if (!n) return 0;
  qsort(d, n, sizeof *d, cmp_day);
  size_t m = 1;
  for (size_t i = 1; i < n; i++)
    if (d[i] != d[m - 1]) d[m++] = d[i];
  return m;
}

static int is_date(const char *f, int64_t *day) {
  int64_t t;
  size_t len = strlen(f);
  if (len != 10 || f[4] != '-' || f[7] != '-' || mx_parse_time(f, &t) != 0) return 0;
  *day = mx__floor_div(t, 86400);
  return 1;
}

int mx_holidays_read(const char *path, const char *country, mx_holidays **out, mx_error *err) {
  *out = NULL;
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 0; /* a header is recognised by its non-date date field */
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  mx_holidays *h = calloc(1, sizeof *h);
  size_t cap = 0;
  char seen[2][64] = {"", ""}; /* the first two countries met, for messages */
  int first = 1;
  int64_t year_lo = 0, year_hi = 0;
  if (!h || !(h->path = mx__strdup(path))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    int64_t day;
    if (nf < 3) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf + 1, NULL,
                       "expected 3 fields country,date,name, got %zu", nf);
      goto fail;
    }
    int ok = is_date(f[1], &day);
    if (first && !ok) {
      first = 0; /* the header */
      continue;
    }
    first = 0;
    if (!f[0][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 1, "country", "empty country");
      goto fail;
    }
    if (!ok) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 2, "date", "not a date (YYYY-MM-DD): '%s'", f[1]);
      goto fail;
    }
    if (!f[2][0]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, 3, "name", "empty holiday name");
      goto fail;
    }
    for (int k = 0; k < 2; k++) {
      if (!strcasecmp(seen[k], f[0])) break;
      if (!seen[k][0]) {
        snprintf(seen[k], sizeof seen[k], "%s", f[0]);
        break;
      }
    }
    if (!country && seen[1][0]) {
      rc = mx_error_at(err, MX_EINVAL, path, line, 1, "country",
                       "the calendar holds several countries ('%s', '%s', ...): choose one "
                       "(--country, or the country option)", seen[0], seen[1]);
      goto fail;
    }
    if (country && strcasecmp(country, f[0])) continue;
    if (!h->country && !(h->country = mx__strdup(f[0]))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if (h->count == cap) {
      size_t nc = cap ? 2 * cap : 64;
      int64_t *nd = realloc(h->days, nc * sizeof *nd);
      if (!nd) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      h->days = nd, cap = nc;
    }
    h->days[h->count++] = day;
    int64_t y;
    int m, d;
    mx__civil_from_days(day, &y, &m, &d);
    if (h->count == 1 || y < year_lo) year_lo = y;
    if (h->count == 1 || y > year_hi) year_hi = y;
  }
  if (rc < 0) goto fail;
  if (h->count == 0) {
    if (country)
      rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, "country",
                       "no holidays of country '%s' (the file has '%s'%s)", country,
                       seen[0][0] ? seen[0] : "none", seen[1][0] ? ", ..." : "");
    else
      rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no holidays in the calendar");
    goto fail;
  }
  h->count = sort_unique(h->days, h->count);
  h->first_day = mx__days_from_civil(year_lo, 1, 1);
  h->last_day = mx__days_from_civil(year_hi, 12, 31);
  mx_csv_close(csv);
  *out = h;
  return MX_OK;
fail:
  mx_csv_close(csv);
  mx_holidays_free(h);
  return rc ? rc : MX_EINVAL;
}

static int has_day(const mx_holidays *h, int64_t day) {
  return bsearch(&day, h->days, h->count, sizeof *h->days, cmp_day) != NULL;
}

/* Days within `width` days before (sign -1: after) a holiday that are not
 * holidays themselves, sorted and distinct; *n their number. */
static int64_t *near_days(const mx_holidays *h, int width, int sign, size_t *n) {
  int64_t *d = malloc((h->count * (size_t)width + 1) * sizeof *d);
  if (!d) return NULL;
  size_t m = 0;
  for (size_t i = 0; i < h->count; i++)
    for (int j = 1; j <= width; j++) {
      int64_t day = h->days[i] - sign * j;
      if (!has_day(h, day)) d[m++] = day;
    }
  *n = sort_unique(d, m);
  return d;
}

int mx_holidays_regressors(const mx_holidays *h, const mx_series_set *s, int horizon, int before,
                           int after, mx_regressors **out, mx_error *err) {
  *out = NULL;
  if (s->freq == MX_FREQ_NONE || !s->start)
    return mx_error_set(err, MX_EINVAL, "holidays need dated series (long input with a day, week or "
                                        "month frequency), not wide rows of numbers");
  if (horizon < 0 || before < 0 || after < 0 || before > 366 || after > 366)
    return mx_error_set(err, MX_EINVAL, "holidays: horizon, days before and after must be in 0..366");
  char lo[16], hi[16];
  mx_format_time(h->first_day * 86400, 1, lo, sizeof lo);
  mx_format_time(h->last_day * 86400, 1, hi, sizeof hi);
  for (size_t i = 0; i < s->count; i++) {
    int64_t d0 = mx__floor_div(mx_series_time(s, i, 0), 86400);
    int64_t d1 = mx__floor_div(mx_series_time(s, i, (long)(s->len[i] + (size_t)horizon)), 86400) - 1;
    if (d0 < h->first_day || d1 > h->last_day) {
      char a[16], b[16];
      mx_format_time(d0 * 86400, 1, a, sizeof a);
      mx_format_time(d1 * 86400, 1, b, sizeof b);
      return mx_error_at(err, MX_EINVAL, h->path, 0, 0, NULL,
                         "the calendar of '%s' covers %s to %s, but series '%s' with its horizon "
                         "runs from %s to %s: add the missing years (a year left out would read "
                         "as a year without holidays)", h->country, lo, hi, s->ids[i], a, b);
    }
  }
  int64_t *sets[3] = {h->days, NULL, NULL};
  size_t counts[3] = {h->count, 0, 0};
  static const char *const names[3] = {"holiday", "holiday_before", "holiday_after"};
  int use[3] = {1, before > 0, after > 0};
  int rc = MX_OK;
  const char *used[3];
  int nx = 0;
  for (int k = 0; k < 3; k++)
    if (use[k]) used[nx++] = names[k];
  mx_regressors *r = fc_regressors_zeros(s, horizon, nx, used);
  if (!r || (before && !(sets[1] = near_days(h, before, 1, &counts[1]))) ||
      (after && !(sets[2] = near_days(h, after, -1, &counts[2])))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < s->count; i++) {
    size_t len = r->len[i];
    int64_t p0 = fc_period_of(s->start[i], s->freq);
    for (int k = 0, col = 0; k < 3; k++) {
      if (!use[k]) continue;
      double *v = r->values[i] + (size_t)col++ * len;
      for (size_t j = 0; j < counts[k]; j++) {
        int64_t p = fc_period_of(sets[k][j] * 86400, s->freq) - p0;
        if (p >= 0 && p < (int64_t)len) v[p] += 1;
      }
    }
  }
done:
  free(sets[1]);
  free(sets[2]);
  if (rc) mx_regressors_free(r);
  else *out = r;
  return rc;
}
