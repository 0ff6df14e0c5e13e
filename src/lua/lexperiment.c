/* merx.experiment: stable arms for users and the exposures of a run.
 *
 *   local e = merx.experiment{ name = "spring", arms = { control = 0.1, coupon = 0.9 },
 *                              salt = "spring", stratify = "segment", control = "control" }
 *   e:arm(user [, stratum])            -> arm name (writes nothing)
 *   e:emit(kind, record [, stratum])   -> arm: every arm but control gets
 *                                         merx.emit(kind, record); every arm
 *                                         logs the exposure (control: the
 *                                         would-have-been decision)
 *   e:expose(kind, record [, stratum]) -> arm: the exposure only
 *
 * The arm is the hash rule of merx/experiment.h. A user's first assignment
 * in the store's ledger is kept: for a stratified experiment (whose hash
 * includes the stratum, which can change between runs) the ledger's
 * assignments are read when the experiment is defined. Assignments and
 * exposures are staged in C memory (charged to the run like the plan) and
 * written by mx__plan_commit in the transaction of the run's decisions
 * (mx__exp_stage_commit): all or nothing; a dry run writes nothing.
 *
 * Staged rows: u16 def, u16 arm, u32 user, stratum (UINT32_MAX: none),
 * kind and record lengths, then those bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/experiment.h"
#include "store/experiments.h"

#define MAX_ARMS 64
#define NAME_MAX_LEN 128
#define HEADER 20
#define NO_STRATUM UINT32_MAX

typedef struct exp_def {
  char *name, *salt, *stratify, *control, *arms_json;
  int n, control_idx;
  char **arms;
  double *shares;
} exp_def;

struct mx_exp_stage {
  exp_def *defs;
  int n_defs, cap_defs;
  unsigned char *buf;
  size_t len, cap, rows;
};

typedef struct exp_ud {
  int def;
} exp_ud;

static const char *const MT = "merx.experiment";

static void def_free(exp_def *d) {
  free(d->name);
  free(d->salt);
  free(d->stratify);
  free(d->control);
  free(d->arms_json);
  for (int i = 0; i < d->n; i++) free(d->arms[i]);
  free(d->arms);
  free(d->shares);
}

void mx__exp_stage_free(mx_exp_stage *s) {
  if (!s) return;
  for (int i = 0; i < s->n_defs; i++) def_free(&s->defs[i]);
  free(s->defs);
  free(s->buf);
  free(s);
}

size_t mx__exp_stage_count(const mx_exp_stage *s) { return s ? s->rows : 0; }

void mx__exp_stage_committed(mx_exp_stage *s) {
  if (s) s->rows = s->len = 0;
}

static mx_experiment_def store_def(const exp_def *d, const char *run_id, const char *created) {
  mx_experiment_def x = {d->name, d->salt, d->arms_json, d->stratify, d->control, created,
                         run_id,  d->n,    (const char *const *)d->arms, d->shares};
  return x;
}

/* ---------------------------------------------------------------- define */

/* The arms table at idx as names and shares, in arm order: the array form
 * { {"control", 0.1}, {"coupon", 0.9} } in its order, the map form
 * { control = 0.1, coupon = 0.9 } sorted by name (byte order). */
