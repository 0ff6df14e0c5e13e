/* Interaction ingest: CSV rows -> (user, item, value, time) by role. */
#include "merx/data.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

mx_ingest_options mx_ingest_defaults(void) {
  mx_ingest_options o;
  memset(&o, 0, sizeof o);
  o.csv = mx_csv_defaults();
  o.keep_times = 1;
  return o;
}

int mx_ingest_add_event_weight(mx_ingest_options *opts, const char *name, size_t len,
                               double weight, mx_error *err) {
  if (len == 0) return mx_error_set(err, MX_EINVAL, "empty event name");
  if (len >= sizeof opts->events[0].name)
    return mx_error_set(err, MX_EINVAL, "event name too long: '%.*s'", (int)len, name);
  if (opts->n_events >= (int)(sizeof opts->events / sizeof opts->events[0]))
    return mx_error_set(err, MX_EINVAL, "too many event types (at most 32)");
  if (!isfinite(weight) || weight < 0)
    return mx_error_set(err, MX_EINVAL, "weight of '%.*s' must be a number >= 0, got %g", (int)len,
                        name, weight);
  mx_event_weight *ev = &opts->events[opts->n_events++];
  memcpy(ev->name, name, len);
  ev->name[len] = '\0';
  ev->weight = (float)weight;
  return MX_OK;
}

static int add_event(void *ctx, const char *name, size_t len, double w, mx_error *err) {
  if (w < 0 || w > 1e6)
    return mx_error_set(err, MX_EINVAL, "weight of '%.*s' must be a number in [0, 1e6], got %g",
                        (int)len, name, w);
  return mx_ingest_add_event_weight(ctx, name, len, w, err);
}

int mx_ingest_parse_event_weights(mx_ingest_options *opts, const char *spec, mx_error *err) {
  opts->n_events = 0;
  return mx_parse_named_numbers(spec, "EVENT=WEIGHT", add_event, opts, err);
}

int mx_ingest_event_weight(const mx_ingest_options *opts, const char *event, float *weight,
                           mx_error *err) {
  for (int k = 0; k < opts->n_events; k++)
    if (strcmp(opts->events[k].name, event) == 0) {
      *weight = opts->events[k].weight;
      return MX_OK;
    }
  char list[512] = "";
  for (int k = 0; k < opts->n_events; k++) {
    if (k) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, opts->events[k].name, sizeof list - strlen(list) - 1);
  }
  return mx_error_set(err, MX_ENOTFOUND, "unknown event type '%.64s' (weights are given for: %s)",
                      event, list);
}

int mx_interactions_read(const char *path, const mx_ingest_options *opts, mx_interaction_fn fn,
                         void *ctx, uint64_t *rows_read, uint64_t *skipped, mx_error *err) {
  mx_ingest_options o = *opts;
  if (rows_read) *rows_read = 0;
  if (skipped) *skipped = 0;
  if (mx_columns_index(&o.columns, "user") == -1 && o.columns.count == 0) {
    /* No selection: the first two columns are user and item. */
    mx_columns_set(&o.columns, "user", "1", NULL);
    mx_columns_set(&o.columns, "item", "2", NULL);
  }
  int have_user = 0, have_item = 0;
  for (int k = 0; k < o.columns.count; k++) {
    if (strcmp(o.columns.role[k], "user") == 0) have_user = 1;
    if (strcmp(o.columns.role[k], "item") == 0) have_item = 1;
  }
  if (!have_user || !have_item)
    return mx_error_set(err, MX_EINVAL, "--columns must name the user and item columns");
  mx_csv *csv;
  int rc = mx_csv_open(path, &o.csv, &csv, err);
  if (rc) return rc;
  rc = mx_columns_resolve(&o.columns, csv, err);
  if (rc) {
    mx_csv_close(csv);
    return rc;
  }
  int cu = mx_columns_index(&o.columns, "user");
  int ci = mx_columns_index(&o.columns, "item");
  int cv = mx_columns_index(&o.columns, "value");
  int ct = mx_columns_index(&o.columns, "time");
  int ce = mx_columns_index(&o.columns, "event");
  const char *roles[5] = {"user", "item", "value", "time", "event"};
  int idx[5] = {cu, ci, cv, ct, ce};
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  /* Default event weights (DESIGN.md) when an event column is chosen alone. */
  if (ce >= 0 && o.n_events == 0) mx_ingest_parse_event_weights(&o, MX_EVENT_WEIGHTS_DEFAULT, NULL);

  char **f;
  size_t *l, nf;
  uint64_t nrows = 0, nskip = 0;
  size_t expect = nh;
  mx_progress prog;
  mx_progress_start(&prog, "reading", mx_csv_file_size(csv));
  for (;;) {
    int r = mx_csv_next(csv, &f, &l, &nf, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) break;
    nrows++;
    long line = mx_csv_line(csv);
    if (expect == 0) expect = nf; /* no header: the first row sets the width */
    if (nf != expect) {
      rc = mx_error_at(err, MX_EPARSE, path, line, (long)(nf < expect ? nf : expect + 1), NULL,
                       "row has %zu fields, expected %zu%s", nf, expect,
                       nh ? " (as in the header)" : " (as in the first row)");
      break;
    }
    if (nrows == 1 && !nh) {
      /* without a header, selected indices are checked against the first row */
      for (int k = 0; k < 5; k++)
        if (idx[k] >= (int)nf) {
          rc = mx_error_at(err, MX_EPARSE, path, line, 0, roles[k],
                           "column %d selected but rows have %zu fields", idx[k] + 1, nf);
          break;
        }
      if (rc) break;
    }
    if (l[cu] == 0 || l[ci] == 0) {
      nskip++;
      continue;
    }
    mx_interaction_row row;
    row.user = f[cu];
    row.user_len = l[cu];
    if (o.user_rewrite && !(row.user = o.user_rewrite(o.user_rewrite_ctx, f[cu], l[cu], &row.user_len))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    row.item = f[ci];
    row.item_len = l[ci];
    row.value = 1.0;
    row.time = 0;
    row.line = line;
    if (cv >= 0) {
      if (mx_parse_double(f[cv], &row.value) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, cv + 1, nh ? hdr[cv] : "value",
                         "not a finite number: '%.64s'", f[cv]);
        break;
      }
      /* values are stored as float: 1e39 would become inf and training would
       * later blame --lr; anything past 1e12 is a mistake or needs rescaling */
      if (fabs(row.value) > MX_INTERACTION_MAX_VALUE) {
        rc = mx_error_at(err, MX_EPARSE, path, line, cv + 1, nh ? hdr[cv] : "value",
                         "%.40s is beyond +-%g (rescale the value column)", f[cv],
                         MX_INTERACTION_MAX_VALUE);
        break;
      }
    }
    if (ce >= 0) {
      float w;
      mx_error unknown;
      if (mx_ingest_event_weight(&o, f[ce], &w, &unknown) != MX_OK) {
        rc = mx_error_at(err, MX_EPARSE, path, line, ce + 1, nh ? hdr[ce] : "event", "%s",
                         unknown.message);
        break;
      }
      row.value *= w;
    }
    if (ct >= 0) {
      if (mx_parse_time(f[ct], &row.time) != 0) {
        rc = mx_error_at(err, MX_EPARSE, path, line, ct + 1, nh ? hdr[ct] : "time",
                         "not a timestamp (ISO 8601 date/datetime or epoch seconds): '%.64s'",
                         f[ct]);
        break;
      }
    }
    rc = fn(ctx, &row, err);
    if (rc) break;
    if ((nrows & 0xffff) == 0) mx_progress_update(&prog, mx_csv_bytes_read(csv));
  }
  if (rc == 0) mx_progress_finish(&prog);
  mx_csv_close(csv);
  if (rows_read) *rows_read = nrows;
  if (skipped) *skipped = nskip;
  return rc;
}

