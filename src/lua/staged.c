/* The staged decision plan: what merx.emit() collected, kept in C memory
 * (charged against the run's memory limit) until the commit.
 *
 * Each kind ("offer", "order", ...) has its own column list (in order of
 * first appearance) and a byte buffer of rows, each row encoded as
 *   u32 nfields, then per field: u16 column, u8 type, u32 length, bytes
 * with numbers already formatted the way Lua's tostring does (%.14g), so the
 * commit only copies bytes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/data.h"
#include "store/decisions.h"

enum { T_STR = 's', T_INT = 'i', T_NUM = 'f', T_BOOL = 'b' };
#define MAX_FIELDS 64

typedef struct kind {
  char *name;
  char **cols;
  int ncols, capcols;
  unsigned char *buf;
  size_t len, cap, rows;
} kind;

struct mx_plan {
  kind *kinds;
  int n, cap;
  size_t total;
  int last;
};

mx_plan *mx__plan_create(void) { return calloc(1, sizeof(mx_plan)); }

void mx__plan_free(mx_plan *p) {
  if (!p) return;
  for (int k = 0; k < p->n; k++) {
    free(p->kinds[k].name);
    for (int c = 0; c < p->kinds[k].ncols; c++) free(p->kinds[k].cols[c]);
    free(p->kinds[k].cols);
    free(p->kinds[k].buf);
  }
  free(p->kinds);
  free(p);
}

size_t mx__plan_count(const mx_plan *p) { return p ? p->total : 0; }
int mx__plan_kinds(const mx_plan *p) { return p ? p->n : 0; }
const char *mx__plan_kind_name(const mx_plan *p, int k) { return p->kinds[k].name; }
size_t mx__plan_kind_count(const mx_plan *p, int k) { return p->kinds[k].rows; }

int mx__plan_kind_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return 0;
  return 1;
}

/* The kind named name, or NULL when none was staged yet. */
static kind *find_kind(mx_plan *p, const char *name) {
  if (p->last < p->n && strcmp(p->kinds[p->last].name, name) == 0) return &p->kinds[p->last];
  for (int k = 0; k < p->n; k++)
    if (strcmp(p->kinds[k].name, name) == 0) {
      p->last = k;
      return &p->kinds[k];
    }
  return NULL;
}

/* Append an empty kind (NULL when out of memory; nothing changed then). */
static kind *add_kind(mx_plan *p, const char *name) {
  if (p->n == p->cap) {
    int nc = p->cap ? p->cap * 2 : 8;
    kind *nk = realloc(p->kinds, (size_t)nc * sizeof *nk);
    if (!nk) return NULL;
    p->kinds = nk;
    p->cap = nc;
  }
  kind *k = &p->kinds[p->n];
  memset(k, 0, sizeof *k);
  k->name = mx__strdup(name);
  if (!k->name) return NULL;
  p->last = p->n++;
  return k;
}

static int find_column(const kind *k, const char *name) {
  for (int c = 0; c < k->ncols; c++)
    if (strcmp(k->cols[c], name) == 0) return c;
  return -1;
}

/* Index of column name, appended when new; -1 when out of memory. */
static int column(kind *k, const char *name) {
  int c = find_column(k, name);
  if (c >= 0) return c;
  if (k->ncols == k->capcols) {
    int nc = k->capcols ? k->capcols * 2 : 8;
    char **n = realloc(k->cols, (size_t)nc * sizeof *n);
    if (!n) return -1;
    k->cols = n;
    k->capcols = nc;
  }
  k->cols[k->ncols] = mx__strdup(name);
  if (!k->cols[k->ncols]) return -1;
  return k->ncols++;
}

/* Undo what a failed emit added: the columns past ncols0 and, when the emit
 * created it, the kind itself (always the last one). */
static void unstage(mx_plan *p, kind *k, int created, int ncols0) {
  while (k->ncols > ncols0) free(k->cols[--k->ncols]);
  if (!created) return;
  free(k->name);
  free(k->cols);
  free(k->buf);
  p->n--;
  p->last = 0;
}

static void put(unsigned char **w, const void *src, size_t n) {
  memcpy(*w, src, n);
  *w += n;
}

/* A rejected record (pcall may catch the error) must leave no trace: before
 * this, the kind and the record's fields were registered first, so a caught
 * error still replaced the kind's earlier export with a header-only file or
 * added a column no row has. So the whole record is checked first; only then
 * are the kind (a kind exists once it has a row) and new columns added, and
 * undone if staging the row fails. */
