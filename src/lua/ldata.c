/* merx.data: tabular input and output for scripts.
 *
 * A frame is a plain Lua table of columns: frame.user[i], frame.value[i], ...
 * (i = 1..n), which is what bulk C functions take. Columns are typed when
 * read: ids and text are strings, `value` is a number, `time` is epoch
 * seconds; any column can be given a type with opts.types. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "util/pseudonym.h"
#include "lua/lmerx.h"
#include "merx/data.h"
#include "merx/groupby.h"
#include "merx/rfm.h"
#include "merx/shard.h"

enum { TY_STRING, TY_NUMBER, TY_INTEGER, TY_TIME };

static int parse_type(lua_State *L, const char *s, const char *col) {
  if (strcmp(s, "string") == 0) return TY_STRING;
  if (strcmp(s, "number") == 0) return TY_NUMBER;
  if (strcmp(s, "integer") == 0) return TY_INTEGER;
  if (strcmp(s, "time") == 0) return TY_TIME;
  return mx__lua_error(L, "merx.data.read: column '%s': unknown type '%s' "
                      "(string, number, integer, time)", col, s);
}

typedef struct rcol {
  char name[256]; /* name in the frame */
  int index;      /* 0-based file column */
  int type;
  int table;      /* stack index of the column table */
} rcol;

/* The reader belongs to a guard (mx__lua_guard): every error below, and any
 * Lua allocation failure while the columns fill, closes it. */
typedef struct read_state {
  mx_csv *csv;
} read_state;

static void read_release(void *p) {
  read_state *st = p;
  mx_csv_close(st->csv);
  st->csv = NULL;
}

static void csv_fail(lua_State *L, mx_error *err) {
  char buf[2048];
  mx_error_format(err, buf, sizeof buf);
  mx__lua_error(L, "merx.data.read: %s", buf);
}

/* Open part *part of the shard-split folder whose part 0 is open in st, in
 * place of it: its header must be part 0's (nh names). Returns 1. */
static int next_part(lua_State *L, read_state *st, const mx_csv_options *co, mx_csv **csv,
                     char *buf, size_t size, uint32_t *part, size_t nh, const char *const **names) {
  const char *first = mx_csv_path(*csv);
  char dir[4096];
  size_t dl = strlen(first);
  while (dl && first[dl - 1] != '/') dl--;
  if (dl == 0 || dl >= sizeof dir) mx__lua_error(L, "merx.data.read: bad part path '%s'", first);
  memcpy(dir, first, dl - 1);
  dir[dl - 1] = 0;
  if (mx_shard_part_path(dir, *part, buf, size) < 0) mx__lua_error(L, "merx.data.read: path too long");
  mx_error err;
  mx_error_clear(&err);
  mx_csv *next = NULL;
  if (mx_csv_open(buf, co, &next, &err) != MX_OK) csv_fail(L, &err);
  const char *const *h;
  int same = mx_csv_header(next, &h) == nh;
  for (size_t k = 0; same && k < nh; k++) same = strcmp(h[k], (*names)[k]) == 0;
  mx_csv_close(st->csv);
  st->csv = *csv = next; /* the guard closes it from here */
  if (!same) mx__lua_error(L, "merx.data.read: %s: its header differs from part 0's", buf);
  mx_run *run = mx__lua_run(L);
  if (run && mx__run_note_input(run, buf) != 0) mx__lua_error(L, "out of memory");
  *names = h;
  return 1;
}

static void dataset_release(void *p) {
  mx_dataset **d = p;
  mx_dataset_free(*d);
  *d = NULL;
}

/* A packed dataset (merx data pack) as a frame of its (user, item) pairs,
 * aggregated as the CSV path aggregates them: columns user, item, value
 * (and time when the dataset has one), rows by user then item. With a store
 * key the users are pseudonyms (a plain file is pseudonymised here, another
 * key's refused); under --shard only this shard's users. */