static int read_arms(lua_State *L, int idx, const char *name, const char **names, double *shares) {
  int n = 0;
  if (lua_rawlen(L, idx) > 0) {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (!lua_isinteger(L, -2))
        mx__lua_error(L, "merx.experiment '%s': arms is a list { {\"name\", share}, ... } or a map "
                     "{ name = share }, not both", name);
      lua_pop(L, 1);
    }
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    if (len > MAX_ARMS) mx__lua_error(L, "merx.experiment '%s': more than %d arms", name, MAX_ARMS);
    for (lua_Integer i = 1; i <= len; i++) {
      lua_rawgeti(L, idx, i);
      if (!lua_istable(L, -1) || lua_rawlen(L, -1) != 2)
        mx__lua_error(L, "merx.experiment '%s': arms[%lld] must be {\"name\", share}", name,
                     (long long)i);
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if (lua_type(L, -2) != LUA_TSTRING)
        mx__lua_error(L, "merx.experiment '%s': arms[%lld][1] must be the arm's name (a string)",
                     name, (long long)i);
      if (lua_type(L, -1) != LUA_TNUMBER)
        mx__lua_error(L, "merx.experiment '%s': arms[%lld][2] must be the arm's share (a number)",
                     name, (long long)i);
      names[n] = lua_tostring(L, -2); /* owned by the arms table */
      shares[n] = lua_tonumber(L, -1);
      n++;
      lua_pop(L, 3);
    }
    return n;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      mx__lua_error(L, "merx.experiment '%s': arms is a list { {\"name\", share}, ... } or a map "
                   "{ name = share }", name);
    if (lua_type(L, -1) != LUA_TNUMBER)
      mx__lua_error(L, "merx.experiment '%s': the share of arm '%s' must be a number", name,
                   lua_tostring(L, -2));
    if (n == MAX_ARMS) mx__lua_error(L, "merx.experiment '%s': more than %d arms", name, MAX_ARMS);
    names[n] = lua_tostring(L, -2);
    shares[n] = lua_tonumber(L, -1);
    /* insertion into name order */
    int p = n++;
    while (p > 0 && strcmp(names[p - 1], names[p]) > 0) {
      const char *t = names[p];
      double ts = shares[p];
      names[p] = names[p - 1];
      shares[p] = shares[p - 1];
      names[p - 1] = t;
      shares[p - 1] = ts;
      p--;
    }
    lua_pop(L, 1);
  }
  return n;
}

static void check_text(lua_State *L, const char *what, const char *s, size_t len, int max) {
  if (len == 0 || (max && len > (size_t)max) || memchr(s, '\0', len))
    mx__lua_error(L, "merx.experiment: %s must be 1-%d characters of text", what, max);
}

/* The arms as canonical JSON: [["control",0.1],["coupon",0.9]] with shares
 * in their shortest exact form, so the ledger compares definitions as text. */