typedef struct {
  mx_dataset_builder *b;
  const char *path;
} load_ctx;

static int load_row(void *p, const mx_interaction_row *row, mx_error *err) {
  load_ctx *c = p;
  if (mx_dataset_builder_add(c->b, row->user, row->user_len, row->item, row->item_len,
                             (float)row->value, row->time) != MX_OK)
    return mx_error_set(err, MX_ENOMEM, "out of memory reading %s", c->path);
  return 0;
}

static int rewrite_users(mx_dataset *d, const mx_ingest_options *opts, const char *path,
                         mx_error *err) {
  mx_idmap *ids = mx_idmap_create();
  if (!ids) return mx_error_set(err, MX_ENOMEM, "out of memory");
  uint32_t n = mx_idmap_size(d->users);
  for (uint32_t u = 0; u < n; u++) {
    const char *name = mx_idmap_name(d->users, u);
    size_t len;
    const char *to = opts->user_rewrite(opts->user_rewrite_ctx, name, strlen(name), &len);
    if (!to || mx_idmap_intern(ids, to, len) < 0) {
      mx_idmap_free(ids);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    if (mx_idmap_size(ids) != u + 1) { /* two ids, one replacement */
      mx_idmap_free(ids);
      return mx_error_at(err, MX_EINVAL, path, 0, 0, "user",
                         "two user ids were given the same replacement (pseudonym)");
    }
  }
  mx_idmap_free(d->users);
  d->users = ids;
  return MX_OK;
}

int mx_dataset_load_csv(const char *path, const mx_ingest_options *opts, mx_dataset **out,
                        mx_error *err) {
  *out = NULL;
  mx_dataset_builder *b = mx_dataset_builder_create();
  if (!b) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_dataset_builder_set_aggregate(b, opts->aggregate);
  load_ctx c = {b, path};
  uint64_t nrows = 0, nskip = 0;
  /* ids are rewritten once per distinct user after the read, not per row:
   * the same dataset (first-seen order), at the cost of one call per user */
  mx_ingest_options read_opts = *opts;
  read_opts.user_rewrite = NULL;
  int rc = mx_interactions_read(path, &read_opts, load_row, &c, &nrows, &nskip, err);
  if (rc) {
    mx_dataset_builder_free(b);
    return rc;
  }
  int has_value = 0;
  int has_time = 0;
  for (int k = 0; k < opts->columns.count; k++) {
    if (!strcmp(opts->columns.role[k], "value") || !strcmp(opts->columns.role[k], "event"))
      has_value = 1;
    if (!strcmp(opts->columns.role[k], "time")) has_time = opts->keep_times;
  }
  if (nrows == 0) {
    mx_dataset_builder_free(b);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "no data rows (header only?)");
  }
  rc = mx_dataset_builder_finish(b, has_value, has_time, out, err);
  if (rc) return rc;
  if (opts->user_rewrite && (rc = rewrite_users(*out, opts, path, err)) != MX_OK) {
    mx_dataset_free(*out);
    *out = NULL;
    return rc;
  }
  (*out)->rows_read = nrows;
  (*out)->rows_skipped = nskip;
  if (mx_dataset_nnz(*out) == 0) {
    mx_dataset_free(*out);
    *out = NULL;
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL,
                       "no interactions: all %llu rows have an empty user or item id",
                       (unsigned long long)nrows);
  }
  return MX_OK;
}
