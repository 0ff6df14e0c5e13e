/* merx.bandit: Thompson-sampling offers (merx/bandit.h) whose posteriors live
 * in the store's ledger (store/bandit.h).
 *
 *   local b = merx.bandit{ name = "spring", offers = {"A", "B"},
 *                          segments = {"new", "loyal"},      -- optional
 *                          prior = {1, 1}, discount = 0.9,   -- optional
 *                          values = { A = 5, B = 3 },        -- optional margins
 *                          seed = 7, kind = "offer" }        -- optional
 *   b:update{ outcomes = { u1 = 1, u2 = 0, ... }, min_age = 1, runs = {...} }  -- nightly
 *   b:update{ rows = {{segment = "new", offer = "A", converted = 1}, ...},
 *             source = "week-12" }                             -- aggregated
 *   local offer, draw = b:choose(user, segment [, record])
 *   local offers = b:choose_all(users [, segments])
 *   for _, a in ipairs(b:arms()) do ... a.segment, a.offer, a.alpha, a.beta, a.mean end
 *
 * State: the object loads the arms from the ledger when it is made; updates
 * change it at once (so choices of the same run use them) and are staged as
 * a ledger write (mx__run_stage_ledger_write) that commits with the run's
 * decisions. The C state is shared by the Lua object and the staged write
 * (reference counted), so it outlives whichever goes first. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/bandit.h"
#include "merx/csv.h"
#include "merx/idmap.h"
#include "store/bandit.h"
#include "store/decisions.h"
#include "util/util.h"

#define BANDIT_MT "merx.bandit"

typedef struct bstate {
  int refs;
  char *name, *kind;
  uint32_t n_offers, n_segments;
  int has_segments;          /* else one segment named "" */
  char **offers, **segments;
  double *alpha, *beta, *value;
  mx_bandit b;
  uint64_t seed;
  long updates;              /* update batches in the ledger when loaded */
  int staged;                /* a ledger write holds a reference */
  size_t n_src, cap_src;     /* update batches staged by this run */
  char **src;
  long *src_decisions, *src_conversions;
} bstate;

typedef struct {
  bstate *s;
} lbandit;

static void bstate_release(void *p) {
  bstate *s = p;
  if (!s || --s->refs > 0) return;
  for (uint32_t i = 0; s->offers && i < s->n_offers; i++) free(s->offers[i]);
  for (uint32_t i = 0; s->segments && i < s->n_segments; i++) free(s->segments[i]);
  for (size_t i = 0; i < s->n_src; i++) free(s->src[i]);
  free(s->offers);
  free(s->segments);
  free(s->src);
  free(s->src_decisions);
  free(s->src_conversions);
  free(s->alpha);
  free(s->beta);
  free(s->value);
  free(s->name);
  free(s->kind);
  free(s);
}

static int bandit_gc(lua_State *L) {
  lbandit *lb = luaL_checkudata(L, 1, BANDIT_MT);
  bstate_release(lb->s);
  lb->s = NULL;
  return 0;
}

static bstate *check_bandit(lua_State *L) {
  lbandit *lb = luaL_checkudata(L, 1, BANDIT_MT);
  mx__lua_check_run_active(L, "bandit");
  if (!lb->s) mx__lua_error(L, "bandit: object already closed");
  return lb->s;
}

static int index_of(char *const *names, uint32_t n, const char *s) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return -1;
}

/* The segment index of the argument at idx (nil only without segments). */
static uint32_t segment_arg(lua_State *L, bstate *s, int idx, const char *fn) {
  if (!s->has_segments) {
    if (!lua_isnoneornil(L, idx))
      mx__lua_error(L, "%s: bandit '%s' has no segments, but a segment was given", fn, s->name);
    return 0;
  }
  const char *seg = lua_tostring(L, idx);
  if (!seg) mx__lua_error(L, "%s: bandit '%s' needs the user's segment", fn, s->name);
  int k = index_of(s->segments, s->n_segments, seg);
  if (k < 0) mx__lua_error(L, "%s: unknown segment '%s' of bandit '%s'", fn, seg, s->name);
  return (uint32_t)k;
}