static int load_packed(lua_State *L, const char *path, int use_shard) {
  mx_run *run = mx__lua_run(L);
  mx_ingest_options o = mx_ingest_defaults();
  if (run && run->pseudo) {
    o.user_rewrite = mx__pseudonymise_rewrite;
    o.user_rewrite_ctx = run->pseudo;
    o.user_rewrite_check = mx__hmac_key_check(mx__pseudonymiser_key(run->pseudo));
  }
  mx_dataset **g = mx__lua_guard(L, sizeof *g, dataset_release);
  mx_error err;
  mx_error_clear(&err);
  if (mx_dataset_load_packed(path, &o, g, &err) != MX_OK) {
    char buf[2048];
    mx_error_format(&err, buf, sizeof buf);
    mx__lua_error(L, "merx.data.load: %s", buf);
  }
  if (run && mx__run_note_input(run, path) != 0) mx__lua_error(L, "out of memory");
  const mx_dataset *d = *g;
  const mx_csr *c = &d->by_user;
  int with_t = d->has_time && c->times;
  lua_Integer n = 0;
  lua_createtable(L, 0, 4);
  int frame = lua_gettop(L);
  int col[4];
  for (int k = 0; k < 3 + with_t; k++) {
    lua_createtable(L, c->nnz < 1u << 26 ? (int)c->nnz : 0, 0);
    col[k] = lua_gettop(L);
  }
  int shard = use_shard && run && run->shard_count > 1;
  for (uint32_t u = 0; u < c->rows; u++) {
    const char *user = mx_idmap_name(d->users, u);
    if (shard && !mx__run_in_shard(run, user, strlen(user))) continue;
    for (uint64_t k = c->indptr[u]; k < c->indptr[u + 1]; k++) {
      n++;
      lua_pushstring(L, user);
      lua_rawseti(L, col[0], n);
      lua_pushstring(L, mx_idmap_name(d->items, c->indices[k]));
      lua_rawseti(L, col[1], n);
      lua_pushnumber(L, c->values[k]);
      lua_rawseti(L, col[2], n);
      if (with_t) {
        lua_pushinteger(L, (lua_Integer)c->times[k]);
        lua_rawseti(L, col[3], n);
      }
    }
  }
  static const char *const names[] = {"user", "item", "value", "time"};
  for (int k = 3 + with_t - 1; k >= 0; k--) {
    lua_pushvalue(L, col[k]);
    lua_setfield(L, frame, names[k]);
  }
  mx__lua_guard_release(g);
  lua_settop(L, frame);
  lua_pushinteger(L, n);
  return 2;
}

/* merx.data.load(path [, opts]) -> frame, n: a .mxd file (load_packed).
 * opts: shard = true (under --shard, keep this shard's users). */
static int l_load(lua_State *L) {
  mx__lua_check_run_active(L, "merx.data");
  lua_settop(L, 2);
  mx__lua_check_options(L, 2, "merx.data.load", "shard");
  const char *path = mx__lua_path(L, 1, 0);
  int use_shard = lua_isnoneornil(L, 2) ? 1 : mx__lua_opt_boolean(L, 2, "shard", 1);
  return load_packed(L, path, use_shard);
}

/* merx.data.read(path [, opts]) -> frame, n
 * opts: columns = "user=CustomerID,..." or {user = "CustomerID", ...};
 *       types = {Quantity = "number", ...}; sep = ","; header = true;
 *       skip_empty = false (skip rows with an empty selected field);
 *       shard = true (with a `user` column and --shard, keep this shard's users) */