void mx__plan_emit(lua_State *L, mx_run *run, const char *kname, int idx) {
  mx_plan *p = run->plan;
  if (!mx__plan_kind_ok(kname))
    mx__lua_error(L, "merx.emit: kind '%s' must be 1-64 letters, digits, '_' or '-'", kname);
  idx = lua_absindex(L, idx);
  struct {
    const char *key; /* owned by the record table, like s */
    int col;
    char type;
    const char *s;
    size_t len;
  } f[MAX_FIELDS];
  char numbuf[MAX_FIELDS][32];
  int nf = 0, has_reason = 0;
  size_t bytes = 4;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      mx__lua_error(L, "merx.emit: record keys must be strings (got a %s key)",
                   luaL_typename(L, -2));
    const char *key = lua_tostring(L, -2);
    if (nf == MAX_FIELDS) mx__lua_error(L, "merx.emit: more than %d fields in one record", MAX_FIELDS);
    int t = lua_type(L, -1);
    f[nf].key = key;
    if (t == LUA_TSTRING) {
      f[nf].type = T_STR;
      f[nf].s = lua_tolstring(L, -1, &f[nf].len); /* owned by the record table */
      int is_reason = strcmp(key, "reason") == 0;
      /* the ledger keys caps and `merx explain` on these: text only */
      if ((is_reason || strcmp(key, "user") == 0) && memchr(f[nf].s, '\0', f[nf].len))
        mx__lua_error(L, "merx.emit: field '%s' contains a NUL byte (ids and reasons are text)",
                     key);
      if (is_reason && f[nf].len > 0) has_reason = 1;
    } else if (t == LUA_TNUMBER) {
      if (lua_isinteger(L, -1)) {
        f[nf].type = T_INT;
        f[nf].len = (size_t)snprintf(numbuf[nf], 32, "%lld", (long long)lua_tointeger(L, -1));
      } else {
        double d = lua_tonumber(L, -1);
        if (!isfinite(d))
          mx__lua_error(L, "merx.emit: field '%s' is not a finite number", key);
        f[nf].type = T_NUM;
        f[nf].len = (size_t)snprintf(numbuf[nf], 32, "%.14g", d);
      }
      f[nf].s = numbuf[nf];
    } else if (t == LUA_TBOOLEAN) {
      f[nf].type = T_BOOL;
      f[nf].s = lua_toboolean(L, -1) ? "true" : "false";
      f[nf].len = strlen(f[nf].s);
    } else {
      mx__lua_error(L, "merx.emit: field '%s' is a %s; records hold strings, numbers and booleans",
                   key, luaL_typename(L, -1));
    }
    bytes += 7 + f[nf].len;
    nf++;
    lua_pop(L, 1);
  }
  if (!has_reason)
    mx__lua_error(L, "merx.emit: the '%s' record needs a non-empty 'reason' string "
                 "(why this decision was made)", kname);
  /* The record is valid: stage it. */
  kind *k = find_kind(p, kname);
  int created = 0;
  if (!k) {
    if (!(k = add_kind(p, kname))) mx__lua_error(L, "merx.emit: out of memory");
    created = 1;
  }
  int ncols0 = k->ncols;
  for (int i = 0; i < nf; i++) {
    f[i].col = column(k, f[i].key);
    if (f[i].col < 0 || k->ncols > 4096) {
      int too_many = f[i].col >= 0;
      unstage(p, k, created, ncols0);
      if (too_many) mx__lua_error(L, "merx.emit: more than 4096 distinct fields in '%s'", kname);
      mx__lua_error(L, "merx.emit: out of memory");
    }
  }
  if (k->len + bytes > k->cap) {
    size_t nc = k->cap ? k->cap * 2 : 4096;
    while (nc < k->len + bytes) nc *= 2;
    if (mx__run_charge(run, nc - k->cap) != 0) {
      run->mem_over = 1;
      unstage(p, k, created, ncols0);
      mx__lua_error(L, "merx.emit: memory limit of %zu MB reached while staging decisions (--memory)",
                   run->mem_limit >> 20);
    }
    unsigned char *nb = realloc(k->buf, nc);
    if (!nb) {
      mx__run_uncharge(run, nc - k->cap);
      unstage(p, k, created, ncols0);
      mx__lua_error(L, "merx.emit: out of memory");
    }
    k->buf = nb;
    k->cap = nc;
  }
  unsigned char *w = k->buf + k->len;
  uint32_t n32 = (uint32_t)nf;
  put(&w, &n32, 4);
  for (int i = 0; i < nf; i++) {
    uint16_t c = (uint16_t)f[i].col;
    uint32_t l = (uint32_t)f[i].len;
    put(&w, &c, 2);
    put(&w, &f[i].type, 1);
    put(&w, &l, 4);
    put(&w, f[i].s, f[i].len);
  }
  k->len += bytes;
  k->rows++;
  p->total++;
}