/* ------------------------------------------------------------- the ledger */

/* A read-only connection to the run's ledger, or NULL when the run has none
 * or it does not exist yet. */
static mx_decision_log *open_ledger(lua_State *L, mx_run *run) {
  if (!run->log_path || access(run->log_path, F_OK) != 0) return NULL;
  mx_decision_log *log;
  mx_error err;
  mx_error_clear(&err);
  if (mx__decisions_open(run->log_path, 0, &log, &err) != MX_OK) mx__lua_raise(L, &err);
  return log;
}

typedef struct {
  bstate *s;
} load_ctx;

static int load_arm(void *ctx, const mx_bandit_arm_row *r) {
  bstate *s = ((load_ctx *)ctx)->s;
  int o = index_of(s->offers, s->n_offers, r->offer);
  int g = s->has_segments ? index_of(s->segments, s->n_segments, r->segment)
                          : (*r->segment ? -1 : 0);
  if (o < 0 || g < 0 || !(r->alpha > 0) || !(r->beta > 0)) return 0; /* not listed now */
  s->alpha[(size_t)g * s->n_offers + (size_t)o] = r->alpha;
  s->beta[(size_t)g * s->n_offers + (size_t)o] = r->beta;
  return 0;
}

/* the staged write: every arm's posterior and the batches behind them */
static int apply_write(void *p, struct mx_decision_log *log, const char *run_id,
                       const char *time_iso, mx_error *err) {
  bstate *s = p;
  size_t n = (size_t)s->n_offers * s->n_segments;
  const char **segs = malloc(n * sizeof *segs), **offs = malloc(n * sizeof *offs);
  if (!segs || !offs) {
    free(segs);
    free(offs);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    segs[i] = s->has_segments ? s->segments[i / s->n_offers] : "";
    offs[i] = s->offers[i % s->n_offers];
  }
  mx_bandit_save sv = {s->name, run_id, time_iso, s->updates, n, segs, offs, s->alpha, s->beta,
                       s->n_src, (const char *const *)s->src, s->src_decisions,
                       s->src_conversions};
  int rc = mx__bandit_store_save(log, &sv, err);
  free(segs);
  free(offs);
  if (rc == MX_OK) {
    /* merx.so may commit again: the ledger now holds these batches */
    s->updates += (long)s->n_src;
    for (size_t i = 0; i < s->n_src; i++) free(s->src[i]);
    s->n_src = 0;
  }
  return rc;
}

static void release_write(void *p) {
  bstate *s = p;
  s->staged = 0;
  bstate_release(s);
}

/* Record one applied batch (source) and make sure the write is staged. */
static void stage_batch(lua_State *L, mx_run *run, bstate *s, const char *source, long decisions,
                        long conversions) {
  if (s->n_src == s->cap_src) {
    size_t nc = s->cap_src ? 2 * s->cap_src : 8;
    char **ns = realloc(s->src, nc * sizeof *ns);
    if (ns) s->src = ns;
    long *nd = ns ? realloc(s->src_decisions, nc * sizeof *nd) : NULL;
    if (nd) s->src_decisions = nd;
    long *nv = nd ? realloc(s->src_conversions, nc * sizeof *nv) : NULL;
    if (nv) s->src_conversions = nv;
    if (!nv) mx__lua_error(L, "bandit update: out of memory");
    s->cap_src = nc;
  }
  char *c = mx__strdup(source);
  if (!c) mx__lua_error(L, "bandit update: out of memory");
  s->src[s->n_src] = c;
  s->src_decisions[s->n_src] = decisions;
  s->src_conversions[s->n_src] = conversions;
  s->n_src++;
  /* Under --shard every shard computes the same update from the same ledger
   * (so all choose from the same posteriors) but only shard 0 writes it:
   * the others would find the outcomes applied and fail their commit. */
  if (run->shard_count > 1 && run->shard_index != 0) return;
  if (!s->staged) {
    s->refs++;
    if (mx__run_stage_ledger_write(run, apply_write, release_write, s) != 0) {
      s->refs--;
      mx__lua_error(L, "bandit update: out of memory");
    }
    s->staged = 1;
  }
}