static int l_read(lua_State *L) {
  mx__lua_check_run_active(L, "merx.data");
  lua_settop(L, 2);
  mx__lua_check_options(L, 2, "merx.data.read", "columns types sep header skip_empty shard");
  const char *path = mx__lua_path(L, 1, 0);
  int popt = 2;
  if (!lua_isnoneornil(L, popt)) luaL_checktype(L, popt, LUA_TTABLE);
  mx_csv_options co = mx_csv_defaults();
  const char *sep = mx__lua_opt_string(L, popt, "sep", NULL);
  if (sep) co.sep = strcmp(sep, "tab") == 0 ? '\t' : sep[0];
  co.has_header = mx__lua_opt_boolean(L, popt, "header", 1);
  int skip_empty = mx__lua_opt_boolean(L, popt, "skip_empty", 0);
  int use_shard = mx__lua_opt_boolean(L, popt, "shard", 1);
  mx_error err;
  mx_error_clear(&err);
  read_state *st = mx__lua_guard(L, sizeof *st, read_release);
  /* a folder written by `merx shard-split`: its parts in order, or under
   * --shard with the same count only this shard's part (see below) */
  mx_shard_manifest man;
  int parted = 0;
  if (mx_shard_manifest_read(path, &man, &parted, &err) != MX_OK) csv_fail(L, &err);
  mx_run *run = mx__lua_run(L);
  char part_path[4096];
  uint32_t part = 0, part_end = parted ? man.shards : 0;
  if (!parted && mx_dataset_is_packed(path)) {
    /* a .mxd holds its columns already: only shard applies */
    static const char *const csv_only[] = {"columns", "types", "sep", "header", "skip_empty"};
    for (size_t k = 0; !lua_isnoneornil(L, popt) && k < sizeof csv_only / sizeof *csv_only; k++)
      if (lua_getfield(L, popt, csv_only[k]) != LUA_TNIL)
        mx__lua_error(L, "merx.data.read: %s is a packed dataset (.mxd): option '%s' does not "
                     "apply to it", path, csv_only[k]);
      else
        lua_pop(L, 1);
    mx__lua_guard_release(st);
    return load_packed(L, path, use_shard);
  }
  if (parted) {
    if (mx_shard_part_path(path, 0, part_path, sizeof part_path) < 0)
      mx__lua_error(L, "merx.data.read: path too long: %s", path);
    path = part_path;
    if (run && mx__run_note_input(run, part_path) != 0) mx__lua_error(L, "out of memory");
  }
  if (mx_csv_open(path, &co, &st->csv, &err) != MX_OK) {
    char buf[2048];
    mx_error_format(&err, buf, sizeof buf);
    return mx__lua_error(L, "merx.data.read: %s", buf);
  }
  mx_csv *csv = st->csv;
  /* which columns */
  mx_columns cols;
  memset(&cols, 0, sizeof cols);
  int have_roles = 0;
  if (!lua_isnoneornil(L, popt)) {
    lua_getfield(L, popt, "columns");
    if (lua_type(L, -1) == LUA_TSTRING) {
      if (mx_columns_parse(lua_tostring(L, -1), NULL, &cols, &err) != MX_OK) csv_fail(L, &err);
      have_roles = 1;
    } else if (lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_tostring(L, -1))
          mx__lua_error(L, "merx.data.read: columns must map role names to column names");
        if (mx_columns_set(&cols, lua_tostring(L, -2), lua_tostring(L, -1), &err) != MX_OK)
          csv_fail(L, &err);
        lua_pop(L, 1);
      }
      have_roles = 1;
    } else if (!lua_isnil(L, -1)) {
      mx__lua_error(L, "merx.data.read: option 'columns' must be a string or a table");
    }
    lua_pop(L, 1);
  }
  rcol *rc;
  int nrc;
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  if (have_roles) {
    if (mx_columns_resolve(&cols, csv, &err) != MX_OK) csv_fail(L, &err);
    nrc = cols.count;
    rc = mx__lua_scratch(L, (size_t)nrc * sizeof *rc);
    for (int i = 0; i < nrc; i++) {
      snprintf(rc[i].name, sizeof rc[i].name, "%s", cols.role[i]);
      rc[i].index = cols.index[i];
      rc[i].type = strcmp(cols.role[i], "value") == 0 ? TY_NUMBER
                   : strcmp(cols.role[i], "time") == 0 ? TY_TIME : TY_STRING;
    }
  } else {
    if (nh == 0)
      mx__lua_error(L, "merx.data.read: %s: without a header, give columns = {role = INDEX}", path);
    nrc = (int)nh;
    rc = mx__lua_scratch(L, (size_t)nrc * sizeof *rc);
    for (int i = 0; i < nrc; i++) {
      snprintf(rc[i].name, sizeof rc[i].name, "%s", names[i]);
      rc[i].index = i;
      rc[i].type = TY_STRING;
    }
  }
  /* explicit types, by frame name or by file column name */
  if (!lua_isnoneornil(L, popt)) {
    lua_getfield(L, popt, "types");
    if (lua_istable(L, -1)) {
      for (int i = 0; i < nrc; i++) {
        lua_getfield(L, -1, rc[i].name);
        if (lua_isnil(L, -1) && rc[i].index < (int)nh) {
          lua_pop(L, 1);
          lua_getfield(L, -1, names[rc[i].index]);
        }
        if (lua_type(L, -1) == LUA_TSTRING) rc[i].type = parse_type(L, lua_tostring(L, -1), rc[i].name);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  int user_col = -1, pseudo_col = -1;
  for (int i = 0; i < nrc; i++) {
    lua_newtable(L);
    rc[i].table = lua_gettop(L);
    if (strcmp(rc[i].name, "user") == 0 && use_shard && run && run->shard_count > 1) user_col = i;
    /* a store with a key: the script, its outputs and the ledger see
     * pseudonyms only (PRIVACY.md); shards and arms hash the pseudonym */
    if (strcmp(rc[i].name, "user") == 0 && run && run->pseudo && rc[i].type == TY_STRING)
      pseudo_col = i;
  }
  /* parts split by the user column into as many shards as the run has:
   * every row of part I is in shard I, and no other part holds one */
  /* (with a store key the shard is the pseudonym's, which the parts were
   * not split by: read them all and filter) */
  if (parted && pseudo_col < 0 && user_col >= 0 && man.shards == run->shard_count &&
      rc[user_col].index < (int)nh &&
      strcmp(names[rc[user_col].index], man.column) == 0 && run->shard_index != 0) {
    part = run->shard_index;
    part_end = part + 1;
    if (next_part(L, st, &co, &csv, part_path, sizeof part_path, &part, nh, &names) != 1)
      mx__lua_error(L, "merx.data.read: no part %u", (unsigned)part);
    path = part_path;
  } else if (parted && pseudo_col < 0 && user_col >= 0 && man.shards == run->shard_count &&
             rc[user_col].index < (int)nh && strcmp(names[rc[user_col].index], man.column) == 0) {
    part_end = 1;
  }
  char **fields;
  size_t *lens, nf;
  lua_Integer n = 0;
  int r;
more:
  while ((r = mx_csv_next(csv, &fields, &lens, &nf, &err)) == 1) {
    const char *pseudonym = NULL;
    if (pseudo_col >= 0 && rc[pseudo_col].index < (int)nf && lens[rc[pseudo_col].index] > 0) {
      int idx = rc[pseudo_col].index;
      if (!(pseudonym = mx__pseudonymise(run->pseudo, fields[idx], lens[idx])))
        return mx__lua_error(L, "merx.data.read: out of memory");
    }
    if (user_col >= 0) {
      int idx = rc[user_col].index;
      if (idx >= (int)nf) continue;
      if (pseudonym ? !mx__run_in_shard(run, pseudonym, MX_PSEUDONYM_LEN)
                    : !mx__run_in_shard(run, fields[idx], lens[idx]))
        continue;
    }
    if (skip_empty) {
      int empty = 0;
      for (int i = 0; i < nrc; i++)
        if (rc[i].index >= (int)nf || lens[rc[i].index] == 0) empty = 1;
      if (empty) continue;
    }
    n++;
    for (int i = 0; i < nrc; i++) {
      int idx = rc[i].index;
      const char *s = idx < (int)nf ? fields[idx] : "";
      size_t len = idx < (int)nf ? lens[idx] : 0;
      if (i == pseudo_col && pseudonym) {
        lua_pushlstring(L, pseudonym, MX_PSEUDONYM_LEN);
      } else if (rc[i].type == TY_STRING) {
        lua_pushlstring(L, s, len);
      } else if (rc[i].type == TY_TIME) {
        int64_t t;
        if (mx_parse_time(s, &t) != 0) {
          mx_error_at(&err, MX_EPARSE, mx_csv_path(csv), mx_csv_line(csv), idx + 1,
                      idx < (int)nh ? names[idx] : rc[i].name, "not a date or time: '%s'", s);
          csv_fail(L, &err);
        }
        lua_pushinteger(L, (lua_Integer)t);
      } else {
        double d;
        if (mx_parse_double(s, &d) != 0 || (rc[i].type == TY_INTEGER && d != floor(d))) {
          mx_error_at(&err, MX_EPARSE, mx_csv_path(csv), mx_csv_line(csv), idx + 1,
                      idx < (int)nh ? names[idx] : rc[i].name, "not %s: '%s'",
                      rc[i].type == TY_INTEGER ? "an integer" : "a finite number", s);
          csv_fail(L, &err);
        }
        if (rc[i].type == TY_INTEGER) lua_pushinteger(L, (lua_Integer)d);
        else lua_pushnumber(L, d);
      }
      lua_rawseti(L, rc[i].table, n);
    }
  }
  if (r < 0) csv_fail(L, &err);
  if (parted && part + 1 < part_end) {
    part++;
    if (next_part(L, st, &co, &csv, part_path, sizeof part_path, &part, nh, &names) == 1)
      goto more;
  }
  mx__lua_guard_release(st);
  lua_createtable(L, 0, nrc);
  for (int i = 0; i < nrc; i++) {
    lua_pushvalue(L, rc[i].table);
    lua_setfield(L, -2, rc[i].name);
  }
  lua_pushinteger(L, n);
  return 2;
}

/* Number of rows of a frame: the length of its first column (all equal). */
static lua_Integer frame_rows(lua_State *L, int idx, const char *fn) {
  lua_Integer n = -1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
      lua_Integer m = (lua_Integer)lua_rawlen(L, -1);
      if (n >= 0 && m != n) {
        mx__lua_error(L, "%s: columns have different lengths (%lld and %lld at '%s')", fn,
                     (long long)n, (long long)m, lua_tostring(L, -2));
      }
      n = m;
    }
    lua_pop(L, 1);
  }
  return n < 0 ? 0 : n;
}

