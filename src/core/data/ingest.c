/* Interaction ingest: CSV rows -> (user, item, value, time) by role. */
#include "merx/data.h"
#include "core/data/internal.h"
#include "util/idmap_rename.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>

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
  return mx__parse_named_numbers(spec, "EVENT=WEIGHT", add_event, opts, err);
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

/* An open interaction file: the reader and the resolved role columns. */
typedef struct {
  mx_ingest_options o;
  const char *path;
  mx_csv *csv;
  int cu, ci, cv, ct, ce;
  int idx[5];
  const char *const *hdr;
  size_t nh;
  size_t expect; /* fields per row: the header's, or the first row's */
} row_reader;

static int reader_open(const char *path, const mx_ingest_options *opts, row_reader *x,
                       mx_error *err) {
  memset(x, 0, sizeof *x);
  x->o = *opts;
  x->path = path;
  mx_ingest_options *o = &x->o;
  if (mx_columns_index(&o->columns, "user") == -1 && o->columns.count == 0) {
    /* No selection: the first two columns are user and item. */
    mx_columns_set(&o->columns, "user", "1", NULL);
    mx_columns_set(&o->columns, "item", "2", NULL);
  }
  int have_user = 0, have_item = 0;
  for (int k = 0; k < o->columns.count; k++) {
    if (strcmp(o->columns.role[k], "user") == 0) have_user = 1;
    if (strcmp(o->columns.role[k], "item") == 0) have_item = 1;
  }
  if (!have_user || !have_item)
    return mx_error_set(err, MX_EINVAL, "--columns must name the user and item columns");
  int rc = mx_csv_open(path, &o->csv, &x->csv, err);
  if (rc) return rc;
  rc = mx_columns_resolve(&o->columns, x->csv, err);
  if (rc) {
    mx_csv_close(x->csv);
    x->csv = NULL;
    return rc;
  }
  x->cu = x->idx[0] = mx_columns_index(&o->columns, "user");
  x->ci = x->idx[1] = mx_columns_index(&o->columns, "item");
  x->cv = x->idx[2] = mx_columns_index(&o->columns, "value");
  x->ct = x->idx[3] = mx_columns_index(&o->columns, "time");
  x->ce = x->idx[4] = mx_columns_index(&o->columns, "event");
  x->nh = mx_csv_header(x->csv, &x->hdr);
  x->expect = x->nh;
  /* Default event weights (DESIGN.md) when an event column is chosen alone. */
  if (x->ce >= 0 && o->n_events == 0)
    mx_ingest_parse_event_weights(o, MX_EVENT_WEIGHTS_DEFAULT, NULL);
  return MX_OK;
}

/* The first data row fixes the width of a file without a header, and the
 * selected columns are checked against it. */
static int first_row_checks(row_reader *x, size_t nf, long line, mx_error *err) {
  static const char *const roles[5] = {"user", "item", "value", "time", "event"};
  if (x->expect == 0) x->expect = nf;
  if (x->nh) return MX_OK;
  for (int k = 0; k < 5; k++)
    if (x->idx[k] >= (int)nf)
      return mx_error_at(err, MX_EPARSE, x->path, line, 0, roles[k],
                         "column %d selected but rows have %zu fields", x->idx[k] + 1, nf);
  return MX_OK;
}

/* One record into a row (ids borrowed from the record). 1: a row, 0: skipped
 * (an empty user or item id), <0: an error naming file, line and field. */