/* ------------------------------------------------------------ merx.bandit */

static char *dup_or_raise(lua_State *L, const char *v) {
  char *c = mx__strdup(v);
  if (!c) mx__lua_error(L, "merx.bandit: out of memory");
  return c;
}

/* The names of list field `field` of the options at 1, copied into *out
 * with *count kept current, so the object frees what an error leaves. */
static void name_list(lua_State *L, const char *field, char ***out, uint32_t *count) {
  lua_getfield(L, 1, field);
  if (!lua_istable(L, -1))
    mx__lua_error(L, "merx.bandit: '%s' must be a list of names", field);
  size_t n = 0;
  const char **v = mx__lua_check_strings(L, -1, &n);
  if (n == 0) mx__lua_error(L, "merx.bandit: '%s' is empty", field);
  if (n > 100000) mx__lua_error(L, "merx.bandit: %zu %s (at most 100000)", n, field);
  *out = calloc(n, sizeof **out);
  if (!*out) mx__lua_error(L, "merx.bandit: out of memory");
  for (size_t i = 0; i < n; i++) {
    if (index_of(*out, *count, v[i]) >= 0)
      mx__lua_error(L, "merx.bandit: '%s' lists '%s' twice", field, v[i]);
    (*out)[i] = dup_or_raise(L, v[i]);
    (*count)++;
  }
  lua_pop(L, 2);
}