static int get_column(lua_State *L, int frame, const char *name, const char *fn) {
  if (lua_getfield(L, frame, name) != LUA_TTABLE)
    mx__lua_error(L, "%s: the frame has no column '%s'", fn, name);
  return lua_gettop(L);
}

/* Key of row i over the key columns (joined by \x1f for several). */
static const char *row_key(lua_State *L, const int *kc, int nk, lua_Integer i, size_t *len,
                           luaL_Buffer *b) {
  if (nk == 1) {
    lua_rawgeti(L, kc[0], i);
    const char *s = luaL_tolstring(L, -1, len);
    lua_remove(L, -2);
    return s;
  }
  luaL_buffinit(L, b);
  for (int k = 0; k < nk; k++) {
    if (k) luaL_addchar(b, '\x1f');
    lua_rawgeti(L, kc[k], i);
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    luaL_addvalue(b);
  }
  luaL_pushresult(b);
  return lua_tolstring(L, -1, len);
}

static void group_release(void *p) {
  mx_group **g = p;
  mx_group_free(*g);
  *g = NULL;
}

/* merx.data.group(frame, by, aggs) -> frame, ngroups
 * by: column name or list of names; aggs: { out = {"sum", "col"} | "count" }.
 * Groups come out in order of first appearance. The grouping is the core's
 * (merx/groupby.h); this converts each row's key and values. */
