/* A campaign's committed decisions as a future promotion regressor: the
 * number of decisions (offers, coupons) for an item in each period of its
 * series, history and horizon. A run committed ahead of time (merx run --now
 * on the campaign's date) puts its decisions in a future period, so regression
 * with ARIMA errors forecasts the demand the campaign will create; decisions
 * of past campaigns in the history are what the effect is estimated from. */
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/csv.h"
#include "merx/idmap.h"
#include "util/util.h"

void mx_promotion_map_free(mx_promotion_map *m) {
  if (!m) return;
  for (size_t i = 0; i < m->count; i++) {
    free(m->keys[i]);
    free(m->ids[i]);
  }
  free(m->keys);
  free(m->ids);
  free(m);
}

int mx_promotion_map_read(const char *path, mx_promotion_map **out, mx_error *err) {
  *out = NULL;
  mx_csv_options co = mx_csv_defaults();
  co.has_header = 1;
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  mx_promotion_map *m = calloc(1, sizeof *m);
  size_t cap = 0;
  if (!m) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if (nf < 2 || !f[0][0] || !f[1][0]) {
      int col = nf < 1 || !f[0][0] ? 1 : 2;
      rc = mx_error_at(err, MX_EPARSE, path, line, col, col == 1 ? "key" : "id",
                       "expected key,id with both fields non-empty");
      goto fail;
    }
    if (m->count == cap) {
      size_t nc = cap ? 2 * cap : 64;
      char **nk = realloc(m->keys, nc * sizeof *nk);
      if (nk) m->keys = nk;
      char **ni = nk ? realloc(m->ids, nc * sizeof *ni) : NULL;
      if (!ni) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      m->ids = ni, cap = nc;
    }
    m->keys[m->count] = mx__strdup(f[0]);
    m->ids[m->count] = mx__strdup(f[1]);
    m->count++;
    if (!m->keys[m->count - 1] || !m->ids[m->count - 1]) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
  }
  if (rc < 0) goto fail;
  if (m->count == 0) {
    rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no key,id rows in the map");
    goto fail;
  }
  mx_csv_close(csv);
  *out = m;
  return MX_OK;
fail:
  mx_csv_close(csv);
  mx_promotion_map_free(m);
  return rc ? rc : MX_EINVAL;
}

/* Add count to series id's period of time t; 1 when counted, 0 outside. */
static int add(mx_regressors *r, const mx_series_set *s, const mx_idmap *ids, const char *id,
               int64_t t, long count, int *known) {
  int64_t i = mx_idmap_find(ids, id, strlen(id));
  if (i < 0) return 0;
  *known = 1;
  int64_t k = fc_period_of(t, s->freq) - fc_period_of(s->start[i], s->freq);
  if (k < 0 || k >= (int64_t)r->len[i]) return 0;
  r->values[i][k] += (double)count;
  return 1;
}

int mx_promotions_regressors(const mx_promotion_count *rows, size_t n, const mx_promotion_map *map,
                             const mx_series_set *s, int horizon, const char *name,
                             mx_regressors **out, mx_promotion_stats *stats, mx_error *err) {
  *out = NULL;
  memset(stats, 0, sizeof *stats);
  if (s->freq == MX_FREQ_NONE || !s->start)
    return mx_error_set(err, MX_EINVAL, "promotions need dated series (long input), not wide rows");
  if (horizon < 0) return mx_error_set(err, MX_EINVAL, "negative horizon");
  if (!name || !name[0]) return mx_error_set(err, MX_EINVAL, "empty regressor name");
  int rc = MX_OK;
  mx_idmap *ids = mx_idmap_create();
  mx_regressors *r = fc_regressors_zeros(s, horizon, 1, &name);
  if (!ids || !r) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < s->count; i++)
    if (mx_idmap_intern(ids, s->ids[i], strlen(s->ids[i])) < 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
  for (size_t j = 0; j < n; j++) {
    int known = 0, counted = 0;
    if (!map) {
      counted = add(r, s, ids, rows[j].key, rows[j].time, rows[j].count, &known);
    } else {
      for (size_t m = 0; m < map->count; m++)
        if (!strcmp(map->keys[m], rows[j].key))
          counted |= add(r, s, ids, map->ids[m], rows[j].time, rows[j].count, &known);
    }
    if (!known) stats->unmatched += rows[j].count;
    else if (!counted) stats->outside += rows[j].count;
    else stats->used += rows[j].count;
  }
done:
  mx_idmap_free(ids);
  if (rc) mx_regressors_free(r);
  else *out = r;
  return rc;
}