static int row_from_fields(const row_reader *x, char **f, const size_t *l, size_t nf, long line,
                           mx_interaction_row *row, mx_error *err) {
  if (nf != x->expect)
    return mx_error_at(err, MX_EPARSE, x->path, line,
                       (long)(nf < x->expect ? nf : x->expect + 1), NULL,
                       "row has %zu fields, expected %zu%s", nf, x->expect,
                       x->nh ? " (as in the header)" : " (as in the first row)");
  int cu = x->cu, ci = x->ci, cv = x->cv, ct = x->ct, ce = x->ce;
  if (l[cu] == 0 || l[ci] == 0) return 0;
  row->user = f[cu];
  row->user_len = l[cu];
  row->item = f[ci];
  row->item_len = l[ci];
  row->value = 1.0;
  row->time = 0;
  row->line = line;
  if (cv >= 0) {
    if (mx_parse_double(f[cv], &row->value) != 0)
      return mx_error_at(err, MX_EPARSE, x->path, line, cv + 1, x->nh ? x->hdr[cv] : "value",
                         "not a finite number: '%.64s'", f[cv]);
    /* values are stored as float: 1e39 would become inf and training would
     * later blame --lr; anything past 1e12 is a mistake or needs rescaling */
    if (fabs(row->value) > MX_INTERACTION_MAX_VALUE)
      return mx_error_at(err, MX_EPARSE, x->path, line, cv + 1, x->nh ? x->hdr[cv] : "value",
                         "%.40s is beyond +-%g (rescale the value column)", f[cv],
                         MX_INTERACTION_MAX_VALUE);
  }
  if (ce >= 0) {
    float w;
    mx_error unknown;
    if (mx_ingest_event_weight(&x->o, f[ce], &w, &unknown) != MX_OK)
      return mx_error_at(err, MX_EPARSE, x->path, line, ce + 1, x->nh ? x->hdr[ce] : "event",
                         "%s", unknown.message);
    row->value *= w;
  }
  if (ct >= 0 && mx_parse_time(f[ct], &row->time) != 0)
    return mx_error_at(err, MX_EPARSE, x->path, line, ct + 1, x->nh ? x->hdr[ct] : "time",
                       "not a timestamp (ISO 8601 date/datetime or epoch seconds): '%.64s'",
                       f[ct]);
  return 1;
}