static int l_group(lua_State *L) {
  static const char *fn = "merx.data.group";
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = frame_rows(L, 1, fn);
  int kc[8], nk = 0;
  const char *kname[8];
  if (lua_type(L, 2) == LUA_TSTRING) {
    kname[0] = lua_tostring(L, 2);
    kc[nk++] = get_column(L, 1, kname[0], fn);
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer m = (lua_Integer)lua_rawlen(L, 2);
    if (m < 1 || m > 8) return mx__lua_error(L, "%s: group by 1 to 8 columns", fn);
    for (lua_Integer k = 1; k <= m; k++) {
      lua_rawgeti(L, 2, k);
      kname[nk] = lua_tostring(L, -1);
      if (!kname[nk]) return mx__lua_error(L, "%s: column names must be strings", fn);
      kc[nk] = get_column(L, 1, kname[nk], fn);
      nk++;
    }
  }
  /* aggregations: output name, operation, input column */
  int na = 0;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    na++;
    lua_pop(L, 1);
  }
  size_t slots = na ? (size_t)na : 1;
  const char **out_name = mx__lua_scratch(L, slots * sizeof *out_name);
  mx_group_agg *ops = mx__lua_scratch(L, slots * sizeof *ops);
  int *col = mx__lua_scratch(L, slots * sizeof *col); /* stack index of the input column */
  double *num = mx__lua_scratch(L, slots * sizeof *num);
  const char **str = mx__lua_scratch(L, slots * sizeof *str);
  size_t *str_len = mx__lua_scratch(L, slots * sizeof *str_len);
  mx_error err;
  mx_error_clear(&err);
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    if (lua_type(L, -2) != LUA_TSTRING) return mx__lua_error(L, "%s: aggregation names must be strings", fn);
    out_name[i] = lua_tostring(L, -2);
    const char *op = NULL, *cname = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      op = lua_tostring(L, -1);
    } else if (lua_istable(L, -1)) {
      lua_rawgeti(L, -1, 1);
      op = lua_tostring(L, -1);
      lua_rawgeti(L, -2, 2);
      cname = lua_tostring(L, -1);
      lua_pop(L, 2); /* strings stay alive in the aggs table */
    }
    if (!op) return mx__lua_error(L, "%s: aggregation '%s' must be \"count\" or {op, column}", fn, out_name[i]);
    if (mx_group_agg_parse(op, &ops[i], &err) != MX_OK) return mx__lua_error(L, "%s: %s", fn, err.message);
    if (ops[i] != MX_GROUP_COUNT && !cname)
      return mx__lua_error(L, "%s: aggregation '%s' needs a column: {\"%s\", \"column\"}", fn, out_name[i], op);
    lua_pop(L, 1);
    i++;
  }
  /* the input columns live on the stack below the row traversal */
  for (i = 0; i < na; i++) {
    col[i] = 0;
    if (ops[i] == MX_GROUP_COUNT) continue;
    lua_getfield(L, 3, out_name[i]);
    const char *cname = NULL;
    if (lua_istable(L, -1)) {
      lua_rawgeti(L, -1, 2);
      cname = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    col[i] = get_column(L, 1, cname, fn);
  }
  mx_group **gp = mx__lua_guard(L, sizeof *gp, group_release);
  if (mx_group_create(ops, na, gp, &err) != MX_OK) return mx__lua_error(L, "%s: out of memory", fn);
  mx_group *g = *gp;
  luaL_Buffer b;
  for (lua_Integer r = 1; r <= n; r++) {
    size_t klen;
    int top = lua_gettop(L);
    const char *key = row_key(L, kc, nk, r, &klen, &b);
    for (i = 0; i < na; i++) {
      if (ops[i] == MX_GROUP_COUNT_DISTINCT) {
        lua_rawgeti(L, col[i], r);
        str[i] = luaL_tolstring(L, -1, &str_len[i]); /* stays on the stack until the add */
      } else if (mx_group_agg_numeric(ops[i])) {
        lua_rawgeti(L, col[i], r);
        int ok;
        num[i] = (double)lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok)
          return mx__lua_error(L, "%s: row %lld of the column for '%s' is not a number", fn,
                              (long long)r, out_name[i]);
      }
    }
    if (mx_group_add(g, key, klen, num, str, str_len, NULL, &err) != MX_OK)
      return mx__lua_error(L, "%s: out of memory", fn);
    lua_settop(L, top);
  }
  uint32_t ng = mx_group_count(g);
  lua_createtable(L, 0, nk + na);
  int out = lua_gettop(L);
  for (int k = 0; k < nk; k++) {
    lua_createtable(L, (int)ng, 0);
    for (uint32_t q = 0; q < ng; q++) {
      lua_rawgeti(L, kc[k], (lua_Integer)mx_group_first_row(g, q) + 1);
      lua_rawseti(L, -2, q + 1);
    }
    lua_setfield(L, out, kname[k]);
  }
  for (i = 0; i < na; i++) {
    lua_createtable(L, (int)ng, 0);
    for (uint32_t q = 0; q < ng; q++) {
      double v = mx_group_value(g, i, q);
      if (ops[i] == MX_GROUP_FIRST || ops[i] == MX_GROUP_LAST) lua_rawgeti(L, col[i], (lua_Integer)v + 1);
      else if (ops[i] == MX_GROUP_COUNT || ops[i] == MX_GROUP_COUNT_DISTINCT) lua_pushinteger(L, (lua_Integer)v);
      else lua_pushnumber(L, v);
      lua_rawseti(L, -2, q + 1);
    }
    lua_setfield(L, out, out_name[i]);
  }
  mx__lua_guard_release(gp);
  lua_pushinteger(L, ng);
  return 2;
}