static int l_bandit(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  mx__lua_check_run_active(L, "merx.bandit");
  luaL_checktype(L, 1, LUA_TTABLE);
  mx__lua_check_options(L, 1, "merx.bandit",
                       "name offers segments prior discount values seed kind");
  const char *name = mx__lua_opt_string(L, 1, "name", NULL);
  if (!name || !*name) mx__lua_error(L, "merx.bandit: 'name' is required (it keys the state)");
  const char *kind = mx__lua_opt_string(L, 1, "kind", "offer");
  double discount = mx__lua_opt_number(L, 1, "discount", 1.0);
  lbandit *lb = lua_newuserdatauv(L, sizeof *lb, 0);
  lb->s = NULL;
  luaL_setmetatable(L, BANDIT_MT);
  int obj = lua_gettop(L);
  bstate *s = calloc(1, sizeof *s);
  if (!s) return mx__lua_error(L, "merx.bandit: out of memory");
  s->refs = 1;
  lb->s = s; /* from here the object frees whatever a later error leaves */
  s->name = dup_or_raise(L, name);
  s->kind = dup_or_raise(L, kind);
  name_list(L, "offers", &s->offers, &s->n_offers);
  lua_getfield(L, 1, "segments");
  s->has_segments = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (s->has_segments) name_list(L, "segments", &s->segments, &s->n_segments);
  else s->n_segments = 1;
  double pa = 1, pb = 1;
  lua_getfield(L, 1, "prior");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1) || lua_rawlen(L, -1) != 2)
      mx__lua_error(L, "merx.bandit: 'prior' must be {alpha, beta}");
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1))
      mx__lua_error(L, "merx.bandit: 'prior' must be two numbers {alpha, beta}");
    pa = lua_tonumber(L, -2);
    pb = lua_tonumber(L, -1);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  size_t n = (size_t)s->n_offers * s->n_segments;
  s->alpha = malloc(n * sizeof *s->alpha);
  s->beta = malloc(n * sizeof *s->beta);
  if (!s->alpha || !s->beta) return mx__lua_error(L, "merx.bandit: out of memory");
  lua_getfield(L, 1, "values");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) mx__lua_error(L, "merx.bandit: 'values' must be a map offer -> margin");
    s->value = malloc(s->n_offers * sizeof *s->value);
    if (!s->value) return mx__lua_error(L, "merx.bandit: out of memory");
    for (uint32_t o = 0; o < s->n_offers; o++) {
      lua_getfield(L, -1, s->offers[o]);
      if (!lua_isnumber(L, -1))
        mx__lua_error(L, "merx.bandit: values['%s'] must be a number > 0", s->offers[o]);
      s->value[o] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      if (!k || index_of(s->offers, s->n_offers, k) < 0)
        mx__lua_error(L, "merx.bandit: values has a key that is not an offer ('%s')",
                     k ? k : luaL_typename(L, -2));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  s->b = (mx_bandit){s->n_offers, s->n_segments, pa, pb, discount, s->alpha, s->beta, s->value};
  mx_bandit_reset(&s->b);
  mx_error err;
  mx_error_clear(&err);
  if (mx_bandit_check(&s->b, &err) != MX_OK) return mx__lua_raise(L, &err);
  /* the default seed changes every run (merx.now()), so a user's draw is
   * fresh each night yet reproducible with --now; `seed` pins it */
  uint64_t seed = (uint64_t)run->now;
  lua_getfield(L, 1, "seed");
  if (!lua_isnil(L, -1)) {
    if (!lua_isinteger(L, -1)) mx__lua_error(L, "merx.bandit: 'seed' must be an integer");
    seed = (uint64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  s->seed = mx_hash64(s->name, strlen(s->name), seed);
  mx_decision_log *log = open_ledger(L, run);
  if (log) {
    load_ctx lc = {s};
    int rc = mx__bandit_store_arms(log, s->name, load_arm, &lc, &s->updates, &err);
    mx__decisions_close(log);
    if (rc != MX_OK) return mx__lua_raise(L, &err);
  }
  lua_settop(L, obj);
  return 1;
}

/* --------------------------------------------------------------- choices */

static void emit_choice(lua_State *L, mx_run *run, bstate *s, int user_idx, uint32_t g,
                        uint32_t o, double draw, int extra_idx) {
  lua_createtable(L, 0, 8);
  int rec = lua_gettop(L);
  if (extra_idx) {
    lua_pushnil(L);
    while (lua_next(L, extra_idx)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      if (k && (!strcmp(k, "user") || !strcmp(k, "offer") || !strcmp(k, "segment") ||
                !strcmp(k, "bandit") || !strcmp(k, "draw")))
        mx__lua_error(L, "bandit:choose: the record may not set '%s' (the bandit does)", k);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, rec);
    }
  }
  lua_pushvalue(L, user_idx);
  lua_setfield(L, rec, "user");
  lua_pushstring(L, s->offers[o]);
  lua_setfield(L, rec, "offer");
  if (s->has_segments) {
    lua_pushstring(L, s->segments[g]);
    lua_setfield(L, rec, "segment");
  }
  lua_pushstring(L, s->name);
  lua_setfield(L, rec, "bandit");
  lua_pushnumber(L, draw);
  lua_setfield(L, rec, "draw");
  lua_getfield(L, rec, "reason");
  int has_reason = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!has_reason) {
    size_t a = (size_t)g * s->n_offers + o;
    lua_pushfstring(L, "thompson sampling: draw %f, the best of %d offers (Beta(%f, %f))", draw,
                    (int)s->n_offers, s->alpha[a], s->beta[a]);
    lua_setfield(L, rec, "reason");
  }
  mx__plan_emit(L, run, s->kind, rec);
  lua_settop(L, rec - 1);
}

static uint64_t user_seed(const bstate *s, lua_State *L, int idx) {
  size_t len;
  const char *u = lua_tolstring(L, idx, &len);
  return mx_hash64(u, len, s->seed);
}