int mx_interactions_read(const char *path, const mx_ingest_options *opts, mx_interaction_fn fn,
                         void *ctx, uint64_t *rows_read, uint64_t *skipped, mx_error *err) {
  if (rows_read) *rows_read = 0;
  if (skipped) *skipped = 0;
  row_reader x;
  int rc = reader_open(path, opts, &x, err);
  if (rc) return rc;
  char **f;
  size_t *l, nf;
  uint64_t nrows = 0, nskip = 0;
  mx_progress prog;
  mx__progress_start(&prog, "reading", mx_csv_file_size(x.csv));
  for (;;) {
    int r = mx_csv_next(x.csv, &f, &l, &nf, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) break;
    nrows++;
    long line = mx_csv_line(x.csv);
    if (nrows == 1 && (rc = first_row_checks(&x, nf, line, err)) != MX_OK) break;
    mx_interaction_row row;
    r = row_from_fields(&x, f, l, nf, line, &row, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) {
      nskip++;
      continue;
    }
    if (x.o.user_rewrite &&
        !(row.user = x.o.user_rewrite(x.o.user_rewrite_ctx, f[x.cu], l[x.cu], &row.user_len))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    rc = fn(ctx, &row, err);
    if (rc) break;
    if ((nrows & 0xffff) == 0) mx__progress_update(&prog, mx_csv_bytes_read(x.csv));
  }
  if (rc == 0) mx__progress_finish(&prog);
  mx_csv_close(x.csv);
  if (rows_read) *rows_read = nrows;
  if (skipped) *skipped = nskip;
  return rc;
}

/* ---- the parallel loader
 *
 * The file is taken in blocks of whole records; each block is cut at record
 * boundaries into one window per thread. A thread parses its window and
 * interns the ids into its own maps (kept across blocks), so the hot loop
 * shares nothing. Then, window by window in file order, the ids a window saw
 * first are interned into the dataset's maps in the order the window saw
 * them: an id's first window is its first appearance in the file, so the
 * dataset's indices come out in first-appearance order exactly as one
 * thread reading row by row gives them. Last, each thread rewrites its rows
 * with those indices into the builder. An error is the first in file order:
 * a window's lines are counted from 1 and shifted by the lines before it. */

typedef struct {
  mx_idmap *users, *items;   /* local ids, first seen in this thread's windows */
  uint32_t *gu, *gi;         /* local -> dataset index, for the ids merged so far */
  uint32_t ngu, ngi;
  size_t gu_cap, gi_cap;
  uint32_t *u, *i;           /* this block's rows, local ids */
  float *v;
  int64_t *t;
  size_t n, cap;
  int any_time;
  char *data;                /* the window */
  size_t len;
  uint64_t rows, skipped;
  long lines;                /* newlines in the window */
  int rc;
  mx_error err;
  /* phase 2: where this window's rows go in the builder */
  uint32_t *du, *di;
  float *dv;
  int64_t *dt;
} part;

typedef struct {
  const row_reader *x;
  part *parts;
} block_job;

static int part_push(part *p, int with_time) {
  if (p->n < p->cap) return MX_OK;
  size_t nc = p->cap ? p->cap * 2 : 65536;
  uint32_t *nu = realloc(p->u, nc * sizeof *nu);
  if (!nu) return MX_ENOMEM;
  p->u = nu;
  uint32_t *ni = realloc(p->i, nc * sizeof *ni);
  if (!ni) return MX_ENOMEM;
  p->i = ni;
  float *nv = realloc(p->v, nc * sizeof *nv);
  if (!nv) return MX_ENOMEM;
  p->v = nv;
  if (with_time) {
    int64_t *nt = realloc(p->t, nc * sizeof *nt);
    if (!nt) return MX_ENOMEM;
    p->t = nt;
  }
  p->cap = nc;
  return MX_OK;
}

static int parse_window(void *ctx, int t, int nt) {
  (void)nt;
  block_job *j = ctx;
  const row_reader *x = j->x;
  part *p = &j->parts[t];
  p->n = 0;
  p->rows = p->skipped = 0;
  p->lines = 0;
  p->rc = MX_OK;
  p->any_time = 0;
  mx_csv *w;
  if ((p->rc = mx__csv_window_open(x->csv, p->data, p->len, 1, &w, &p->err)) != MX_OK) return 0;
  int with_time = x->ct >= 0;
  char **f;
  size_t *l, nf;
  for (;;) {
    int r = mx_csv_next(w, &f, &l, &nf, &p->err);
    if (r < 0) { p->rc = r; break; }
    if (r == 0) break;
    p->rows++;
    mx_interaction_row row;
    r = row_from_fields(x, f, l, nf, mx_csv_line(w), &row, &p->err);
    if (r < 0) { p->rc = r; break; }
    if (r == 0) {
      p->skipped++;
      continue;
    }
    int64_t lu = mx_idmap_intern(p->users, row.user, row.user_len);
    int64_t li = mx_idmap_intern(p->items, row.item, row.item_len);
    if (lu < 0 || li < 0 || part_push(p, with_time) != MX_OK) {
      p->rc = mx_error_set(&p->err, MX_ENOMEM, "out of memory reading %s", x->path);
      break;
    }
    p->u[p->n] = (uint32_t)lu;
    p->i[p->n] = (uint32_t)li;
    p->v[p->n] = (float)row.value;
    if (with_time) {
      p->t[p->n] = row.time;
      if (row.time != 0) p->any_time = 1;
    }
    p->n++;
  }
  p->lines = mx__csv_next_line(w) - 1;
  mx_csv_close(w);
  return 0;
}

/* Intern the local ids of map first seen since the last merge into global,
 * extending the translation table g. */
static int merge_ids(const mx_idmap *local, mx_idmap *global, uint32_t **g, uint32_t *ng,
                     size_t *cap) {
  uint32_t n = mx_idmap_size(local);
  if (n > *cap) {
    size_t nc = *cap ? *cap : 1024;
    while (nc < n) nc *= 2;
    uint32_t *ng2 = realloc(*g, nc * sizeof *ng2);
    if (!ng2) return MX_ENOMEM;
    *g = ng2;
    *cap = nc;
  }
  for (uint32_t k = *ng; k < n; k++) {
    const char *name = mx_idmap_name(local, k);
    int64_t gi = mx_idmap_intern(global, name, strlen(name));
    if (gi < 0) return MX_ENOMEM;
    (*g)[k] = (uint32_t)gi;
  }
  *ng = n;
  return MX_OK;
}

static int store_window(void *ctx, int t, int nt) {
  (void)nt;
  part *p = &((block_job *)ctx)->parts[t];
  for (size_t k = 0; k < p->n; k++) {
    p->du[k] = p->gu[p->u[k]];
    p->di[k] = p->gi[p->i[k]];
  }
  memcpy(p->dv, p->v, p->n * sizeof *p->v);
  if (p->dt) {
    if (p->t) memcpy(p->dt, p->t, p->n * sizeof *p->t);
    else memset(p->dt, 0, p->n * sizeof *p->dt);
  }
  return 0;
}

static void parts_free(part *parts, int n) {
  if (!parts) return;
  for (int t = 0; t < n; t++) {
    part *p = &parts[t];
    mx_idmap_free(p->users);
    mx_idmap_free(p->items);
    free(p->gu); free(p->gi); free(p->u); free(p->i); free(p->v); free(p->t);
  }
  free(parts);
}

/* The rest of the file after the first row, in blocks. */
static int read_blocks(row_reader *x, mx_dataset_builder *b, int threads, size_t block,
                       uint64_t *nrows, uint64_t *nskip, mx_progress *prog, mx_error *err) {
  part *parts = calloc((size_t)threads, sizeof *parts);
  size_t *cuts = malloc(((size_t)threads + 1) * sizeof *cuts);
  int rc = parts && cuts ? MX_OK : MX_ENOMEM;
  for (int t = 0; rc == MX_OK && t < threads; t++) {
    parts[t].users = mx_idmap_create();
    parts[t].items = mx_idmap_create();
    if (!parts[t].users || !parts[t].items) rc = MX_ENOMEM;
  }
  if (rc) {
    parts_free(parts, parts ? threads : 0);
    free(cuts);
    return mx_error_set(err, MX_ENOMEM, "out of memory reading %s", x->path);
  }
  block_job job = {x, parts};
  mx_idmap *gusers = mx__dataset_builder_idmap(b, 0), *gitems = mx__dataset_builder_idmap(b, 1);
  for (;;) {
    char *data;
    size_t len;
    long first_line;
    int r = mx__csv_take_block(x->csv, block, &data, &len, &first_line, err);
    if (r <= 0) {
      rc = r;
      break;
    }
    mx__csv_split_block(x->csv, data, len, threads, cuts);
    for (int t = 0; t < threads; t++) {
      parts[t].data = data + cuts[t];
      parts[t].len = cuts[t + 1] - cuts[t];
    }
    mx__parallel_run(threads, parse_window, &job);
    /* merge in file order; the first error in file order wins */
    long line = first_line;
    size_t total = 0;
    int need_time = 0;
    for (int t = 0; t < threads && rc == MX_OK; t++) {
      part *p = &parts[t];
      *nrows += p->rows;
      *nskip += p->skipped;
      if (p->rc) {
        *err = p->err;
        if (err->line > 0) err->line += line - 1;
        rc = p->rc;
        break;
      }
      line += p->lines;
      if (merge_ids(p->users, gusers, &p->gu, &p->ngu, &p->gu_cap) != MX_OK ||
          merge_ids(p->items, gitems, &p->gi, &p->ngi, &p->gi_cap) != MX_OK) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory reading %s", x->path);
        break;
      }
      total += p->n;
      need_time |= p->any_time;
    }
    if (rc) break;
    mx__csv_block_done(x->csv, line - first_line);
    uint32_t *du, *di;
    float *dv;
    int64_t *dt;
    if (mx__dataset_builder_extend(b, total, need_time, &du, &di, &dv, &dt) != MX_OK) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory reading %s", x->path);
      break;
    }
    for (int t = 0; t < threads; t++) {
      parts[t].du = du;
      parts[t].di = di;
      parts[t].dv = dv;
      parts[t].dt = dt;
      du += parts[t].n;
      di += parts[t].n;
      dv += parts[t].n;
      if (dt) dt += parts[t].n;
    }
    mx__parallel_run(threads, store_window, &job);
    mx__progress_update(prog, mx_csv_bytes_read(x->csv));
  }
  parts_free(parts, threads);
  free(cuts);
  return rc;
}

