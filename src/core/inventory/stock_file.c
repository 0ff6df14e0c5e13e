/* The files behind merx plan (merx/replenish.h): the stock file (one row per
 * item, parameters by column role, defaults for empty fields) and a forecast
 * CSV in merx forecast's layout (id,h,forecast,loNN,hiNN...), attached to the
 * stocked items; the sd of each step is recovered from its widest interval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/replenish.h"
#include "util/util.h"

const char *const mx_plan_stock_roles[] = {"id",      "on_hand",      "on_order", "lead_time",
                                           "review",  "moq",          "pack_size", "service",
                                           "service_type", "h",       "p",         "unit_cost",
                                           NULL};

int mx_service_type_parse(const char *s, int *type) {
  if (!s || strcmp(s, "cycle") == 0 || strcmp(s, "1") == 0 || strcmp(s, "type1") == 0) {
    *type = MX_SERVICE_CYCLE;
    return 0;
  }
  if (strcmp(s, "fill") == 0 || strcmp(s, "2") == 0 || strcmp(s, "type2") == 0) {
    *type = MX_SERVICE_FILL;
    return 0;
  }
  return MX_EINVAL;
}

void mx_plan_set_free(mx_plan_set *ps) {
  if (!ps) return;
  for (size_t i = 0; i < ps->n; i++) {
    free(ps->items[i].id);
    free(ps->items[i].mean);
    free(ps->items[i].sigma);
    free(ps->items[i].cum_sigma);
  }
  free(ps->items);
  mx_idmap_free(ps->ids);
  memset(ps, 0, sizeof *ps);
}

/* ----------------------------------------------------------- stock file */

static int field_number(const char *path, long line, int col, const char *name, const char *text,
                        double *out, int *present, mx_error *err) {
  if (!text || !*text) {
    *present = 0;
    return MX_OK;
  }
  if (mx_parse_double(text, out) != 0)
    return mx_error_at(err, MX_EPARSE, path, line, col + 1, name, "not a finite number: '%s'", text);
  *present = 1;
  return MX_OK;
}