/* b:choose(user, segment [, record]) -> offer, draw (stages the decision) */
static int b_choose(lua_State *L) {
  bstate *s = check_bandit(L);
  mx_run *run = mx__lua_run(L);
  if (lua_type(L, 2) != LUA_TSTRING && lua_type(L, 2) != LUA_TNUMBER)
    return mx__lua_error(L, "bandit:choose: the user id must be a string");
  lua_settop(L, 4);
  uint32_t g = segment_arg(L, s, 3, "bandit:choose");
  int extra = 0;
  if (!lua_isnil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    extra = 4;
  }
  lua_tostring(L, 2); /* numbers become their string form, as in records */
  double draw;
  uint32_t o = mx_bandit_choose(&s->b, g, user_seed(s, L, 2), &draw);
  emit_choice(L, run, s, 2, g, o, draw, extra);
  lua_pushstring(L, s->offers[o]);
  lua_pushnumber(L, draw);
  return 2;
}

/* b:choose_all(users [, segments]) -> offers (a list like users; staged) */
static int b_choose_all(lua_State *L) {
  bstate *s = check_bandit(L);
  mx_run *run = mx__lua_run(L);
  lua_settop(L, 3);
  size_t n, ns = 0;
  mx__lua_check_strings(L, 2, &n); /* type checks only; users stay in the table */
  if (s->has_segments) {
    if (!lua_istable(L, 3))
      return mx__lua_error(L, "bandit:choose_all: bandit '%s' needs a list of segments",
                          s->name);
    mx__lua_check_strings(L, 3, &ns);
    if (ns != n)
      return mx__lua_error(L, "bandit:choose_all: %zu users but %zu segments", n, ns);
  } else if (!lua_isnil(L, 3)) {
    return mx__lua_error(L, "bandit:choose_all: bandit '%s' has no segments", s->name);
  }
  lua_settop(L, 3);
  lua_createtable(L, (int)(n < 1u << 26 ? n : 0), 0);
  int out = lua_gettop(L);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 2, (lua_Integer)i + 1);
    lua_tostring(L, -1);
    int u = lua_gettop(L);
    uint32_t g = 0;
    if (s->has_segments) {
      lua_rawgeti(L, 3, (lua_Integer)i + 1);
      g = segment_arg(L, s, -1, "bandit:choose_all");
      lua_pop(L, 1);
    }
    double draw;
    uint32_t o = mx_bandit_choose(&s->b, g, user_seed(s, L, u), &draw);
    emit_choice(L, run, s, u, g, o, draw, 0);
    lua_pushstring(L, s->offers[o]);
    lua_rawseti(L, out, (lua_Integer)i + 1);
    lua_settop(L, out);
    if ((i & 1023) == 1023 && mx__run_poll(L, run)) mx__lua_check_stop(L);
  }
  return 1;
}

/* ---------------------------------------------------------------- updates */

/* counts of one batch under construction */
typedef struct {
  double *succ, *fail;
  long decisions, conversions;
} batch;

static void batch_clear(bstate *s, batch *bt) {
  memset(bt->succ, 0, (size_t)s->n_offers * s->n_segments * sizeof *bt->succ);
  memset(bt->fail, 0, (size_t)s->n_offers * s->n_segments * sizeof *bt->fail);
  bt->decisions = bt->conversions = 0;
}

static void batch_apply(lua_State *L, mx_run *run, bstate *s, batch *bt, const char *source) {
  mx_error err;
  mx_error_clear(&err);
  if (mx_bandit_update(&s->b, bt->succ, bt->fail, &err) != MX_OK) mx__lua_raise(L, &err);
  stage_batch(L, run, s, source, bt->decisions, bt->conversions);
}

/* converted value at the top of the stack: 0/1, false/true, nil (= 0) */
static int converted_value(lua_State *L, const char *what) {
  if (lua_isnil(L, -1)) return 0;
  if (lua_isboolean(L, -1)) return lua_toboolean(L, -1);
  if (lua_isnumber(L, -1)) {
    double v = lua_tonumber(L, -1);
    if (v == 0 || v == 1) return v == 1;
  }
  return mx__lua_error(L, "bandit:update: %s must be 0/1 or a boolean, got %s", what,
                      luaL_tolstring(L, -1, NULL));
}