static int read_into_builder(const char *path, const mx_ingest_options *opts, int threads,
                             size_t block, mx_dataset_builder *b, uint64_t *nrows,
                             uint64_t *nskip, mx_error *err) {
  row_reader x;
  int rc = reader_open(path, opts, &x, err);
  if (rc) return rc;
  mx_progress prog;
  mx__progress_start(&prog, "reading", mx_csv_file_size(x.csv));
  char **f;
  size_t *l, nf;
  for (;;) {
    /* the first row is read here (it fixes the width); after it, blocks */
    if (*nrows == 1 && threads > 1) {
      rc = read_blocks(&x, b, threads, block, nrows, nskip, &prog, err);
      break;
    }
    int r = mx_csv_next(x.csv, &f, &l, &nf, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) break;
    ++*nrows;
    long line = mx_csv_line(x.csv);
    if (*nrows == 1 && (rc = first_row_checks(&x, nf, line, err)) != MX_OK) break;
    mx_interaction_row row;
    r = row_from_fields(&x, f, l, nf, line, &row, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) {
      ++*nskip;
      continue;
    }
    if (mx_dataset_builder_add(b, row.user, row.user_len, row.item, row.item_len,
                               (float)row.value, row.time) != MX_OK) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory reading %s", path);
      break;
    }
    if ((*nrows & 0xffff) == 0) mx__progress_update(&prog, mx_csv_bytes_read(x.csv));
  }
  if (rc == 0) mx__progress_finish(&prog);
  mx_csv_close(x.csv);
  return rc;
}