static void rfm_release(void *p) {
  mx_rfm **r = p;
  mx_rfm_free(*r);
  *r = NULL;
}

/* merx.data.rfm(frame [, opts]) -> frame, n
 * Recency (days since the last purchase before opts.now, default merx.now()),
 * frequency (distinct opts.order values, or rows when no order column) and
 * monetary value (sum of opts.value) per customer, with quintile scores r, f,
 * m (5 = best) and a segment from (r, f): champions, loyal, new, at_risk,
 * hibernating, needs_attention. opts: user ("user"), time ("time"),
 * value ("value"), order (nil), now. The scoring is the core's
 * (merx/rfm.h); this converts the rows and the result. */
static int l_rfm(lua_State *L) {
  static const char *fn = "merx.data.rfm";
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  mx__lua_check_options(L, 2, fn, "user time value order now");
  const char *ucol = mx__lua_opt_string(L, 2, "user", "user");
  const char *tcol = mx__lua_opt_string(L, 2, "time", "time");
  const char *vcol = mx__lua_opt_string(L, 2, "value", "value");
  const char *ocol = mx__lua_opt_string(L, 2, "order", NULL);
  mx_run *run = mx__lua_run(L);
  lua_Integer now = mx__lua_opt_integer(L, 2, "now", run ? (lua_Integer)run->now : 0);
  lua_Integer n = frame_rows(L, 1, fn);
  int cu = get_column(L, 1, ucol, fn), ct = get_column(L, 1, tcol, fn), cv = get_column(L, 1, vcol, fn);
  int co = ocol ? get_column(L, 1, ocol, fn) : 0;
  mx_rfm **rp = mx__lua_guard(L, sizeof *rp, rfm_release);
  mx_error err;
  mx_error_clear(&err);
  if (mx_rfm_create(ocol != NULL, rp, &err) != MX_OK) return mx__lua_error(L, "%s: out of memory", fn);
  mx_rfm *acc = *rp;
  for (lua_Integer r = 1; r <= n; r++) {
    int top = lua_gettop(L);
    lua_rawgeti(L, cu, r);
    size_t ulen, olen = 0;
    const char *u = luaL_tolstring(L, -1, &ulen), *o = NULL;
    int okt, okv;
    lua_rawgeti(L, ct, r);
    double t = (double)lua_tonumberx(L, -1, &okt);
    lua_rawgeti(L, cv, r);
    double v = (double)lua_tonumberx(L, -1, &okv);
    if (!okt || !okv)
      return mx__lua_error(L, "%s: row %lld: column '%s' is not a number", fn, (long long)r,
                          !okt ? tcol : vcol);
    if (ocol) {
      lua_rawgeti(L, co, r);
      o = luaL_tolstring(L, -1, &olen);
    }
    if (mx_rfm_add(acc, u, ulen, t, v, o, olen, &err) != MX_OK)
      return mx__lua_error(L, "%s: out of memory", fn);
    lua_settop(L, top);
  }
  const mx_rfm_row *row;
  uint32_t nu;
  if (mx_rfm_score(acc, (int64_t)now, &row, &nu, &err) != MX_OK)
    return mx__lua_error(L, "%s: out of memory", fn);
  lua_createtable(L, 0, 8);
  int out = lua_gettop(L);
  const char *names[] = {"user", "recency", "frequency", "monetary", "r", "f", "m", "segment"};
  for (int c = 0; c < 8; c++) {
    lua_createtable(L, (int)nu, 0);
    for (uint32_t g = 0; g < nu; g++) {
      switch (c) {
        case 0: lua_pushstring(L, row[g].user); break;
        case 1: lua_pushnumber(L, row[g].recency); break;
        case 2: lua_pushinteger(L, (lua_Integer)row[g].frequency); break;
        case 3: lua_pushnumber(L, row[g].monetary); break;
        case 4: lua_pushinteger(L, row[g].r); break;
        case 5: lua_pushinteger(L, row[g].f); break;
        case 6: lua_pushinteger(L, row[g].m); break;
        default: lua_pushstring(L, row[g].segment); break;
      }
      lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, out, names[c]);
  }
  mx__lua_guard_release(rp);
  lua_pushinteger(L, nu);
  return 2;
}