/* ---------------------------------------------------------------- output */

typedef struct field {
  char type;
  const char *s;
  uint32_t len;
} field;

/* Decode the row at *pos into vals (indexed by column; type 0 = absent). */
static void decode(const kind *k, size_t *pos, field *vals) {
  const unsigned char *r = k->buf + *pos;
  uint32_t nf;
  memcpy(&nf, r, 4);
  r += 4;
  for (int c = 0; c < k->ncols; c++) vals[c].type = 0;
  for (uint32_t i = 0; i < nf; i++) {
    uint16_t c;
    uint32_t l;
    memcpy(&c, r, 2);
    char t = (char)r[2];
    memcpy(&l, r + 3, 4);
    vals[c].type = t;
    vals[c].s = (const char *)r + 7;
    vals[c].len = l;
    r += 7 + l;
  }
  *pos = (size_t)(r - k->buf);
}

/* Column order: user first, reason last, the others alphabetically, so the
 * files do not depend on Lua's table iteration order. (Insertion sort: a
 * kind has a handful of columns, and no global comparator state.) */
static int col_rank(const char *s) {
  if (strcmp(s, "user") == 0) return 0;
  if (strcmp(s, "reason") == 0) return 2;
  return 1;
}
static int col_before(const kind *k, int a, int b) {
  int ra = col_rank(k->cols[a]), rb = col_rank(k->cols[b]);
  if (ra != rb) return ra < rb;
  return strcmp(k->cols[a], k->cols[b]) < 0;
}
static int *column_order(const kind *k) {
  int *o = malloc((size_t)(k->ncols ? k->ncols : 1) * sizeof *o);
  if (!o) return NULL;
  for (int c = 0; c < k->ncols; c++) {
    int p = c;
    while (p > 0 && col_before(k, c, o[p - 1])) {
      o[p] = o[p - 1];
      p--;
    }
    o[p] = c;
  }
  return o;
}

/* A plain decimal number: [-+]digits[.digits][e[-+]digits]. */
static int is_plain_number(const char *s, uint32_t n) {
  uint32_t i = 0, digits = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) i++;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (!digits) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  }
  return i == n;
}

/* A text cell a spreadsheet would run as a formula (=HYPERLINK(...), +, -, @,
 * or a leading tab/CR that hides one) gets a leading ' so it shows as text
 * (OWASP "CSV Injection"); numbers, negative ones included, stay numbers. */
static int formula_like(const field *v) {
  if (v->type != T_STR || v->len == 0) return 0;
  char c = v->s[0];
  if (c != '=' && c != '+' && c != '-' && c != '@' && c != '\t' && c != '\r') return 0;
  return !is_plain_number(v->s, v->len);
}

static void write_csv_field(FILE *f, const field *v) {
  if (!v->type) return;
  int quote = 0, formula = formula_like(v);
  for (uint32_t i = 0; i < v->len; i++) {
    char c = v->s[i];
    if (c == ',' || c == '"' || c == '\n' || c == '\r') {
      quote = 1;
      break;
    }
  }
  if (!quote) {
    if (formula) fputc('\'', f);
    fwrite(v->s, 1, v->len, f);
    return;
  }
  fputc('"', f);
  if (formula) fputc('\'', f);
  for (uint32_t i = 0; i < v->len; i++) {
    if (v->s[i] == '"') fputc('"', f);
    fputc(v->s[i], f);
  }
  fputc('"', f);
}