/* The nightly join, gathered in C while the ledger is open (nothing there
 * may raise a Lua error, which would leak the connection) and applied after:
 * one batch per run whose decisions were scored, in the order of the runs. */
typedef struct {
  char *run_id;
  double *succ, *fail;
  long decisions, conversions;
} jbatch;
typedef struct {
  const bstate *s;
  mx_idmap *converted; /* users with a conversion */
  mx_idmap *runs;      /* the runs to score; NULL: every pending run */
  jbatch *b;
  size_t n, cap;
  long ignored; /* decisions of arms the bandit no longer lists */
  int oom;
} join_state;

static void join_release(void *p) {
  join_state *j = p;
  for (size_t i = 0; i < j->n; i++) {
    free(j->b[i].run_id);
    free(j->b[i].succ);
    free(j->b[i].fail);
  }
  free(j->b);
  mx_idmap_free(j->converted);
  mx_idmap_free(j->runs);
}

static int join_decision(void *p, const char *run_id, const char *user, const char *segment,
                         const char *offer) {
  join_state *j = p;
  const bstate *s = j->s;
  size_t cells = (size_t)s->n_offers * s->n_segments;
  if (j->runs && mx_idmap_find(j->runs, run_id, strlen(run_id)) < 0) return 0;
  if (j->n == 0 || strcmp(j->b[j->n - 1].run_id, run_id) != 0) {
    if (j->n == j->cap) {
      size_t nc = j->cap ? 2 * j->cap : 8;
      jbatch *nb = realloc(j->b, nc * sizeof *nb);
      if (!nb) return j->oom = 1;
      j->b = nb;
      j->cap = nc;
    }
    jbatch *b = &j->b[j->n];
    *b = (jbatch){mx__strdup(run_id), calloc(cells, sizeof(double)),
                  calloc(cells, sizeof(double)), 0, 0};
    j->n++;
    if (!b->run_id || !b->succ || !b->fail) return j->oom = 1;
  }
  jbatch *b = &j->b[j->n - 1];
  int o = index_of(s->offers, s->n_offers, offer);
  int g = s->has_segments ? index_of(s->segments, s->n_segments, segment) : 0;
  if (o < 0 || g < 0) {
    j->ignored++;
    return 0;
  }
  int conv = mx_idmap_find(j->converted, user, strlen(user)) >= 0;
  size_t a = (size_t)g * s->n_offers + (size_t)o;
  if (conv) b->succ[a] += 1;
  else b->fail[a] += 1;
  b->decisions++;
  b->conversions += conv;
  return 0;
}

/* b:update{ outcomes = {user = converted}, min_age = DAYS, runs = {RUN_ID...} } or
 * b:update{ rows = {{segment =, offer =, converted =}, ...}, source = LABEL }
 * -> { batches, decisions, conversions, ignored } */