int mx_plan_read_stock(const char *path, const mx_plan_defaults *def, mx_plan_set *ps,
                       mx_error *err) {
  memset(ps, 0, sizeof *ps);
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  enum { C_ID, C_OH, C_OO, C_LT, C_RV, C_MOQ, C_PACK, C_SV, C_ST, C_H, C_P, C_UC, C_N };
  const char *const *cn = mx_plan_stock_roles;
  int col[C_N];
  const char *hname[C_N]; /* header name of each role, for messages */
  for (int k = 0; k < C_N; k++) {
    /* the header name of role k: --stock-columns override, else the role */
    const char *want = cn[k];
    for (int i = 0; i < def->stock_columns.count; i++)
      if (strcmp(def->stock_columns.role[i], cn[k]) == 0) want = def->stock_columns.name[i];
    hname[k] = want;
    col[k] = -1;
    for (size_t j = 0; j < nh; j++)
      if (strcmp(names[j], want) == 0) col[k] = (int)j;
    if (col[k] < 0 && want != cn[k]) {
      mx_csv_close(csv);
      return mx_error_at(err, MX_EPARSE, path, 1, 0, want,
                         "--stock-columns %s=%s: no such column in the header", cn[k], want);
    }
  }
  if (col[C_ID] < 0 || col[C_OH] < 0) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, col[C_ID] < 0 ? hname[C_ID] : hname[C_OH],
                       "the stock file needs columns id and on_hand (and usually lead_time, "
                       "on_order, moq, pack_size, service)");
  }
  ps->ids = mx_idmap_create();
  if (!ps->ids) {
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  size_t cap = 0;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    const char *txt[C_N];
    for (int k = 0; k < C_N; k++) txt[k] = col[k] >= 0 && (size_t)col[k] < nf ? f[col[k]] : NULL;
    if (!txt[C_ID] || !*txt[C_ID]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ID] + 1, hname[C_ID], "empty item id");
      break;
    }
    if (mx_idmap_find(ps->ids, txt[C_ID], strlen(txt[C_ID])) >= 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ID] + 1, hname[C_ID],
                       "item '%s' appears twice in the stock file", txt[C_ID]);
      break;
    }
    if (ps->n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      mx_plan_input *ni = realloc(ps->items, nc * sizeof *ni);
      if (!ni) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      ps->items = ni;
      cap = nc;
    }
    mx_plan_input *it = &ps->items[ps->n];
    memset(it, 0, sizeof *it);
    it->line = line;
    double v[C_N];
    int has[C_N];
    memset(has, 0, sizeof has);
    for (int k = C_OH; k < C_N && rc >= 0; k++) {
      if (k == C_ST) continue;
      rc = field_number(path, line, col[k], hname[k], txt[k], &v[k], &has[k], err);
    }
    if (rc < 0) break;
    if (!has[C_OH]) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_OH] + 1, hname[C_OH], "on_hand is empty");
      break;
    }
    it->item.on_hand = v[C_OH];
    it->item.on_order = has[C_OO] ? v[C_OO] : 0;
    it->item.lead_time = has[C_LT] ? v[C_LT] : def->lead_time;
    it->item.review = has[C_RV] ? v[C_RV] : def->review;
    it->item.moq = has[C_MOQ] ? v[C_MOQ] : 0;
    it->item.pack_size = has[C_PACK] ? v[C_PACK] : 1; /* whole units by default */
    it->item.dist = def->dist;
    it->unit_cost = has[C_UC] ? v[C_UC] : NAN;
    if (has[C_UC] && !(v[C_UC] >= 0 && v[C_UC] <= MX_PLAN_MAX_UNITS)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_UC] + 1, hname[C_UC],
                       "unit_cost must be a number >= 0, got '%s'", txt[C_UC]);
      break;
    }
    if (!isfinite(it->item.lead_time)) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_LT] + 1, hname[C_LT],
                       "no lead time (add a lead_time column or --lead-time)");
      break;
    }
    int type = def->service_type;
    if (txt[C_ST] && *txt[C_ST] && mx_service_type_parse(txt[C_ST], &type) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col[C_ST] + 1, hname[C_ST],
                       "expected cycle or fill, got '%s'", txt[C_ST]);
      break;
    }
    if (has[C_SV]) {
      it->item.service_type = type;
      it->item.service = v[C_SV];
    } else if (has[C_H] || has[C_P]) {
      it->item.service_type = 0; /* newsvendor ratio */
      it->item.h = has[C_H] ? v[C_H] : NAN;
      it->item.p = has[C_P] ? v[C_P] : NAN;
    } else {
      it->item.service_type = type;
      it->item.service = def->service;
    }
    /* Validate now so errors name the stock file line (the forecast is
     * checked once it is attached). */
    static const double one = 1.0;
    mx_plan_item probe = it->item;
    probe.mean = &one;
    probe.horizon = 1;
    mx_plan_row row;
    if ((rc = mx_plan_item_compute(&probe, &row, err)) != MX_OK) {
      char msg[MX_ERROR_MESSAGE_MAX];
      snprintf(msg, sizeof msg, "%s", err->message);
      int fk = strstr(msg, "service")       ? C_SV
               : strstr(msg, "lead")        ? C_LT
               : strstr(msg, "moq")         ? C_MOQ
               : strstr(msg, "pack")        ? C_PACK
               : strstr(msg, "on_order")    ? C_OO
               : strstr(msg, "on_hand")     ? C_OH
               : strstr(msg, "review")      ? C_RV
               : strstr(msg, "h (holding")  ? C_H
               : strstr(msg, "p (stockout") ? C_P
                                            : -1;
      const char *field = fk >= 0 ? hname[fk] : NULL;
      int c = fk >= 0 ? col[fk] + 1 : 0;
      rc = mx_error_at(err, MX_EINVAL, path, line, c, field, "%s", msg);
      break;
    }
    it->id = mx__strdup(txt[C_ID]);
    if (!it->id || mx_idmap_intern(ps->ids, txt[C_ID], strlen(txt[C_ID])) < 0) {
      free(it->id);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    ps->n++;
  }
  mx_csv_close(csv);
  if (rc < 0) {
    mx_plan_set_free(ps);
    return rc;
  }
  if (ps->n == 0) {
    mx_plan_set_free(ps);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no items in the stock file");
  }
  return MX_OK;
}

/* -------------------------------------------------------- forecast CSV */