static char *arms_json(const char *const *names, const double *shares, int n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fputc('[', f);
  for (int i = 0; i < n; i++) {
    fputs(i ? ",[" : "[", f);
    mx__json_escape(f, names[i], strlen(names[i]));
    /* the shortest form that reads back as the same double */
    char num[40];
    for (int digits = 15; digits <= 17; digits++) {
      snprintf(num, sizeof num, "%.*g", digits, shares[i]);
      if (strtod(num, NULL) == shares[i]) break;
    }
    fprintf(f, ",%s]", num);
  }
  fputc(']', f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int same_def(const exp_def *a, const exp_def *b) {
  return strcmp(a->salt, b->salt) == 0 && strcmp(a->arms_json, b->arms_json) == 0 &&
         strcmp(a->control, b->control) == 0 &&
         ((!a->stratify && !b->stratify) ||
          (a->stratify && b->stratify && strcmp(a->stratify, b->stratify) == 0));
}

/* Guarded while a definition is built (any Lua call below may raise). */
typedef struct def_guard {
  exp_def d;
  mx_decision_log *log;
} def_guard;
static void release_def(void *p) {
  def_guard *g = p;
  def_free(&g->d);
  memset(&g->d, 0, sizeof g->d);
  mx__decisions_close(g->log);
  g->log = NULL;
}

static int load_assignment(void *ctx, const mx_assignment_row *r) {
  lua_State *L = ctx;
  lua_pushlstring(L, r->user, r->user_len);
  lua_pushstring(L, r->arm);
  lua_rawset(L, -3);
  return 0;
}

static mx_exp_stage *stage_of(lua_State *L, mx_run *run) {
  if (!run->experiments && !(run->experiments = calloc(1, sizeof *run->experiments)))
    mx__lua_error(L, "merx.experiment: out of memory");
  return run->experiments;
}

static int l_experiment(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  if (!run) return mx__lua_error(L, "merx.experiment: merx is not initialised");
  mx__lua_check_run_active(L, "merx.experiment");
  luaL_checktype(L, 1, LUA_TTABLE);
  mx__lua_check_options(L, 1, "merx.experiment", "name arms salt stratify control");
  size_t len;
  lua_getfield(L, 1, "name");
  if (lua_type(L, -1) != LUA_TSTRING)
    return mx__lua_error(L, "merx.experiment: name (a string) is required");
  const char *name = lua_tolstring(L, -1, &len);
  check_text(L, "name", name, len, NAME_MAX_LEN);
  lua_getfield(L, 1, "salt");
  const char *salt = name;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      return mx__lua_error(L, "merx.experiment '%s': salt must be a string", name);
    salt = lua_tolstring(L, -1, &len);
    if (memchr(salt, '\0', len))
      return mx__lua_error(L, "merx.experiment '%s': salt contains a NUL byte", name);
  }
  const char *stratify = mx__lua_opt_string(L, 1, "stratify", NULL);
  if (stratify && !*stratify)
    return mx__lua_error(L, "merx.experiment '%s': stratify names a field (not empty)", name);
  lua_getfield(L, 1, "arms");
  int arms_idx = lua_gettop(L);
  if (!lua_istable(L, arms_idx))
    return mx__lua_error(L, "merx.experiment '%s': arms (a table of shares) is required", name);
  const char *names[MAX_ARMS];
  double shares[MAX_ARMS];
  int n = read_arms(L, arms_idx, name, names, shares);
  if (n == 0) return mx__lua_error(L, "merx.experiment '%s': no arms", name);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    check_text(L, "an arm's name", names[i], strlen(names[i]), 64);
    for (int j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return mx__lua_error(L, "merx.experiment '%s': arm '%s' is listed twice", name, names[i]);
    if (!(shares[i] >= 0) || !isfinite(shares[i]))
      return mx__lua_error(L, "merx.experiment '%s': arm '%s' has share %g; shares are numbers "
                          ">= 0", name, names[i], shares[i]);
    sum += shares[i];
  }
  if (fabs(sum - 1) > 1e-9)
    return mx__lua_error(L, "merx.experiment '%s': the shares sum to %.17g, not 1", name, sum);
  const char *control = mx__lua_opt_string(L, 1, "control", "control");
  int control_idx = -1;
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], control) == 0) control_idx = i;
  if (control_idx < 0) {
    lua_getfield(L, 1, "control");
    int given = !lua_isnil(L, -1);
    return mx__lua_error(L, given ? "merx.experiment '%s': the control arm '%s' is not one of the "
                                   "arms"
                                 : "merx.experiment '%s': no arm is called '%s': name the "
                                   "control arm (control = NAME)",
                        name, control);
  }

  def_guard *g = mx__lua_guard(L, sizeof *g, release_def);
  g->d.name = mx__strdup(name);
  g->d.salt = mx__strdup(salt);
  g->d.control = mx__strdup(control);
  g->d.stratify = stratify ? mx__strdup(stratify) : NULL;
  g->d.arms_json = arms_json(names, shares, n);
  g->d.arms = calloc((size_t)n, sizeof *g->d.arms);
  g->d.shares = malloc((size_t)n * sizeof *g->d.shares);
  if (!g->d.name || !g->d.salt || !g->d.control || (stratify && !g->d.stratify) ||
      !g->d.arms_json || !g->d.arms || !g->d.shares)
    return mx__lua_error(L, "merx.experiment: out of memory");
  g->d.n = n;
  g->d.control_idx = control_idx;
  for (int i = 0; i < n; i++) {
    g->d.shares[i] = shares[i];
    if (!(g->d.arms[i] = mx__strdup(names[i]))) return mx__lua_error(L, "merx.experiment: out of memory");
  }

  /* one definition per name in a run */
  mx_exp_stage *s = stage_of(L, run);
  int idx = -1;
  for (int i = 0; i < s->n_defs; i++)
    if (strcmp(s->defs[i].name, name) == 0) {
      if (!same_def(&s->defs[i], &g->d))
        return mx__lua_error(L, "merx.experiment '%s': defined twice in this run, with salt '%s' "
                            "and arms %s, then salt '%s' and arms %s", name, s->defs[i].salt,
                            s->defs[i].arms_json, g->d.salt, g->d.arms_json);
      idx = i;
    }

  /* the ledger's definition and, when stratified, its assignments */
  lua_newtable(L); /* user -> arm of this run and of the ledger */
  int assigned = lua_gettop(L);
  if (run->log_path && access(run->log_path, F_OK) == 0) {
    mx_error err;
    mx_error_clear(&err);
    if (mx__decisions_open(run->log_path, 0, &g->log, &err) != MX_OK) return mx__lua_raise(L, &err);
    mx_experiment_def x = store_def(&g->d, "", "");
    int found = 0;
    if (mx__experiments_check(g->log, &x, &found, &err) != MX_OK) return mx__lua_raise(L, &err);
    if (found && stratify &&
        mx__experiments_assignments(g->log, name, load_assignment, L, &err) != MX_OK)
      return mx__lua_raise(L, &err);
    mx__decisions_close(g->log);
    g->log = NULL;
  }
  if (shares[control_idx] == 0 && idx < 0) {
    luaL_where(L, 1);
    fprintf(run->err ? run->err : stderr,
            "%swarning: merx.experiment '%s': the control arm '%s' has share 0: no user is held "
            "out, so no arm can be measured against control\n",
            lua_tostring(L, -1), name, control);
    lua_pop(L, 1);
  }
  if (idx < 0) {
    if (s->n_defs == s->cap_defs) {
      int nc = s->cap_defs ? 2 * s->cap_defs : 4;
      exp_def *nd = realloc(s->defs, (size_t)nc * sizeof *nd);
      if (!nd) return mx__lua_error(L, "merx.experiment: out of memory");
      s->defs = nd;
      s->cap_defs = nc;
    }
    if (s->n_defs >= UINT16_MAX) return mx__lua_error(L, "merx.experiment: too many experiments");
    idx = s->n_defs++;
    s->defs[idx] = g->d;
    memset(&g->d, 0, sizeof g->d); /* the stage owns it now */
  }
  exp_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
  u->def = idx;
  lua_pushvalue(L, assigned);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, MT);
  return 1;
}

