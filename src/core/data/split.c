/* Train/test splits of an interaction file, keeping every original field.
 * Pass 1 reads the interactions (validating ids, values and times as
 * training would) and marks the physical lines that go to test; pass 2
 * copies each row to one of the two outputs. */
#include "merx/model.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct row_rec {
  uint32_t user;
  int64_t time;
  long line;
} row_rec;

typedef struct split_ctx {
  const mx_split_options *s;
  mx_idmap *users;
  row_rec *rows;
  size_t n, cap;
  uint8_t *bits; /* by physical line */
  size_t bits_cap;
} split_ctx;

static int mark(split_ctx *c, long line) {
  size_t byte = (size_t)line >> 3;
  if (byte >= c->bits_cap) {
    size_t nc = c->bits_cap ? c->bits_cap : 4096;
    while (nc <= byte) nc *= 2;
    uint8_t *nb = realloc(c->bits, nc);
    if (!nb) return -1;
    memset(nb + c->bits_cap, 0, nc - c->bits_cap);
    c->bits = nb;
    c->bits_cap = nc;
  }
  c->bits[byte] |= (uint8_t)(1u << (line & 7));
  return 0;
}

static int is_marked(const split_ctx *c, long line) {
  size_t byte = (size_t)line >> 3;
  return byte < c->bits_cap && (c->bits[byte] >> (line & 7) & 1);
}

static int split_row(void *vctx, const mx_interaction_row *row, mx_error *err) {
  split_ctx *c = vctx;
  const mx_split_options *s = c->s;
  if (s->mode == MX_SPLIT_RANDOM) {
    uint64_t h = mx_hash64(row->user, row->user_len, s->seed);
    h = mx_hash64(row->item, row->item_len, h);
    if ((double)(h >> 11) * 0x1.0p-53 < s->fraction && mark(c, row->line))
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    return 0;
  }
  if (s->mode == MX_SPLIT_CUT) {
    if (row->time >= s->cut && mark(c, row->line))
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    return 0;
  }
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    row_rec *nr = realloc(c->rows, nc * sizeof *nr);
    if (!nr) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->rows = nr;
    c->cap = nc;
  }
  int64_t u = mx_idmap_intern(c->users, row->user, row->user_len);
  if (u < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  c->rows[c->n++] = (row_rec){(uint32_t)u, row->time, row->line};
  return 0;
}

static int by_user_time(const void *a, const void *b) {
  const row_rec *x = a, *y = b;
  if (x->user != y->user) return x->user < y->user ? -1 : 1;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

int mx_split_file(const char *path, const mx_ingest_options *opt, const mx_split_options *s,
                  const char *train_out, const char *test_out, uint64_t *n_train,
                  uint64_t *n_test, mx_error *err) {
  *n_train = *n_test = 0;
  if (!(s->fraction >= 0 && s->fraction <= 1) && s->mode != MX_SPLIT_CUT)
    return mx_error_set(err, MX_EINVAL, "split fraction must be in [0, 1] (got %g)", s->fraction);
  if (s->mode != MX_SPLIT_RANDOM && mx_columns_index(&opt->columns, "time") < 0) {
    int has_time = 0;
    for (int k = 0; k < opt->columns.count; k++) has_time |= !strcmp(opt->columns.role[k], "time");
    if (!has_time)
      return mx_error_set(err, MX_EINVAL, "a time split needs a time column (--columns time=...)");
  }
  split_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.users = mx_idmap_create();
  if (!c.users) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = mx_interactions_read(path, opt, split_row, &c, NULL, NULL, err);
  if (rc == MX_OK && s->mode == MX_SPLIT_USER_TIME) {
    qsort(c.rows, c.n, sizeof *c.rows, by_user_time);
    for (size_t a = 0; a < c.n && rc == MX_OK;) {
      size_t b = a;
      while (b < c.n && c.rows[b].user == c.rows[a].user) b++;
      size_t nt = (size_t)llround(s->fraction * (double)(b - a));
      for (size_t q = b - nt; q < b; q++)
        if (mark(&c, c.rows[q].line)) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      a = b;
    }
  }
  free(c.rows);
  mx_idmap_free(c.users);
  if (rc != MX_OK) {
    free(c.bits);
    return rc;
  }
  mx_csv *csv = NULL;
  mx_atomic_file tr, te;
  memset(&tr, 0, sizeof tr);
  memset(&te, 0, sizeof te);
  if ((rc = mx_csv_open(path, &opt->csv, &csv, err)) != MX_OK ||
      (rc = mx__atomic_open(&tr, train_out, err)) != MX_OK ||
      (rc = mx__atomic_open(&te, test_out, err)) != MX_OK) {
    mx_csv_close(csv);
    mx__atomic_abort(&tr);
    free(c.bits);
    return rc;
  }
  char sep = mx_csv_sep(csv);
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  if (nh) {
    mx_csv_write_row(tr.f, hdr, nh, sep);
    mx_csv_write_row(te.f, hdr, nh, sep);
  }
  char **f;
  size_t *l, nf;
  for (;;) {
    int r = mx_csv_next(csv, &f, &l, &nf, err);
    if (r < 0) { rc = r; break; }
    if (r == 0) break;
    int test = is_marked(&c, mx_csv_line(csv));
    mx_csv_write_row(test ? te.f : tr.f, (const char *const *)f, nf, sep);
    if (test) (*n_test)++;
    else (*n_train)++;
  }
  mx_csv_close(csv);
  free(c.bits);
  if (rc != MX_OK) {
    mx__atomic_abort(&tr);
    mx__atomic_abort(&te);
    return rc;
  }
  if ((rc = mx__atomic_commit(&tr, err)) != MX_OK) {
    mx__atomic_abort(&te);
    return rc;
  }
  return mx__atomic_commit(&te, err);
}