/* Write the value at the top as a CSV field; returns its length. */
static size_t write_value(lua_State *L, FILE *f) {
  int t = lua_type(L, -1);
  if (t == LUA_TNIL) return 0;
  if (t == LUA_TNUMBER || t == LUA_TSTRING || t == LUA_TBOOLEAN) {
    size_t len;
    const char *s = luaL_tolstring(L, -1, &len);
    mx_csv_write_field(f, s, ',');
    lua_pop(L, 1);
    return len;
  }
  mx__lua_error(L, "merx.data.write: a %s cannot be written to CSV", luaL_typename(L, -1));
  return 0;
}

/* merx.data.write(path, data [, {columns = {...}}]) -> rows
 * data: a frame (table of columns) or an array of records. Columns default
 * to the frame's / first record's keys, `user` first, then alphabetical.
 * The file is written atomically inside --out, and (in `merx run`) only
 * renamed into place when the whole script succeeds. */
static int l_write(lua_State *L) {
  mx__lua_check_run_active(L, "merx.data");
  lua_settop(L, 3);
  mx__lua_check_options(L, 3, "merx.data.write", "columns");
  const char *path = mx__lua_path(L, 1, 1);
  int ppath = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  int records = lua_rawlen(L, 2) > 0;
  /* column list */
  lua_newtable(L);
  int cols = lua_gettop(L);
  int ncol = 0;
  if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "columns") == LUA_TTABLE) {
    for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, -1); k++) {
      lua_rawgeti(L, -1, k);
      lua_rawseti(L, cols, ++ncol);
    }
    lua_pop(L, 1);
  } else {
    if (!lua_isnoneornil(L, 3)) lua_pop(L, 1);
    if (records) lua_rawgeti(L, 2, 1);
    else lua_pushvalue(L, 2);
    if (!lua_istable(L, -1)) return mx__lua_error(L, "merx.data.write: records must be tables");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, cols, ++ncol);
      }
    }
    lua_pop(L, 1);
    /* user first, then alphabetical: stable across runs */
    const char **names = mx__lua_scratch(L, (size_t)(ncol ? ncol : 1) * sizeof *names);
    for (int c = 0; c < ncol; c++) {
      lua_rawgeti(L, cols, c + 1);
      names[c] = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    for (int a = 1; a < ncol; a++)
      for (int b = a; b > 0; b--) {
        const char *x = names[b - 1], *y = names[b];
        int rx = strcmp(x, "user") == 0 ? 0 : 1, ry = strcmp(y, "user") == 0 ? 0 : 1;
        if (rx < ry || (rx == ry && strcmp(x, y) <= 0)) break;
        names[b - 1] = y;
        names[b] = x;
      }
    for (int c = 0; c < ncol; c++) {
      lua_pushstring(L, names[c]);
      lua_rawseti(L, cols, c + 1);
    }
    lua_pop(L, 1);
  }
  if (ncol == 0) return mx__lua_error(L, "merx.data.write: no columns to write");
  lua_Integer n = records ? (lua_Integer)lua_rawlen(L, 2) : frame_rows(L, 2, "merx.data.write");
  mx_run *run = mx__lua_run(L);
  if (run->dry_run) {
    /* a dry run commits nothing: report what would be written */
    fprintf(run->err, "dry run: would write %lld rows to %s\n", (long long)n, path);
    lua_pushinteger(L, n);
    return 1;
  }
  mx_atomic_file af;
  mx_error err;
  mx_error_clear(&err);
  if (mx__atomic_open(&af, path, &err) != MX_OK) return mx__lua_raise(L, &err);
  /* register first, so an error while writing still removes the file */
  int slot = mx__run_add_file(run, &af);
  if (slot < 0) {
    mx__atomic_abort(&af);
    return mx__lua_error(L, "merx.data.write: out of memory");
  }
  FILE *f = af.f;
  for (int c = 1; c <= ncol; c++) {
    lua_rawgeti(L, cols, c);
    if (c > 1) fputc(',', f);
    mx_csv_write_field(f, lua_tostring(L, -1), ',');
    lua_pop(L, 1);
  }
  fputc('\n', f);
  if (!records) {
    for (int c = 1; c <= ncol; c++) {
      lua_rawgeti(L, cols, c);
      lua_gettable(L, 2);
    }
  }
  int first_col = lua_gettop(L) - ncol + 1;
  /* bytes: capped per run; rows: the run's limits are polled as they go */
  uint64_t cap = run->sandboxed && run->mem_limit ? (uint64_t)MX_WRITE_CAP_FACTOR * run->mem_limit : 0;
  for (lua_Integer r = 1; r <= n; r++) {
    if ((r & 1023) == 0) mx__lua_check_stop(L);
    if (records) lua_rawgeti(L, 2, r);
    for (int c = 1; c <= ncol; c++) {
      if (c > 1) fputc(',', f);
      if (records) {
        lua_rawgeti(L, cols, c);
        lua_gettable(L, -2);
      } else {
        if (!lua_istable(L, first_col + c - 1)) {
          lua_pushnil(L);
        } else {
          lua_rawgeti(L, first_col + c - 1, r);
        }
      }
      run->written += write_value(L, f) + 1;
      lua_pop(L, 1);
      if (cap && run->written > cap)
        return mx__lua_error(L,
                            "merx.data.write: output over the limit of %llu MB per run "
                            "(%d x --memory)",
                            (unsigned long long)(cap >> 20), MX_WRITE_CAP_FACTOR);
    }
    if (records) lua_pop(L, 1);
    fputc('\n', f);
  }
  if (!run->sandboxed) {
    /* merx.so: no run to wait for */
    run->n_files--;
    if (mx__atomic_commit(&run->files[slot], &err) != MX_OK) return mx__lua_raise(L, &err);
  }
  (void)ppath;
  lua_pushinteger(L, n);
  return 1;
}

int mx__luaopen_data(lua_State *L) {
  static const luaL_Reg f[] = {{"read", l_read},   {"load", l_load},   {"group", l_group},
                               {"rfm", l_rfm},     {"write", l_write}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