/* ---------------------------------------------------------------- methods */

static const exp_def *check_exp(lua_State *L, mx_run **run_out) {
  exp_ud *u = luaL_checkudata(L, 1, MT);
  mx__lua_check_run_active(L, "experiment");
  mx_run *run = mx__lua_run(L);
  if (!run || !run->experiments || u->def >= run->experiments->n_defs)
    mx__lua_error(L, "experiment: belongs to another run");
  *run_out = run;
  return &run->experiments->defs[u->def];
}

/* The stratum argument at idx (or, when none and the record at rec has the
 * stratify field, that field), as text; NULL for an unstratified one. */
static const char *stratum_of(lua_State *L, const exp_def *d, int idx, int rec, size_t *len) {
  if (!d->stratify) {
    if (!lua_isnoneornil(L, idx))
      mx__lua_error(L, "experiment '%s' is not stratified: give no stratum", d->name);
    return NULL;
  }
  if (lua_isnoneornil(L, idx) && rec) {
    lua_getfield(L, rec, d->stratify);
    lua_replace(L, idx);
  }
  if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TNUMBER)
    mx__lua_error(L, "experiment '%s' is stratified by '%s': give the user's stratum%s", d->name,
                 d->stratify, rec ? " (or a record with that field)" : "");
  const char *s = lua_tolstring(L, idx, len);
  if (memchr(s, '\0', *len)) mx__lua_error(L, "experiment '%s': the stratum contains a NUL byte", d->name);
  return s;
}

/* The arm index of user: this run's or the ledger's assignment, else the hash. */
static int arm_of(lua_State *L, const exp_def *d, const char *user, size_t ulen,
                  const char *stratum, size_t slen) {
  if (d->stratify) {
    lua_getiuservalue(L, 1, 1);
    lua_pushlstring(L, user, ulen);
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *a = lua_tostring(L, -1);
      for (int i = 0; i < d->n; i++)
        if (strcmp(d->arms[i], a) == 0) {
          lua_pop(L, 2);
          return i;
        }
    }
    lua_pop(L, 2);
  }
  double u = mx_experiment_unit(d->salt, strlen(d->salt), stratum, slen, user, ulen);
  return mx_experiment_pick(d->shares, d->n, u);
}