static int b_update(lua_State *L) {
  bstate *s = check_bandit(L);
  mx_run *run = mx__lua_run(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  mx__lua_check_options(L, 2, "bandit:update", "outcomes min_age runs rows source");
  lua_settop(L, 2);
  if (!run->log_path)
    return mx__lua_error(L, "bandit:update: the bandit's state lives in the store: give --store "
                           "DIR or set MERX_STORE");
  lua_getfield(L, 2, "outcomes");
  lua_getfield(L, 2, "rows");
  int has_outcomes = !lua_isnil(L, 3), has_rows = !lua_isnil(L, 4);
  if (has_outcomes == has_rows)
    return mx__lua_error(L, "bandit:update: give either outcomes (joined to the bandit's logged "
                           "decisions) or rows");
  size_t n = (size_t)s->n_offers * s->n_segments;
  batch bt = {mx__lua_scratch(L, n * sizeof(double)), mx__lua_scratch(L, n * sizeof(double)), 0, 0};
  batch_clear(s, &bt);
  long batches0 = (long)s->n_src, decisions = 0, conversions = 0, ignored = 0;
  if (has_rows) {
    const char *source = mx__lua_opt_string(L, 2, "source", NULL);
    if (!source || !*source)
      return mx__lua_error(L, "bandit:update: rows need a 'source' naming their outcome window "
                             "(it is logged so the same rows are never applied twice)");
    lua_getfield(L, 2, "min_age");
    lua_getfield(L, 2, "runs");
    if (!lua_isnil(L, -1) || !lua_isnil(L, -2))
      return mx__lua_error(L, "bandit:update: min_age and runs apply to outcomes, not rows");
    lua_settop(L, 6);
    int applied = 0;
    for (size_t i = 0; i < s->n_src && !applied; i++) applied = !strcmp(s->src[i], source);
    mx_decision_log *log = applied ? NULL : open_ledger(L, run);
    if (log) {
      mx_error err;
      mx_error_clear(&err);
      int rc = mx__bandit_store_applied(log, s->name, source, &applied, &err);
      mx__decisions_close(log);
      if (rc != MX_OK) return mx__lua_raise(L, &err);
    }
    if (applied)
      return mx__lua_error(L, "bandit:update: the outcomes of '%s' were already applied to "
                             "bandit '%s'",
                          source, s->name);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_Integer nr = (lua_Integer)lua_rawlen(L, 4);
    for (lua_Integer i = 1; i <= nr; i++) {
      if (lua_rawgeti(L, 4, i) != LUA_TTABLE)
        return mx__lua_error(L, "bandit:update: rows[%lld] is not a table", (long long)i);
      int r = lua_gettop(L);
      mx__lua_check_options(L, r, "bandit:update rows", "segment offer converted");
      lua_getfield(L, r, "offer");
      const char *offer = lua_tostring(L, -1);
      int o = offer ? index_of(s->offers, s->n_offers, offer) : -1;
      if (o < 0)
        return mx__lua_error(L, "bandit:update: rows[%lld]: unknown offer '%s'", (long long)i,
                            offer ? offer : "(none)");
      lua_getfield(L, r, "segment");
      uint32_t g = segment_arg(L, s, -1, "bandit:update");
      lua_getfield(L, r, "converted");
      char what[64];
      snprintf(what, sizeof what, "rows[%lld].converted", (long long)i);
      if (lua_isnil(L, -1)) return mx__lua_error(L, "bandit:update: %s is missing", what);
      int conv = converted_value(L, what);
      size_t a = (size_t)g * s->n_offers + (size_t)o;
      if (conv) bt.succ[a] += 1;
      else bt.fail[a] += 1;
      bt.decisions++;
      bt.conversions += conv;
      lua_settop(L, 6);
    }
    batch_apply(L, run, s, &bt, source);
    decisions = bt.decisions;
    conversions = bt.conversions;
  } else {
    if (!lua_istable(L, 3))
      return mx__lua_error(L, "bandit:update: outcomes must be a map user -> converted");
    lua_getfield(L, 2, "source");
    if (!lua_isnil(L, -1))
      return mx__lua_error(L, "bandit:update: source applies to rows; outcomes are logged by "
                             "the run that made the decisions");
    double min_age = mx__lua_opt_number(L, 2, "min_age", 0);
    if (!(min_age >= 0)) return mx__lua_error(L, "bandit:update: min_age must be >= 0 days");
    lua_settop(L, 6);
    lua_getfield(L, 2, "runs"); /* 7 */
    char before[32];
    mx_format_time(run->now - (int64_t)(min_age * 86400.0), 0, before, sizeof before);
    if (min_age == 0) mx_format_time(run->now, 0, before, sizeof before);
    join_state *j = mx__lua_guard(L, sizeof *j, join_release);
    j->s = s;
    if (!(j->converted = mx_idmap_create())) return mx__lua_error(L, "bandit:update: out of memory");
    if (!lua_isnil(L, 7)) {
      if (!lua_istable(L, 7)) return mx__lua_error(L, "bandit:update: runs must be a list of run ids");
      size_t nr;
      const char **r = mx__lua_check_strings(L, 7, &nr);
      if (!(j->runs = mx_idmap_create())) return mx__lua_error(L, "bandit:update: out of memory");
      for (size_t i = 0; i < nr; i++)
        if (mx_idmap_intern(j->runs, r[i], strlen(r[i])) < 0)
          return mx__lua_error(L, "bandit:update: out of memory");
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      int kt = lua_type(L, -2);
      if (kt != LUA_TSTRING && kt != LUA_TNUMBER)
        return mx__lua_error(L, "bandit:update: outcomes are keyed by user id, got a %s key",
                            luaL_typename(L, -2));
      lua_pushvalue(L, -2);
      size_t len;
      const char *u = lua_tolstring(L, -1, &len); /* a copy: next() needs the key as it is */
      lua_pushvalue(L, -2);
      char what[160];
      snprintf(what, sizeof what, "outcomes['%.100s']", u);
      if (converted_value(L, what) && mx_idmap_intern(j->converted, u, len) < 0)
        return mx__lua_error(L, "bandit:update: out of memory");
      lua_pop(L, 3);
    }
    mx_decision_log *log = open_ledger(L, run);
    if (log) {
      mx_error err;
      mx_error_clear(&err);
      int rc = mx__bandit_store_pending(log, s->name, s->kind, before, join_decision, j, &err);
      mx__decisions_close(log);
      if (rc != MX_OK) return mx__lua_raise(L, &err);
      if (j->oom) return mx__lua_error(L, "bandit:update: out of memory");
    }
    for (size_t i = 0; i < j->n; i++) {
      batch jb = {j->b[i].succ, j->b[i].fail, j->b[i].decisions, j->b[i].conversions};
      batch_apply(L, run, s, &jb, j->b[i].run_id);
      decisions += jb.decisions;
      conversions += jb.conversions;
    }
    ignored = j->ignored;
    mx__lua_guard_release(j);
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)s->n_src - batches0);
  lua_setfield(L, -2, "batches");
  lua_pushinteger(L, decisions);
  lua_setfield(L, -2, "decisions");
  lua_pushinteger(L, conversions);
  lua_setfield(L, -2, "conversions");
  lua_pushinteger(L, ignored);
  lua_setfield(L, -2, "ignored");
  return 1;
}