/* Every user id replaced by opts->user_rewrite's answer (a pseudonym), each
 * keeping its index: the map is renamed in place, at the capacity it has,
 * rather than interned into a second map grown from empty (which cost more
 * than the HMACs themselves; docs/benchmarks.md, Privacy). */
static int rewrite_users(mx_dataset *d, const mx_ingest_options *opts, const char *path,
                         mx_error *err) {
  int rc = mx__idmap_rename(d->users, opts->user_rewrite, opts->user_rewrite_ctx, NULL);
  if (rc == -2) /* two ids, one replacement */
    return mx_error_at(err, MX_EINVAL, path, 0, 0, "user",
                       "two user ids were given the same replacement (pseudonym)");
  if (rc) return mx_error_set(err, MX_ENOMEM, "out of memory");
  return MX_OK;
}

/* Blocks of 8 MB per thread: a few ms of work each, and the per-thread
 * rows of a block (20 bytes a row) stay small beside the dataset. */
#define INGEST_BLOCK_PER_THREAD ((size_t)8 << 20)
/* Below this a file is read by one thread (starting threads costs more). */
#define INGEST_PARALLEL_MIN ((uint64_t)4 << 20)
#define INGEST_MAX_THREADS 8

int mx_dataset_load_csv(const char *path, const mx_ingest_options *opts, mx_dataset **out,
                        mx_error *err) {
  /* a packed dataset (merx data pack) was parsed once already */
  if (mx_dataset_is_packed(path)) return mx_dataset_load_packed(path, opts, out, err);
  int threads = mx__cpu_count();
  /* a process pinned to fewer cores (taskset, a container's cpuset) gets
   * as many threads: more would only take turns on them */
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
      CPU_COUNT(&set) < threads)
    threads = CPU_COUNT(&set);
  if (threads > INGEST_MAX_THREADS) threads = INGEST_MAX_THREADS;
  struct stat st;
  /* .gz: decompression is sequential, but parsing still runs in parallel */
  if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || (uint64_t)st.st_size < INGEST_PARALLEL_MIN)
    threads = 1;
  return mx__dataset_load_csv_threads(path, opts, threads,
                                     INGEST_BLOCK_PER_THREAD * (size_t)threads, out, err);
}

int mx__dataset_load_csv_threads(const char *path, const mx_ingest_options *opts, int threads,
                                size_t block, mx_dataset **out, mx_error *err) {
  *out = NULL;
  if (threads < 1) threads = 1;
  mx_dataset_builder *b = mx_dataset_builder_create();
  if (!b) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_dataset_builder_set_aggregate(b, opts->aggregate);
  uint64_t nrows = 0, nskip = 0;
  /* ids are rewritten once per distinct user after the read, not per row:
   * the same dataset (first-seen order), at the cost of one call per user */
  mx_ingest_options read_opts = *opts;
  read_opts.user_rewrite = NULL;
  int rc = read_into_builder(path, &read_opts, threads, block, b, &nrows, &nskip, err);
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