/* e:arm(user [, stratum]) -> arm name */
static int l_arm(lua_State *L) {
  mx_run *run;
  const exp_def *d = check_exp(L, &run);
  size_t ulen, slen = 0;
  const char *user = luaL_checklstring(L, 2, &ulen);
  lua_settop(L, 3);
  const char *stratum = stratum_of(L, d, 3, 0, &slen);
  lua_pushstring(L, d->arms[arm_of(L, d, user, ulen, stratum, slen)]);
  return 1;
}

/* The record at rec as one JSON object: user first, reason last, the other
 * keys in byte order (as the plan's files order columns). Pushed as a
 * string. Values: strings, numbers (%.14g, as merx.emit), booleans. */
static int key_rank(const char *k) { return strcmp(k, "user") == 0 ? 0 : strcmp(k, "reason") == 0 ? 2 : 1; }
static void push_record_json(lua_State *L, const exp_def *d, int rec) {
  const char *keys[64];
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, rec)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      mx__lua_error(L, "experiment '%s': record keys must be strings", d->name);
    if (n == 64) mx__lua_error(L, "experiment '%s': more than 64 fields in one record", d->name);
    const char *k = lua_tostring(L, -1);
    int p = n++;
    while (p > 0 && (key_rank(keys[p - 1]) > key_rank(k) ||
                     (key_rank(keys[p - 1]) == key_rank(k) && strcmp(keys[p - 1], k) > 0))) {
      keys[p] = keys[p - 1];
      p--;
    }
    keys[p] = k;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (int i = 0; i < n; i++) {
    if (i) luaL_addchar(&b, ',');
    lua_getfield(L, rec, keys[i]);
    char num[40];
    const char *v = NULL;
    size_t vlen = 0;
    int quoted = 0;
    switch (lua_type(L, -1)) {
      case LUA_TSTRING:
        v = lua_tolstring(L, -1, &vlen);
        quoted = 1;
        break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, -1)) snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -1));
        else if (!isfinite(lua_tonumber(L, -1)))
          mx__lua_error(L, "experiment '%s': field '%s' is not a finite number", d->name, keys[i]);
        else snprintf(num, sizeof num, "%.14g", lua_tonumber(L, -1));
        v = num;
        vlen = strlen(num);
        break;
      case LUA_TBOOLEAN:
        v = lua_toboolean(L, -1) ? "true" : "false";
        vlen = strlen(v);
        break;
      default:
        mx__lua_error(L, "experiment '%s': field '%s' is a %s; records hold strings, numbers and "
                     "booleans", d->name, keys[i], luaL_typename(L, -1));
    }
    /* escape through a memstream: mx__json_escape writes to a FILE */
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) mx__lua_error(L, "experiment: out of memory");
    mx__json_escape(f, keys[i], strlen(keys[i]));
    fputc(':', f);
    if (quoted) mx__json_escape(f, v, vlen);
    else fwrite(v, 1, vlen, f);
    int bad = fclose(f) != 0;
    lua_pop(L, 1);
    if (bad) {
      free(buf);
      mx__lua_error(L, "experiment: out of memory");
    }
    /* luaL_addlstring may raise (memory): copy to a Lua string first */
    lua_pushlstring(L, buf, blen);
    free(buf);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
}

static void put(unsigned char **w, const void *src, size_t n) {
  memcpy(*w, src, n);
  *w += n;
}