/* b:arms() -> {{segment, offer, alpha, beta, mean}, ...} by segment, offer */
static int b_arms(lua_State *L) {
  bstate *s = check_bandit(L);
  size_t n = (size_t)s->n_offers * s->n_segments;
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    if (s->has_segments) {
      lua_pushstring(L, s->segments[i / s->n_offers]);
      lua_setfield(L, -2, "segment");
    }
    lua_pushstring(L, s->offers[i % s->n_offers]);
    lua_setfield(L, -2, "offer");
    lua_pushnumber(L, s->alpha[i]);
    lua_setfield(L, -2, "alpha");
    lua_pushnumber(L, s->beta[i]);
    lua_setfield(L, -2, "beta");
    lua_pushnumber(L, s->alpha[i] / (s->alpha[i] + s->beta[i]));
    lua_setfield(L, -2, "mean");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static const luaL_Reg bandit_methods[] = {{"choose", b_choose},
                                          {"choose_all", b_choose_all},
                                          {"update", b_update},
                                          {"arms", b_arms},
                                          {NULL, NULL}};

int mx__luaopen_bandit(lua_State *L) {
  if (mx__lua_newmetatable(L, BANDIT_MT)) {
    luaL_newlib(L, bandit_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, bandit_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_bandit);
  return 1;
}