/* --reidentify: the output file's `user` field with the real id. */
static void reidentify(const kind *k, mx_reid *reid, field *vals) {
  if (!reid) return;
  for (int c = 0; c < k->ncols; c++)
    if (strcmp(k->cols[c], "user") == 0 && vals[c].type == T_STR) {
      size_t len;
      const char *id = mx__reid_lookup(reid, vals[c].s, vals[c].len, &len);
      if (id) {
        vals[c].s = id;
        vals[c].len = (uint32_t)len;
      }
    }
}

static void write_csv(const kind *k, const int *order, FILE *f, field *vals, mx_reid *reid) {
  for (int i = 0; i < k->ncols; i++) {
    if (i) fputc(',', f);
    field h = {T_STR, k->cols[order[i]], (uint32_t)strlen(k->cols[order[i]])};
    write_csv_field(f, &h);
  }
  fputc('\n', f);
  size_t pos = 0;
  for (size_t r = 0; r < k->rows; r++) {
    decode(k, &pos, vals);
    reidentify(k, reid, vals);
    for (int i = 0; i < k->ncols; i++) {
      if (i) fputc(',', f);
      write_csv_field(f, &vals[order[i]]);
    }
    fputc('\n', f);
  }
}

/* One JSON object; reason excluded when skip_reason (the log keeps it apart). */
static void write_json_record(const kind *k, const int *order, const field *vals, FILE *f,
                              int skip_reason) {
  fputc('{', f);
  int first = 1;
  for (int i = 0; i < k->ncols; i++) {
    const field *v = &vals[order[i]];
    if (!v->type) continue;
    if (skip_reason && strcmp(k->cols[order[i]], "reason") == 0) continue;
    if (!first) fputc(',', f);
    first = 0;
    mx__json_escape(f, k->cols[order[i]], strlen(k->cols[order[i]]));
    fputc(':', f);
    if (v->type == T_STR) mx__json_escape(f, v->s, v->len);
    else fwrite(v->s, 1, v->len, f);
  }
  fputc('}', f);
}

void mx__plan_print(const mx_plan *p, FILE *f) {
  for (int kk = 0; kk < p->n; kk++) {
    const kind *k = &p->kinds[kk];
    field *vals = malloc((size_t)(k->ncols ? k->ncols : 1) * sizeof *vals);
    int *order = column_order(k);
    if (!vals || !order) {
      free(vals);
      free(order);
      continue;
    }
    fprintf(f, "# %s: %zu decision%s\n", k->name, k->rows, k->rows == 1 ? "" : "s");
    write_csv(k, order, f, vals, NULL);
    free(vals);
    free(order);
  }
}

static int make_dirs(const char *dir, mx_error *err) {
  if (mx__mkdir_p(dir) != 0)
    return mx_error_at(err, MX_EIO, dir, 0, 0, NULL, "cannot create directory: %s",
                       strerror(errno));
  return MX_OK;
}

/* May the run write this output? (a file merx owns never is one) */
static int check_target(const mx_run *run, const char *path, mx_error *err) {
  char why[4200];
  if (mx__run_output_refused(run, path, why, sizeof why))
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "this output %s: merx owns it and a run may not write it", why);
  return MX_OK;
}

/* The commit protocol, so that a run commits its files and its ledger rows
 * or neither: (1) take the ledger's write lock (waiting at most the busy
 * timeout; nothing is touched yet when that fails); (2) write every
 * temporary file and insert every row; (3) prepare all files and check all
 * targets (mx__atomic_publish: a full disk, a file-size limit or a directory
 * in the way fails here); (4) rename them all; (5) COMMIT. A failure in (4)
 * or (5) puts the previous files back. */
int mx__run_stage_ledger_write(mx_run *run, int (*apply)(void *, struct mx_decision_log *,
                                                        const char *, const char *, mx_error *),
                              void (*release)(void *), void *state) {
  mx_ledger_write *w = calloc(1, sizeof *w), **tail = &run->ledger_writes;
  if (!w) return -1;
  *w = (mx_ledger_write){apply, release, state, NULL};
  while (*tail) tail = &(*tail)->next;
  *tail = w;
  return 0;
}

void mx__run_ledger_writes_free(mx_run *run) {
  while (run->ledger_writes) {
    mx_ledger_write *w = run->ledger_writes;
    run->ledger_writes = w->next;
    w->release(w->state);
    free(w);
  }
}