/* Stage one assignment + exposure (nothing staged when it raises). */
static void stage(lua_State *L, mx_run *run, int def, int arm, const char *user, size_t ulen,
                  const char *stratum, size_t slen, const char *kind, size_t klen,
                  const char *rec, size_t rlen) {
  mx_exp_stage *s = run->experiments;
  if ((ulen | slen | klen | rlen) > (size_t)INT32_MAX)
    mx__lua_error(L, "experiment: a field over 2 GB");
  size_t bytes = HEADER + ulen + (stratum ? slen : 0) + klen + rlen;
  if (s->len + bytes > s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 4096;
    while (nc < s->len + bytes) nc *= 2;
    if (mx__run_charge(run, nc - s->cap) != 0) {
      run->mem_over = 1;
      mx__lua_error(L, "experiment: memory limit of %zu MB reached while staging exposures "
                   "(--memory)", run->mem_limit >> 20);
    }
    unsigned char *nb = realloc(s->buf, nc);
    if (!nb) {
      mx__run_uncharge(run, nc - s->cap);
      mx__lua_error(L, "experiment: out of memory");
    }
    s->buf = nb;
    s->cap = nc;
  }
  unsigned char *w = s->buf + s->len;
  uint16_t d16 = (uint16_t)def, a16 = (uint16_t)arm;
  uint32_t ul = (uint32_t)ulen, sl = stratum ? (uint32_t)slen : NO_STRATUM, kl = (uint32_t)klen,
           rl = (uint32_t)rlen;
  put(&w, &d16, 2);
  put(&w, &a16, 2);
  put(&w, &ul, 4);
  put(&w, &sl, 4);
  put(&w, &kl, 4);
  put(&w, &rl, 4);
  put(&w, user, ulen);
  if (stratum) put(&w, stratum, slen);
  put(&w, kind, klen);
  put(&w, rec, rlen);
  s->len += bytes;
  s->rows++;
}

/* e:emit / e:expose (kind, record [, stratum]) -> arm */
static int expose(lua_State *L, int deliver) {
  mx_run *run;
  const exp_def *d = check_exp(L, &run);
  int def = ((exp_ud *)lua_touserdata(L, 1))->def;
  size_t klen, ulen, slen = 0, rlen;
  const char *kind = luaL_checklstring(L, 2, &klen);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 4);
  lua_getfield(L, 3, "user");
  if (lua_type(L, -1) != LUA_TSTRING)
    return mx__lua_error(L, "experiment '%s': the record needs a 'user' (a string)", d->name);
  const char *user = lua_tolstring(L, -1, &ulen);
  if (ulen == 0 || memchr(user, '\0', ulen))
    return mx__lua_error(L, "experiment '%s': the record's user must be non-empty text", d->name);
  lua_getfield(L, 3, "reason");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return mx__lua_error(L, "experiment '%s': the '%s' record needs a non-empty 'reason' string "
                        "(why this decision was made)", d->name, kind);
  lua_pop(L, 1);
  const char *stratum = stratum_of(L, d, 4, 3, &slen);
  int arm = arm_of(L, d, user, ulen, stratum, slen);
  push_record_json(L, d, 3);
  const char *rec = lua_tolstring(L, -1, &rlen);
  int delivered = arm != d->control_idx;
  /* the decision first: merx.emit checks the kind and the record, and a
   * rejected record must stage no exposure either */
  if (deliver && delivered) mx__plan_emit(L, run, kind, 3);
  else if (!mx__plan_kind_ok(kind))
    return mx__lua_error(L, "experiment '%s': kind '%s' must be 1-64 letters, digits, '_' or '-'",
                        d->name, kind);
  stage(L, run, def, arm, user, ulen, stratum, slen, kind, klen, rec, rlen);
  if (d->stratify) { /* later calls in this run keep this arm */
    lua_getiuservalue(L, 1, 1);
    lua_pushlstring(L, user, ulen);
    lua_pushstring(L, d->arms[arm]);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_pushstring(L, d->arms[arm]);
  return 1;
}

static int l_emit(lua_State *L) { return expose(L, 1); }
static int l_expose(lua_State *L) { return expose(L, 0); }