/* Append value v at period h (1-based) of an item's arrays. */
static int put_period(mx_plan_input *it, long h, double mean, double sigma, int has_sigma,
                      mx_error *err) {
  size_t need = (size_t)h;
  if (need > it->cap) {
    size_t nc = it->cap ? it->cap : 8;
    while (nc < need) nc *= 2;
    double *m = realloc(it->mean, nc * sizeof *m);
    if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
    it->mean = m;
    double *s = realloc(it->sigma, nc * sizeof *s);
    if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
    it->sigma = s;
    for (size_t k = it->cap; k < nc; k++) {
      it->mean[k] = NAN;
      it->sigma[k] = NAN;
    }
    it->cap = nc;
  }
  it->mean[h - 1] = mean;
  it->sigma[h - 1] = has_sigma ? sigma : NAN;
  if ((size_t)h > it->horizon) it->horizon = (size_t)h;
  return MX_OK;
}

int mx_plan_read_forecast_csv(const char *path, mx_plan_set *ps, mx_error *err) {
  mx_csv *csv;
  mx_csv_options co = mx_csv_defaults();
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc) return rc;
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  int cid = -1, ch = -1, cf = -1, chi = -1;
  double best_level = 0;
  for (size_t j = 0; j < nh; j++) {
    if (strcmp(names[j], "id") == 0) cid = (int)j;
    else if (strcmp(names[j], "h") == 0) ch = (int)j;
    else if (strcmp(names[j], "forecast") == 0) cf = (int)j;
    else if (strncmp(names[j], "hi", 2) == 0) {
      double lv;
      if (mx_parse_double(names[j] + 2, &lv) == 0 && lv > 0 && lv < 100 && lv > best_level) {
        best_level = lv;
        chi = (int)j;
      }
    }
  }
  if (cid < 0 || ch < 0 || cf < 0) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, cid < 0 ? "id" : ch < 0 ? "h" : "forecast",
                       "a forecast CSV needs columns id, h and forecast (as merx forecast writes)");
  }
  /* Two-sided level-% interval: hi = forecast + z sigma, z = Phi^-1((1 + level) / 2). */
  double z = chi >= 0 ? mx_std_normal_quantile(0.5 + best_level / 200.0) : NAN;
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if ((size_t)cid >= nf || (size_t)ch >= nf || (size_t)cf >= nf) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)nf, NULL, "too few fields (%zu)", nf);
      break;
    }
    int64_t k = mx_idmap_find(ps->ids, f[cid], strlen(f[cid]));
    if (k < 0) {
      ps->unplanned_rows++;
      continue;
    }
    double h, m, hi = NAN;
    if (mx_parse_double(f[ch], &h) != 0 || h < 1 || h != floor(h) || h > 100000) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ch + 1, "h",
                       "expected a step number 1, 2, ..., got '%s'", f[ch]);
      break;
    }
    if (mx_parse_double(f[cf], &m) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, cf + 1, "forecast", "not a finite number: '%s'",
                       f[cf]);
      break;
    }
    if (m < 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, cf + 1, "forecast",
                       "negative demand forecast %g (forecast with --nonneg)", m);
      break;
    }
    if (chi >= 0 && (size_t)chi < nf && f[chi][0]) {
      if (mx_parse_double(f[chi], &hi) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, chi + 1, names[chi],
                         "not a finite number: '%s'", f[chi]);
        break;
      }
    }
    mx_plan_input *it = &ps->items[k];
    if ((size_t)h <= it->horizon && !isnan(it->mean[(size_t)h - 1])) {
      rc = mx_error_at(err, MX_EPARSE, path, line, ch + 1, "h", "item '%s' has step %g twice",
                       f[cid], h);
      break;
    }
    double sd = isfinite(hi) ? (hi > m ? (hi - m) / z : 0.0) : NAN;
    if ((rc = put_period(it, (long)h, m, sd, isfinite(sd), err))) break;
  }
  mx_csv_close(csv);
  if (rc < 0) return rc;
  /* Steps must be 1..H without gaps; the sd is known for all or none. */
  for (size_t i = 0; i < ps->n; i++) {
    mx_plan_input *it = &ps->items[i];
    int all_sd = 1;
    for (size_t t = 0; t < it->horizon; t++) {
      if (isnan(it->mean[t]))
        return mx_error_at(err, MX_EPARSE, path, 0, 0, "h", "item '%s' has no forecast for step %zu",
                           it->id, t + 1);
      if (isnan(it->sigma[t])) all_sd = 0;
    }
    if (!all_sd) {
      free(it->sigma);
      it->sigma = NULL;
    }
  }
  return MX_OK;
}