int mx__plan_commit(mx_plan *p, mx_run *run, const mx_commit_info *ci, mx_error *err) {
  size_t exposures = mx__exp_stage_count(run->experiments);
  if (p->n == 0 && run->n_files == 0 && exposures == 0 && !run->ledger_writes) return MX_OK;
  if (run->ledger_writes && !ci->log_path)
    return mx_error_set(err, MX_EINVAL, "the run changed state kept in the store (merx.bandit "
                        "update) but has no store: give --store DIR or set MERX_STORE");
  int rc = MX_OK;
  int nfiles = 0;
  mx_atomic_file *af = calloc((size_t)(2 * p->n + 1), sizeof *af);
  mx_atomic_file **all = calloc((size_t)(2 * p->n + run->n_files + 1), sizeof *all);
  mx_decision_log *log = NULL;
  char *rec = NULL;
  size_t rec_len = 0;
  FILE *rf = NULL;
  if (!af || !all) {
    free(af);
    free(all);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (p->n > 0 && (rc = make_dirs(ci->out_dir, err)) != MX_OK) goto out;
  if (ci->log_path && (p->n > 0 || exposures > 0 || run->ledger_writes)) {
    double wait = run->busy_timeout > 0 ? run->busy_timeout : 60;
    if ((rc = mx__decisions_open_wait(ci->log_path, 1, wait, &log, err)) != MX_OK) goto out;
    if ((rc = mx__decisions_begin(log, err)) != MX_OK) goto out;
  }
  char committed_at[32];
  mx_format_time((int64_t)time(NULL), 0, committed_at, sizeof committed_at);
  for (int kk = 0; kk < p->n && rc == MX_OK; kk++) {
    const kind *k = &p->kinds[kk];
    field *vals = malloc((size_t)(k->ncols ? k->ncols : 1) * sizeof *vals);
    int *order = column_order(k);
    if (!vals || !order) {
      free(vals);
      free(order);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    char path[4096];
    if (ci->csv) {
      snprintf(path, sizeof path, "%s/%s.csv", ci->out_dir, k->name);
      if ((rc = check_target(run, path, err)) == MX_OK &&
          (rc = mx__atomic_open(&af[nfiles], path, err)) == MX_OK) {
        write_csv(k, order, af[nfiles].f, vals, run->reid);
        nfiles++;
      }
    }
    if (rc == MX_OK && ci->jsonl) {
      snprintf(path, sizeof path, "%s/%s.jsonl", ci->out_dir, k->name);
      if ((rc = check_target(run, path, err)) == MX_OK &&
          (rc = mx__atomic_open(&af[nfiles], path, err)) == MX_OK) {
        size_t pos = 0;
        for (size_t r = 0; r < k->rows; r++) {
          decode(k, &pos, vals);
          reidentify(k, run->reid, vals);
          write_json_record(k, order, vals, af[nfiles].f, 0);
          fputc('\n', af[nfiles].f);
        }
        nfiles++;
      }
    }
    int user_col = -1, reason_col = -1;
    for (int c = 0; c < k->ncols; c++) {
      if (strcmp(k->cols[c], "user") == 0) user_col = c;
      if (strcmp(k->cols[c], "reason") == 0) reason_col = c;
    }
    size_t pos = 0;
    for (size_t r = 0; log && rc == MX_OK && r < k->rows; r++) {
      decode(k, &pos, vals);
      if (!rf) rf = open_memstream(&rec, &rec_len);
      if (!rf) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      rewind(rf);
      write_json_record(k, order, vals, rf, 1);
      fputc('\0', rf);
      fflush(rf);
      /* bound with their lengths: ids of any size stay whole */
      mx_decision_row row = {ci->run_id, ci->script, ci->script_hash, ci->params_json,
                             ci->time_iso, committed_at, k->name, NULL, rec, "",
                             0, 0, 0};
      if (user_col >= 0 && vals[user_col].type) {
        row.user = vals[user_col].s;
        row.user_len = vals[user_col].len;
        if (row.user_len == 0) row.user = "";
      }
      if (reason_col >= 0 && vals[reason_col].type) {
        row.reason = vals[reason_col].s;
        row.reason_len = vals[reason_col].len;
        if (row.reason_len == 0) row.reason = "";
      }
      rc = mx__decisions_add(log, &row, err);
    }
    free(vals);
    free(order);
  }
  if (rc == MX_OK && exposures > 0)
    rc = mx__exp_stage_commit(run->experiments, log, ci, committed_at, err);
  if (rc == MX_OK && log) {
    mx_ledger_input *in = calloc((size_t)(run->n_inputs ? run->n_inputs : 1), sizeof *in);
    if (!in) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto out;
    }
    for (int i = 0; i < run->n_inputs; i++)
      in[i] = (mx_ledger_input){run->inputs[i].path, run->inputs[i].sha256, run->inputs[i].bytes};
    mx_ledger_commit c = {ci->run_id, MERX_VERSION, ci->script,
                          ci->script_sha256 ? ci->script_sha256 : "", ci->params_json,
                          ci->time_iso, committed_at, (long)mx__plan_count(p),
                          run->n_inputs, in};
    rc = mx__decisions_add_commit(log, &c, err);
    free(in);
  }
  for (mx_ledger_write *w = run->ledger_writes; rc == MX_OK && log && w; w = w->next)
    rc = w->apply(w->state, log, ci->run_id, ci->time_iso, err);
  if (rc != MX_OK) goto out;
  int nall = 0;
  for (int i = 0; i < nfiles; i++) all[nall++] = &af[i];
  for (int i = 0; i < run->n_files && rc == MX_OK; i++) {
    rc = check_target(run, run->files[i].path, err);
    all[nall++] = &run->files[i];
  }
  if (rc == MX_OK) rc = mx__atomic_publish(all, nall, err);
  if (rc != MX_OK) goto out;
  if (log) rc = mx__decisions_commit(log, err);
  if (rc == MX_OK) {
    mx__atomic_settle(all, nall);
    mx__run_ledger_writes_free(run); /* committed: never applied twice */
  } else {
    mx__atomic_undo(all, nall);
  }
  run->n_files = 0;
out:
  if (rf) fclose(rf);
  free(rec);
  for (int i = 0; i < 2 * p->n; i++) mx__atomic_abort(&af[i]);
  free(af);
  free(all);
  if (log) {
    if (rc != MX_OK) mx__decisions_rollback(log);
    mx__decisions_close(log);
  }
  return rc;
}

/* ---------------------------------------------------- one request's plan
 * `merx serve`'s /v1/decide reads what one call staged, then clears it for
 * the next call of the same warm state. */

int mx__plan_each(const mx_plan *p, mx_plan_row_fn fn, void *ctx) {
  char *rec = NULL;
  size_t rec_len = 0;
  FILE *rf = open_memstream(&rec, &rec_len);
  if (!rf) return MX_ENOMEM;
  int rc = MX_OK;
  for (int kk = 0; kk < p->n && rc == MX_OK; kk++) {
    const kind *k = &p->kinds[kk];
    field *vals = malloc((size_t)(k->ncols ? k->ncols : 1) * sizeof *vals);
    int *order = column_order(k);
    int user_col = -1, reason_col = -1;
    for (int c = 0; c < k->ncols; c++) {
      if (strcmp(k->cols[c], "user") == 0) user_col = c;
      if (strcmp(k->cols[c], "reason") == 0) reason_col = c;
    }
    size_t pos = 0;
    if (!vals || !order) rc = MX_ENOMEM;
    for (size_t r = 0; rc == MX_OK && r < k->rows; r++) {
      decode(k, &pos, vals);
      rewind(rf);
      write_json_record(k, order, vals, rf, 1);
      fputc('\0', rf);
      if (fflush(rf) != 0) {
        rc = MX_ENOMEM;
        break;
      }
      mx_plan_row row = {k->name, NULL, 0, rec, "", 0};
      if (user_col >= 0 && vals[user_col].type) { /* a string, or a number's text */
        row.user = vals[user_col].s;
        row.user_len = vals[user_col].len;
      }
      if (reason_col >= 0 && vals[reason_col].type) {
        row.reason = vals[reason_col].s;
        row.reason_len = vals[reason_col].len;
      }
      rc = fn(ctx, &row);
    }
    free(vals);
    free(order);
  }
  fclose(rf);
  free(rec);
  return rc;
}

void mx__plan_clear(mx_plan *p, mx_run *run) {
  for (int k = 0; k < p->n; k++) {
    mx__run_uncharge(run, p->kinds[k].cap);
    free(p->kinds[k].name);
    for (int c = 0; c < p->kinds[k].ncols; c++) free(p->kinds[k].cols[c]);
    free(p->kinds[k].cols);
    free(p->kinds[k].buf);
  }
  p->n = 0;
  p->total = 0;
  p->last = 0;
}