static int l_index(lua_State *L) {
  mx_run *run;
  const exp_def *d = check_exp(L, &run);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "arm") == 0) lua_pushcfunction(L, l_arm);
  else if (strcmp(k, "emit") == 0) lua_pushcfunction(L, l_emit);
  else if (strcmp(k, "expose") == 0) lua_pushcfunction(L, l_expose);
  else if (strcmp(k, "name") == 0) lua_pushstring(L, d->name);
  else if (strcmp(k, "salt") == 0) lua_pushstring(L, d->salt);
  else if (strcmp(k, "control") == 0) lua_pushstring(L, d->control);
  else if (strcmp(k, "stratify") == 0) {
    if (d->stratify) lua_pushstring(L, d->stratify);
    else lua_pushnil(L);
  } else if (strcmp(k, "arms") == 0) {
    mx__lua_push_strings(L, (const char *const *)d->arms, (size_t)d->n);
  } else if (strcmp(k, "shares") == 0) {
    mx__lua_push_doubles(L, d->shares, (size_t)d->n);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int l_tostring(lua_State *L) {
  mx_run *run;
  const exp_def *d = check_exp(L, &run);
  lua_pushfstring(L, "merx.experiment %s %s", d->name, d->arms_json);
  return 1;
}

int mx__luaopen_experiment(lua_State *L) {
  if (mx__lua_newmetatable(L, MT)) {
    lua_pushcfunction(L, l_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_experiment);
  return 1;
}

/* ---------------------------------------------------------------- commit */

void mx__exp_stage_print(const mx_exp_stage *s, FILE *f) {
  if (!s) return;
  for (int i = 0; i < s->n_defs; i++) {
    const exp_def *d = &s->defs[i];
    size_t *count = calloc((size_t)d->n, sizeof *count);
    if (!count) return;
    size_t pos = 0, total = 0;
    for (size_t r = 0; r < s->rows; r++) {
      uint16_t def, arm;
      uint32_t l[4];
      memcpy(&def, s->buf + pos, 2);
      memcpy(&arm, s->buf + pos + 2, 2);
      memcpy(l, s->buf + pos + 4, 16);
      pos += HEADER + l[0] + (l[1] == NO_STRATUM ? 0 : l[1]) + l[2] + l[3];
      if (def == i) {
        count[arm]++;
        total++;
      }
    }
    fprintf(f, "experiment %s: %zu exposure%s (", d->name, total, total == 1 ? "" : "s");
    for (int a = 0; a < d->n; a++) fprintf(f, "%s%s %zu", a ? ", " : "", d->arms[a], count[a]);
    fprintf(f, ")\n");
    free(count);
  }
}

int mx__exp_stage_commit(const mx_exp_stage *s, mx_decision_log *log, const mx_commit_info *ci,
                        const char *committed_at, mx_error *err) {
  if (!s || s->n_defs == 0) return MX_OK;
  if (!log)
    return mx_error_set(err, MX_EINVAL, "merx.experiment: the run has exposures to log but no "
                        "ledger (give --store DIR, or leave --log at its default)");
  int rc = MX_OK;
  for (int i = 0; i < s->n_defs && rc == MX_OK; i++) {
    mx_experiment_def x = store_def(&s->defs[i], ci->run_id, ci->time_iso);
    rc = mx__experiments_define(log, &x, err);
  }
  mx_experiment_writer *w = NULL;
  if (rc == MX_OK && s->rows) rc = mx__experiment_writer_open(log, &w, err);
  size_t pos = 0;
  char *stratum = NULL, *kind = NULL;
  for (size_t r = 0; rc == MX_OK && r < s->rows; r++) {
    const unsigned char *p = s->buf + pos;
    uint16_t def, arm;
    uint32_t l[4];
    memcpy(&def, p, 2);
    memcpy(&arm, p + 2, 2);
    memcpy(l, p + 4, 16);
    const char *user = (const char *)p + HEADER;
    const char *sp = user + l[0];
    uint32_t sl = l[1] == NO_STRATUM ? 0 : l[1];
    const char *kp = sp + sl, *rp = kp + l[2];
    pos += HEADER + l[0] + sl + l[2] + l[3];
    /* the stratum and kind are bound as NUL-terminated text */
    free(stratum);
    free(kind);
    stratum = l[1] == NO_STRATUM ? NULL : mx__strndup(sp, sl);
    kind = mx__strndup(kp, l[2]);
    if ((l[1] != NO_STRATUM && !stratum) || !kind) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    const exp_def *d = &s->defs[def];
    mx_assignment_row a = {d->name, user, d->arms[arm], stratum, ci->run_id, ci->time_iso, l[0]};
    mx_exposure_row e = {ci->run_id, d->name, d->arms[arm], user, kind, rp, ci->time_iso,
                         committed_at, arm != d->control_idx, l[0], l[3]};
    if ((rc = mx__experiments_assign(w, &a, err)) == MX_OK) rc = mx__experiments_expose(w, &e, err);
  }
  free(stratum);
  free(kind);
  mx__experiment_writer_close(w);
  return rc;
}
