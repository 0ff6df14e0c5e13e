/* merx.model: embedding models in scripts.
 *
 *   local m <close> = merx.model.load("shop.mxm")      -- or merx.model.train{...}
 *   local items, scores = m:recommend(users, 10, { exclude_seen = true, candidates = ids })
 *   local mat = m:score(users, items)                  -- matrix userdata (one sgemm)
 *   local sim, s = m:similar(items, 5)
 *   m:load_index("shop.mxm.hnsw")                      -- HNSW: similar() answers from it
 *   local rec, s = m:fold_in({ "A", "B" }, { k = 10 }) -- a new user from their items
 *   local why = m:explain(users, items, 3)             -- contributing training items
 *
 * Models and matrices are userdata with __gc and __close; their methods
 * refuse to work after close or after the run that created them ended. All
 * calls are bulk: arrays of string ids in, arrays out, one C call each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/ann.h"
#include "merx/model.h"
#include "merx/score.h"
#include "util/pseudonym.h"

#define MODEL_MT "merx.model"
#define MATRIX_MT "merx.matrix"

typedef struct lmodel {
  mx_model *m;
  mx_ann *ann[2];  /* nearest-neighbour indexes of the item [0] and user [1] vectors */
  size_t charged; /* bytes of the model counted against the run's --memory */
} lmodel;

typedef struct lmatrix {
  float *v;
  uint32_t rows, cols;
} lmatrix;

static mx_model *check_model(lua_State *L) {
  lmodel *lm = luaL_checkudata(L, 1, MODEL_MT);
  mx__lua_check_run_active(L, "model");
  if (!lm->m) mx__lua_error(L, "model is closed");
  return lm->m;
}

static int model_gc(lua_State *L) {
  lmodel *lm = luaL_checkudata(L, 1, MODEL_MT);
  mx_ann_free(lm->ann[0]);
  mx_ann_free(lm->ann[1]);
  lm->ann[0] = lm->ann[1] = NULL;
  mx_model_free(lm->m);
  lm->m = NULL;
  mx_run *run = mx__lua_run(L);
  if (run && lm->charged) mx__run_uncharge(run, lm->charged);
  lm->charged = 0;
  return 0;
}

/* Pushes an empty model userdata: created before the model it will own, so
 * a failed allocation in Lua (which raises) cannot leak the model. */
static lmodel *push_model(lua_State *L) {
  lmodel *lm = lua_newuserdatauv(L, sizeof *lm, 0);
  lm->m = NULL;
  lm->ann[0] = lm->ann[1] = NULL;
  lm->charged = 0;
  luaL_setmetatable(L, MODEL_MT);
  return lm;
}

/* A top-K result held while its Lua lists are built belongs to a guard
 * (mx__lua_guard), for the same reason: a Lua error frees it. */
static void topk_release(void *slot) {
  mx_topk_result **r = slot;
  mx_topk_result_free(*r);
  *r = NULL;
}

static mx_topk_result **push_topk(lua_State *L) {
  return mx__lua_guard(L, sizeof(mx_topk_result *), topk_release);
}

/* merx.model.load(path) -> model */
/* The run's store key (merx run --store with store.key, or MERX_STORE_KEY),
 * or NULL. */
static const mx_hmac_key *run_key(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  return run && run->pseudo ? mx__pseudonymiser_key(run->pseudo) : NULL;
}

static int l_load(lua_State *L) {
  mx__lua_check_run_active(L, "merx.model");
  lua_settop(L, 1);
  const char *path = mx__lua_path(L, 1, 0);
  lmodel *lm = push_model(L);
  mx_model *m;
  mx_error err;
  mx_error_clear(&err);
  if (mx_model_load(path, &m, &err) != MX_OK) return mx__lua_raise(L, &err);
  lm->m = m;
  /* a model of another key's pseudonyms would find nobody: refuse now (a
   * run without a key may still pass pseudonyms; see map_users) */
  const mx_hmac_key *key = run_key(L);
  if (m->pseudonym_key && key && mx__pseudonym_key_match(m->pseudonym_key, key, path, &err) != MX_OK)
    return mx__lua_raise(L, &err);
  return 1;
}

typedef struct train_ctx {
  mx_run *run;
} train_ctx;

/* Between epochs: honour the run's deadline, memory limit and signals. */
static int on_epoch(void *ctx, const mx_epoch_report *r) {
  (void)r;
  train_ctx *t = ctx;
  if (!t->run || !t->run->sandboxed) return 0;
  if (t->run->mem_over || t->run->stopped) return 1;
  if (t->run->deadline > 0 && mx__now_seconds() > t->run->deadline) return 1;
  return 0;
}

/* Weights of the frame's event column (option event_weights: a table
 * {view = 1, ...} or the CLI's string "view=1,cart=4,purchase=10"; the
 * defaults without one), parsed and looked up as --event-weights does: each
 * row's value becomes weight[event] x value (1 without a value column).
 * Returns the values (a buffer pushed on the stack when there were none), or
 * values unchanged when the frame has no event column. */
static float *event_values(lua_State *L, const char *ecol, size_t n, float *values) {
  mx_ingest_options eo = mx_ingest_defaults();
  mx_error err;
  mx_error_clear(&err);
  int given = 0;
  int t = LUA_TNIL;
  if (lua_istable(L, 2)) t = lua_getfield(L, 2, "event_weights");
  else lua_pushnil(L);
  if (t == LUA_TSTRING) {
    if (mx_ingest_parse_event_weights(&eo, lua_tostring(L, -1), &err) != MX_OK)
      mx__lua_error(L, "merx.model.train: event_weights: %s", err.message);
    given = 1;
  } else if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TNUMBER)
        mx__lua_error(L, "merx.model.train: event_weights must map event names to numbers");
      size_t len;
      const char *name = lua_tolstring(L, -2, &len);
      if (mx_ingest_add_event_weight(&eo, name, len, lua_tonumber(L, -1), &err) != MX_OK)
        mx__lua_error(L, "merx.model.train: event_weights: %s", err.message);
      lua_pop(L, 1);
    }
    given = 1;
  } else if (t != LUA_TNIL) {
    mx__lua_error(L, "merx.model.train: option 'event_weights' must be a table or a string, got %s",
                 luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, ecol) != LUA_TTABLE) {
    if (given)
      mx__lua_error(L, "merx.model.train: event_weights given but the frame has no '%s' column", ecol);
    lua_pop(L, 1);
    return values;
  }
  size_t ne;
  const char **events = mx__lua_check_strings(L, -1, &ne);
  if (ne != n) mx__lua_error(L, "merx.model.train: columns differ in length");
  if (!given) mx_ingest_parse_event_weights(&eo, MX_EVENT_WEIGHTS_DEFAULT, NULL);
  if (!values) {
    values = mx__lua_scratch(L, (n ? n : 1) * sizeof *values);
    for (size_t i = 0; i < n; i++) values[i] = 1.0f;
  }
  for (size_t i = 0; i < n; i++) {
    float w;
    if (mx_ingest_event_weight(&eo, events[i], &w, &err) != MX_OK)
      mx__lua_error(L, "merx.model.train: row %zu of column '%s': %s", i + 1, ecol, err.message);
    values[i] *= w;
  }
  return values;
}

/* A timestamp (ISO 8601 string or Unix seconds) at the top of the stack;
 * what names it in an error ("option 'now'", "row 3 of column 'time'"). */
static int64_t lua_time(lua_State *L, const char *what) {
  int64_t t;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    double v = lua_tonumber(L, -1);
    if (!isfinite(v) || v < -1e13 || v > 1e13)
      mx__lua_error(L, "merx.model.train: %s: not a timestamp (%g)", what, v);
    return (int64_t)floor(v);
  }
  if (lua_type(L, -1) != LUA_TSTRING || mx_parse_time(lua_tostring(L, -1), &t) != MX_OK)
    mx__lua_error(L, "merx.model.train: %s: not a timestamp (ISO 8601 date/datetime or epoch "
                 "seconds): '%.64s'", what, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                 : luaL_typename(L, -1));
  return t;
}

/* Recency options (half_life, now, recent_popular, recent_popular_users) into
 * o, and the frame's time column when they need it (a buffer pushed on the
 * stack), else NULL. */
static int64_t *recency_times(lua_State *L, const char *tcol, size_t n, mx_train_options *o) {
  o->half_life_days = mx__lua_opt_number(L, 2, "half_life", 0);
  o->recent_popular_days = mx__lua_opt_number(L, 2, "recent_popular", 0);
  o->recent_popular_users = mx__lua_opt_number(L, 2, "recent_popular_users", o->recent_popular_users);
  if (lua_getfield(L, 2, "now") != LUA_TNIL) {
    o->now_seconds = lua_time(L, "option 'now'");
    o->now_set = 1;
  }
  lua_pop(L, 1);
  if (o->half_life_days == 0 && o->recent_popular_days == 0) return NULL;
  if (lua_getfield(L, 1, tcol) != LUA_TTABLE)
    mx__lua_error(L, "merx.model.train: half_life and recent_popular need event times: the frame "
                 "has no '%s' column", tcol);
  if (luaL_len(L, -1) != (lua_Integer)n) mx__lua_error(L, "merx.model.train: columns differ in length");
  int64_t *times = mx__lua_scratch(L, (n ? n : 1) * sizeof *times);
  int col = lua_gettop(L) - 1;
  char what[96];
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, col, (lua_Integer)i + 1);
    snprintf(what, sizeof what, "row %zu of column '%.40s'", i + 1, tcol);
    times[i] = lua_time(L, what);
    lua_pop(L, 1);
  }
  return times;
}

/* Memory training needs, from the dimensions (bytes): *model is what the
 * trained model keeps (factors and biases, EASE's items x items weights,
 * the seen-items CSR); the return value adds what training holds on top
 * (the dataset's two CSRs and id maps, per-thread ALS solver buffers, BPMF's
 * running samples). Estimates, close to the allocations. */
static double train_bytes(const mx_dataset *d, const mx_train_options *o, double *model) {
  double nu = mx_dataset_users(d), ni = mx_dataset_items(d), nnz = (double)mx_dataset_nnz(d);
  double k = o->factors, f = 4, threads = mx__threads_resolve(o->threads);
  double seen = nnz * 8 + (nu + 1) * 8;
  double dataset = 2 * nnz * 8 + (nu + ni + 2) * 8 + (nu + ni) * 64;
  double params, work = 0;
  switch (o->algo) {
  case MX_MODEL_EASE: params = ni * ni * f + ni * f; break;
  case MX_MODEL_BPMF: {
    double kept = o->samples > 0 ? o->samples : 1;
    params = (nu + ni) * k * kept * f + (nu + ni) * f;
    work = 2 * (nu + ni) * k * f + threads * k * k * 8;
    break;
  }
  case MX_MODEL_ALS:
  case MX_MODEL_IALS:
    params = (nu + ni) * (k + 1) * f;
    work = threads * (3 * k * k + 4 * k) * f + k * k * f;
    break;
  default: params = (nu + ni) * (k + 1) * f; break;
  }
  *model = params + seen;
  return *model + dataset + work;
}

/* "EASE on 6000 items", "ials on 20000 users x 20000 items with 1024 factors" */
static void describe_training(const mx_dataset *d, const mx_train_options *o, char *buf,
                              size_t size) {
  if (o->algo == MX_MODEL_EASE)
    snprintf(buf, size, "EASE on %u items", mx_dataset_items(d));
  else
    snprintf(buf, size, "%s on %u users x %u items with %u factors", mx_model_kind_name(o->algo),
             mx_dataset_users(d), mx_dataset_items(d), o->factors);
}

/* merx.model.train(frame, { algo = "ials"/"bpmf", factors = 32, epochs = 10, reg, alpha,
 *                           lr, seed, threads, user = "user", item = "item", value = "value",
 *                           event = "event", event_weights, time = "time", half_life,
 *                           now, recent_popular, recent_popular_users })
 * Interactions come from the frame's user/item (and optional value and event)
 * columns; repeated pairs add up. */
static int l_train(lua_State *L) {
  mx__lua_check_run_active(L, "merx.model");
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  mx__lua_check_options(L, 2, "merx.model.train",
                       "algo user item value event event_weights factors epochs reg alpha lr seed "
                       "threads time half_life now recent_popular recent_popular_users");
  /* No algo: what `merx train` picks — bpmf for ratings (a value column named
   * and no event column), else ials. */
  const char *dflt = "ials";
  if (lua_getfield(L, 2, "value") == LUA_TSTRING) {
    lua_getfield(L, 2, "event");
    const char *ev = lua_isstring(L, -1) ? lua_tostring(L, -1) : "event";
    if (lua_getfield(L, 1, ev) != LUA_TTABLE) dflt = "bpmf";
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  const char *algo = mx__lua_opt_string(L, 2, "algo", dflt);
  int kind = mx_model_kind_parse(algo);
  if (kind < 0) return mx__lua_error(L, "merx.model.train: unknown algo '%s'", algo);
  const char *ucol = mx__lua_opt_string(L, 2, "user", "user");
  const char *icol = mx__lua_opt_string(L, 2, "item", "item");
  const char *vcol = mx__lua_opt_string(L, 2, "value", "value");
  const char *ecol = mx__lua_opt_string(L, 2, "event", "event");
  const char *tcol = mx__lua_opt_string(L, 2, "time", "time");
  size_t nu, ni, nv = 0;
  if (lua_getfield(L, 1, ucol) != LUA_TTABLE)
    return mx__lua_error(L, "merx.model.train: the frame has no '%s' column", ucol);
  const char **users = mx__lua_check_strings(L, -1, &nu);
  if (lua_getfield(L, 1, icol) != LUA_TTABLE)
    return mx__lua_error(L, "merx.model.train: the frame has no '%s' column", icol);
  const char **items = mx__lua_check_strings(L, -1, &ni);
  float *values = NULL;
  if (lua_getfield(L, 1, vcol) == LUA_TTABLE) values = mx__lua_check_floats(L, -1, &nv);
  if (ni != nu || (values && nv != nu))
    return mx__lua_error(L, "merx.model.train: columns differ in length");
  values = event_values(L, ecol, nu, values);
  mx_train_options o = mx_train_defaults((mx_model_kind)kind);
  o.factors = (uint32_t)mx__lua_opt_integer(L, 2, "factors", o.factors);
  o.epochs = (int)mx__lua_opt_integer(L, 2, "epochs", o.epochs);
  o.reg = mx__lua_opt_number(L, 2, "reg", o.reg);
  o.alpha = mx__lua_opt_number(L, 2, "alpha", o.alpha);
  o.lr = mx__lua_opt_number(L, 2, "lr", o.lr);
  o.seed = (uint64_t)mx__lua_opt_integer(L, 2, "seed", (lua_Integer)o.seed);
  o.threads = (int)mx__lua_opt_integer(L, 2, "threads", 0);
  int64_t *times = recency_times(L, tcol, nu, &o);
  train_ctx tc = {mx__lua_run(L)};
  o.on_epoch = on_epoch;
  o.ctx = &tc;
  mx_cancel cancel = mx__lua_cancel(L);
  o.cancel = &cancel;
  lmodel *lm = push_model(L);
  mx_error err;
  mx_error_clear(&err);
  mx_dataset *d;
  if (mx_dataset_from_triplets(users, items, values, times, nu, &d, &err) != MX_OK)
    return mx__lua_raise(L, &err);
  /* Charge what training allocates before it does: one C call would
   * otherwise hold any amount of memory outside the --memory limit. */
  double model_bytes, need = train_bytes(d, &o, &model_bytes);
  mx_run *run = tc.run;
  int charging = run && run->sandboxed && run->mem_limit;
  if (charging && ((double)run->mem_used + need > (double)run->mem_limit ||
                   mx__run_charge(run, (size_t)need) != 0)) {
    char what[160];
    describe_training(d, &o, what, sizeof what);
    mx_dataset_free(d);
    return mx__lua_error(L,
                        "merx.model.train: memory limit of %zu MB (--memory) would be exceeded: "
                        "%s needs ~%.0f MB",
                        run->mem_limit >> 20, what, need / (1 << 20));
  }
  mx_model *m;
  int rc = mx_model_train(d, &o, &m, &err);
  mx_dataset_free(d);
  if (charging) {
    /* training is over: keep counting what the model holds while it lives */
    mx__run_uncharge(run, (size_t)need);
    if (rc == MX_OK && mx__run_charge(run, (size_t)model_bytes) == 0)
      lm->charged = (size_t)model_bytes;
  }
  if (rc != MX_OK) return mx__lua_raise(L, &err);
  if (mx__run_poll(L, tc.run)) { /* over the memory limit (on_epoch), or overran */
    mx_model_free(m);
    mx__lua_check_stop(L);
  }
  lm->m = m;
  /* in a keyed run the frame's users are pseudonyms (merx.data.read) */
  if (run_key(L)) m->pseudonym_key = mx__hmac_key_check(run_key(L));
  return 1;
}

/* Dense indices of string ids; unknown ids map to UINT32_MAX. Pushes a buffer. */
static uint32_t *map_ids(lua_State *L, int idx, const mx_idmap *map, size_t *n) {
  const char **s = mx__lua_check_strings(L, idx, n);
  uint32_t *v = mx__lua_scratch(L, (*n ? *n : 1) * sizeof *v);
  for (size_t i = 0; i < *n; i++) {
    int64_t k = mx_idmap_find(map, s[i], strlen(s[i]));
    v[i] = k < 0 ? UINT32_MAX : (uint32_t)k;
  }
  return v;
}

/* map_ids for user ids. A model whose ids are pseudonyms takes real ids too
 * (PRIVACY.md): an id not found as given is looked up as its pseudonym under
 * the run's store key; without a key, a real id (not of a pseudonym's shape)
 * that is not found raises rather than silently meaning "unknown user". */
static uint32_t *map_users(lua_State *L, int idx, const mx_model *m, size_t *n) {
  if (!m->pseudonym_key) return map_ids(L, idx, m->users, n);
  const mx_hmac_key *key = run_key(L);
  const char **s = mx__lua_check_strings(L, idx, n);
  uint32_t *v = mx__lua_scratch(L, (*n ? *n : 1) * sizeof *v);
  for (size_t i = 0; i < *n; i++) {
    size_t len = strlen(s[i]);
    int64_t k = mx__pseudonym_find(m->users, key, s[i], len);
    if (k < 0 && !key && !mx__pseudonym_shaped(s[i], len))
      mx__lua_error(L, "model: user '%s' is not in the model, whose user ids are pseudonyms of a "
                   "store key: run with the store (--store DIR or MERX_STORE) or MERX_STORE_KEY "
                   "so real ids are hashed", s[i]);
    v[i] = k < 0 ? UINT32_MAX : (uint32_t)k;
  }
  return v;
}

/* Lists of ids and scores from a top-K result; rows for unknown queries
 * (pos[r] == UINT32_MAX) are empty. */
static void push_lists(lua_State *L, const mx_topk_result *r, const uint32_t *pos, size_t n,
                       const mx_idmap *names) {
  lua_createtable(L, (int)n, 0);
  int items = lua_gettop(L);
  lua_createtable(L, (int)n, 0);
  int scores = lua_gettop(L);
  for (size_t q = 0; q < n; q++) {
    uint32_t row = pos ? pos[q] : (uint32_t)q;
    uint32_t c = (row == UINT32_MAX || !r) ? 0 : r->count[row];
    lua_createtable(L, (int)c, 0);
    lua_createtable(L, (int)c, 0);
    for (uint32_t j = 0; j < c; j++) {
      lua_pushstring(L, mx_idmap_name(names, r->ids[(size_t)row * r->k + j]));
      lua_rawseti(L, -3, j + 1);
      lua_pushnumber(L, r->scores[(size_t)row * r->k + j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, scores, (lua_Integer)q + 1);
    lua_rawseti(L, items, (lua_Integer)q + 1);
  }
}

/* Options shared by recommend / similar. Pushes buffers. */
#define TOPK_OPTIONS "exclude_seen candidates threads"
static void topk_options(lua_State *L, int idx, const mx_model *m, uint32_t k, mx_topk_options *o) {
  *o = mx_topk_defaults();
  o->k = k;
  /* the run's cancellation, owned by a scratch userdata on the stack */
  mx_cancel *cancel = mx__lua_scratch(L, sizeof *cancel);
  *cancel = mx__lua_cancel(L);
  o->cancel = cancel;
  o->threads = (int)mx__lua_opt_integer(L, idx, "threads", 0);
  o->include_seen = !mx__lua_opt_boolean(L, idx, "exclude_seen", 1);
  if (!lua_isnoneornil(L, idx) && lua_getfield(L, idx, "candidates") == LUA_TTABLE) {
    size_t nc;
    uint32_t *c = map_ids(L, -1, m->items, &nc);
    size_t kept = 0;
    for (size_t i = 0; i < nc; i++)
      if (c[i] != UINT32_MAX) c[kept++] = c[i];
    if (kept == 0) mx__lua_error(L, "candidates: none of the %zu items is known to the model", nc);
    o->candidates = c;
    o->n_candidates = (uint32_t)kept;
    /* the buffer stays on the stack (alive) until the caller returns */
  } else if (!lua_isnoneornil(L, idx)) {
    lua_pop(L, 1);
  }
}

static uint32_t check_k(lua_State *L, int idx, lua_Integer def) {
  lua_Integer k = luaL_optinteger(L, idx, def);
  if (k < 1 || k > 100000) mx__lua_error(L, "k must be between 1 and 100000, got %lld", (long long)k);
  return (uint32_t)k;
}

/* Compact the known ids into a query list; pos[q] = row of query q or UINT32_MAX. */
static uint32_t *known_rows(lua_State *L, const uint32_t *ids, size_t n, uint32_t **query, uint32_t *nq) {
  uint32_t *pos = mx__lua_scratch(L, (n ? n : 1) * sizeof *pos);
  uint32_t *q = mx__lua_scratch(L, (n ? n : 1) * sizeof *q);
  uint32_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] == UINT32_MAX) {
      pos[i] = UINT32_MAX;
    } else {
      pos[i] = k;
      q[k++] = ids[i];
    }
  }
  *query = q;
  *nq = k;
  return pos;
}

/* m:recommend(users, k [, opts]) -> items, scores (one list per user; empty
 * for users the model does not know). opts: exclude_seen (true), candidates,
 * threads. */
static int m_recommend(lua_State *L) {
  mx_model *m = check_model(L);
  lua_settop(L, 4);
  mx__lua_check_options(L, 4, "model:recommend", TOPK_OPTIONS);
  uint32_t k = check_k(L, 3, 10);
  size_t n;
  uint32_t *ids = map_users(L, 2, m, &n);
  uint32_t *query, nq;
  uint32_t *pos = known_rows(L, ids, n, &query, &nq);
  mx_topk_options o;
  topk_options(L, 4, m, k, &o);
  mx_topk_result **t = push_topk(L);
  mx_error err;
  mx_error_clear(&err);
  if (nq > 0 && mx_topk_batch(m, query, nq, &o, t, &err) != MX_OK && err.code != MX_EEMPTY)
    return mx__lua_raise(L, &err);
  push_lists(L, *t, pos, n, m->items);
  mx__lua_guard_release(t);
  return 2;
}

/* m:load_index(path [, { users = true }]) -> true: map an HNSW index
 * (merx index build) of the model's item (user) vectors; m:similar then
 * answers from it when the metric matches. A stale or foreign file raises. */
static int m_load_index(lua_State *L) {
  mx_model *m = check_model(L);
  lmodel *lm = lua_touserdata(L, 1);
  lua_settop(L, 3);
  mx__lua_check_options(L, 3, "model:load_index", "users");
  int users = mx__lua_opt_boolean(L, 3, "users", 0);
  const char *path = mx__lua_path(L, 2, 0);
  const float *vec = users ? m->user_factors : m->item_factors;
  if (!vec || !m->factors) return mx__lua_error(L, "load_index: an EASE model has no vectors");
  mx_ann *ix;
  mx_error err;
  mx_error_clear(&err);
  if (mx_ann_load(path, vec, users ? m->n_users : m->n_items, m->factors,
                  users ? "the model's user vectors" : "the model's item vectors", &ix,
                  &err) != MX_OK)
    return mx__lua_raise(L, &err);
  mx_ann_free(lm->ann[users]);
  lm->ann[users] = ix;
  lua_pushboolean(L, 1);
  return 1;
}

/* m:similar(items, k [, opts]) -> items, scores; opts.users = true for
 * similar users, opts.metric = "cosine" | "dot". With an index loaded for
 * that side and metric (m:load_index), the index answers (opts.ef: beam
 * width, default 100) unless opts.exact. */
static int m_similar(lua_State *L) {
  mx_model *m = check_model(L);
  lmodel *lm = lua_touserdata(L, 1);
  lua_settop(L, 4);
  mx__lua_check_options(L, 4, "model:similar", "users metric ef exact " TOPK_OPTIONS);
  uint32_t k = check_k(L, 3, 10);
  int of_users = mx__lua_opt_boolean(L, 4, "users", 0);
  const char *metric = mx__lua_opt_string(L, 4, "metric", "cosine");
  mx_similarity sim = strcmp(metric, "dot") == 0 ? MX_SIM_DOT : MX_SIM_COSINE;
  size_t n;
  const mx_idmap *map = of_users ? m->users : m->items;
  uint32_t *ids = of_users ? map_users(L, 2, m, &n) : map_ids(L, 2, map, &n);
  uint32_t *query, nq;
  uint32_t *pos = known_rows(L, ids, n, &query, &nq);
  mx_topk_options o;
  topk_options(L, 4, m, k, &o);
  mx_topk_result **t = push_topk(L);
  mx_error err;
  mx_error_clear(&err);
  int rc = MX_OK;
  lua_Integer ef = mx__lua_opt_integer(L, 4, "ef", 100);
  if (ef < 1 || ef > 100000) return mx__lua_error(L, "similar: ef must be between 1 and 100000");
  mx_ann *ix = lm->ann[of_users];
  if (ix && (mx__lua_opt_boolean(L, 4, "exact", 0) ||
             mx_ann_get_metric(ix) != (sim == MX_SIM_DOT ? MX_ANN_DOT : MX_ANN_COSINE)))
    ix = NULL;
  if (nq > 0 && ix)
    rc = mx_ann_similar(m, ix, of_users, query, nq, sim, (uint32_t)ef, &o, t, &err);
  else if (nq > 0)
    rc = of_users ? mx_similar_users(m, query, nq, sim, &o, t, &err)
                  : mx_similar_items(m, query, nq, sim, &o, t, &err);
  if (rc != MX_OK && err.code != MX_EEMPTY) return mx__lua_raise(L, &err);
  push_lists(L, *t, pos, n, map);
  mx__lua_guard_release(t);
  return 2;
}

/* m:fold_in(items [, { k = 10, values = {...} }]) -> items, scores for a
 * user who is not in the model, from the items they interacted with
 * (unknown items are ignored). */
static int m_fold_in(lua_State *L) {
  mx_model *m = check_model(L);
  lua_settop(L, 3);
  mx__lua_check_options(L, 3, "model:fold_in", "k values");
  uint32_t k = (uint32_t)mx__lua_opt_integer(L, 3, "k", 10);
  if (k < 1) return mx__lua_error(L, "fold_in: k must be >= 1");
  size_t n;
  uint32_t *ids = map_ids(L, 2, m->items, &n);
  float *vals = NULL;
  if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "values") == LUA_TTABLE) {
    size_t nv;
    vals = mx__lua_check_floats(L, -1, &nv);
    if (nv != n) return mx__lua_error(L, "fold_in: values and items differ in length");
  }
  uint32_t *hist = mx__lua_scratch(L, (n ? n : 1) * sizeof *hist);
  float *hv = mx__lua_scratch(L, (n ? n : 1) * sizeof *hv);
  size_t h = 0;
  for (size_t i = 0; i < n; i++)
    if (ids[i] != UINT32_MAX) {
      hist[h] = ids[i];
      hv[h++] = vals ? vals[i] : 1.0f;
    }
  mx_topk_options o = mx_topk_defaults();
  o.k = k;
  o.threads = 1;
  mx_error err;
  mx_error_clear(&err);
  mx_topk_result **res = push_topk(L);
  int rc = mx_topk_history(m, hist, hv, h, NULL, &o, res, &err);
  if (rc != MX_OK && err.code != MX_EEMPTY) return mx__lua_raise(L, &err);
  uint32_t zero = 0;
  push_lists(L, *res, *res ? &zero : NULL, 1, m->items);
  mx__lua_guard_release(res);
  /* one history in, one list out */
  lua_rawgeti(L, -2, 1);
  lua_rawgeti(L, -2, 1);
  return 2;
}

/* m:score(users, items) -> matrix (users x items); unknown ids raise. */
static int m_score(lua_State *L) {
  mx_model *m = check_model(L);
  lua_settop(L, 3);
  size_t nu, ni;
  uint32_t *u = map_users(L, 2, m, &nu);
  uint32_t *it = map_ids(L, 3, m->items, &ni);
  for (size_t i = 0; i < nu; i++)
    if (u[i] == UINT32_MAX) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      return mx__lua_error(L, "score: unknown user '%s'", lua_tostring(L, -1));
    }
  for (size_t i = 0; i < ni; i++)
    if (it[i] == UINT32_MAX) {
      lua_rawgeti(L, 3, (lua_Integer)i + 1);
      return mx__lua_error(L, "score: unknown item '%s'", lua_tostring(L, -1));
    }
  if ((double)nu * (double)ni > 1e9) return mx__lua_error(L, "score: %zu x %zu is too large", nu, ni);
  mx_run *run = mx__lua_run(L);
  size_t bytes = nu * ni * sizeof(float);
  if (run && mx__run_charge(run, bytes) != 0)
    return mx__lua_error(L, "score: a %zu x %zu matrix is over the memory limit (--memory)", nu, ni);
  lmatrix *mat = lua_newuserdatauv(L, sizeof *mat, 0);
  mat->v = NULL;
  mat->rows = (uint32_t)nu;
  mat->cols = (uint32_t)ni;
  luaL_setmetatable(L, MATRIX_MT);
  mat->v = mx_alloc_aligned(bytes ? bytes : 4, 0);
  if (!mat->v) {
    if (run) mx__run_uncharge(run, bytes);
    return mx__lua_error(L, "score: out of memory");
  }
  mx_error err;
  mx_error_clear(&err);
  if (nu && ni && mx_score_matrix(m, u, (uint32_t)nu, it, (uint32_t)ni, 1, mat->v, &err) != MX_OK)
    return mx__lua_raise(L, &err);
  return 1;
}

/* m:explain(users, items [, top = 3]) -> per pair a list of { item, weight } */
static int m_explain(lua_State *L) {
  mx_model *m = check_model(L);
  lua_settop(L, 4);
  lua_Integer top = luaL_optinteger(L, 4, 3);
  if (top < 1 || top > 1000) return mx__lua_error(L, "explain: top must be 1..1000");
  size_t nu, ni;
  uint32_t *u = map_users(L, 2, m, &nu);
  uint32_t *it = map_ids(L, 3, m->items, &ni);
  if (nu != ni) return mx__lua_error(L, "explain: users and items differ in length");
  uint32_t *pu = mx__lua_scratch(L, (nu ? nu : 1) * sizeof *pu);
  uint32_t *pi = mx__lua_scratch(L, (nu ? nu : 1) * sizeof *pi);
  uint32_t *pos = mx__lua_scratch(L, (nu ? nu : 1) * sizeof *pos);
  uint32_t np = 0;
  for (size_t i = 0; i < nu; i++) {
    if (u[i] == UINT32_MAX || it[i] == UINT32_MAX) { pos[i] = UINT32_MAX; continue; }
    pos[i] = np;
    pu[np] = u[i];
    pi[np++] = it[i];
  }
  uint32_t *io = mx__lua_scratch(L, ((size_t)np * (size_t)top + 1) * sizeof *io);
  float *wo = mx__lua_scratch(L, ((size_t)np * (size_t)top + 1) * sizeof *wo);
  uint32_t *cnt = mx__lua_scratch(L, ((size_t)np + 1) * sizeof *cnt);
  mx_error err;
  mx_error_clear(&err);
  if (np && mx_explain(m, pu, pi, np, (uint32_t)top, io, wo, cnt, &err) != MX_OK)
    return mx__lua_raise(L, &err);
  lua_createtable(L, (int)nu, 0);
  for (size_t i = 0; i < nu; i++) {
    uint32_t p = pos[i];
    uint32_t c = p == UINT32_MAX ? 0 : cnt[p];
    lua_createtable(L, (int)c, 0);
    for (uint32_t j = 0; j < c; j++) {
      lua_createtable(L, 0, 2);
      lua_pushstring(L, mx_idmap_name(m->items, io[(size_t)p * (size_t)top + j]));
      lua_setfield(L, -2, "item");
      lua_pushnumber(L, wo[(size_t)p * (size_t)top + j]);
      lua_setfield(L, -2, "weight");
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* m:info() -> { kind, users, items, factors, implicit, pseudonymous } */
static int m_info(lua_State *L) {
  mx_model *m = check_model(L);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, mx_model_kind_name(m->kind));
  lua_setfield(L, -2, "kind");
  lua_pushinteger(L, m->n_users);
  lua_setfield(L, -2, "users");
  lua_pushinteger(L, m->n_items);
  lua_setfield(L, -2, "items");
  lua_pushinteger(L, m->factors);
  lua_setfield(L, -2, "factors");
  lua_pushboolean(L, m->implicit);
  lua_setfield(L, -2, "implicit");
  lua_pushboolean(L, m->pseudonym_key != 0);
  lua_setfield(L, -2, "pseudonymous");
  return 1;
}

/* m:knows(ids [, "items"]) -> array of booleans */
static int m_knows(lua_State *L) {
  mx_model *m = check_model(L);
  lua_settop(L, 3);
  const char *what = luaL_optstring(L, 3, "users");
  size_t n;
  uint32_t *ids = strcmp(what, "items") == 0 ? map_ids(L, 2, m->items, &n) : map_users(L, 2, m, &n);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushboolean(L, ids[i] != UINT32_MAX);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int m_close(lua_State *L) { return model_gc(L); }

static int m_tostring(lua_State *L) {
  lmodel *lm = luaL_checkudata(L, 1, MODEL_MT);
  if (!lm->m) lua_pushliteral(L, "merx.model (closed)");
  else lua_pushfstring(L, "merx.model (%s, %d users, %d items)", mx_model_kind_name(lm->m->kind),
                       (int)lm->m->n_users, (int)lm->m->n_items);
  return 1;
}

/* ---- matrix */

static lmatrix *check_matrix(lua_State *L) {
  lmatrix *mat = luaL_checkudata(L, 1, MATRIX_MT);
  mx__lua_check_run_active(L, "matrix");
  if (!mat->v) mx__lua_error(L, "matrix is closed");
  return mat;
}

static int x_gc(lua_State *L) {
  lmatrix *mat = luaL_checkudata(L, 1, MATRIX_MT);
  if (mat->v) {
    mx_run *run = mx__lua_run(L);
    if (run) mx__run_uncharge(run, (size_t)mat->rows * mat->cols * sizeof(float));
    mx_free_aligned(mat->v);
  }
  mat->v = NULL;
  return 0;
}

/* mat:get(r, c) (1-based) */
static int x_get(lua_State *L) {
  lmatrix *mat = check_matrix(L);
  lua_Integer r = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3);
  if (r < 1 || r > mat->rows || c < 1 || c > mat->cols)
    return mx__lua_error(L, "matrix:get(%lld, %lld) outside %u x %u", (long long)r, (long long)c,
                        mat->rows, mat->cols);
  lua_pushnumber(L, mat->v[(size_t)(r - 1) * mat->cols + (size_t)(c - 1)]);
  return 1;
}

/* mat:row(r) -> array of the row's scores */
static int x_row(lua_State *L) {
  lmatrix *mat = check_matrix(L);
  lua_Integer r = luaL_checkinteger(L, 2);
  if (r < 1 || r > mat->rows) return mx__lua_error(L, "matrix:row(%lld) outside 1..%u", (long long)r, mat->rows);
  mx__lua_push_floats(L, mat->v + (size_t)(r - 1) * mat->cols, mat->cols);
  return 1;
}

/* mat:argmax() -> per row the column index of the largest score, and the scores */
static int x_argmax(lua_State *L) {
  lmatrix *mat = check_matrix(L);
  lua_createtable(L, (int)mat->rows, 0);
  lua_createtable(L, (int)mat->rows, 0);
  for (uint32_t r = 0; r < mat->rows; r++) {
    const float *row = mat->v + (size_t)r * mat->cols;
    uint32_t best = 0;
    for (uint32_t c = 1; c < mat->cols; c++)
      if (row[c] > row[best]) best = c;
    lua_pushinteger(L, mat->cols ? best + 1 : 0);
    lua_rawseti(L, -3, r + 1);
    lua_pushnumber(L, mat->cols ? row[best] : NAN);
    lua_rawseti(L, -2, r + 1);
  }
  return 2;
}

static int x_shape(lua_State *L) {
  lmatrix *mat = check_matrix(L);
  lua_pushinteger(L, mat->rows);
  lua_pushinteger(L, mat->cols);
  return 2;
}

static int x_len(lua_State *L) {
  lmatrix *mat = check_matrix(L);
  lua_pushinteger(L, mat->rows);
  return 1;
}

int mx__luaopen_model(lua_State *L) {
  static const luaL_Reg model_methods[] = {
      {"recommend", m_recommend}, {"similar", m_similar}, {"fold_in", m_fold_in},
      {"score", m_score},         {"explain", m_explain}, {"info", m_info},
      {"knows", m_knows},         {"close", m_close},     {"load_index", m_load_index},
      {NULL, NULL}};
  static const luaL_Reg matrix_methods[] = {{"get", x_get},     {"row", x_row},
                                            {"argmax", x_argmax}, {"shape", x_shape},
                                            {"close", x_gc},    {NULL, NULL}};
  if (mx__lua_newmetatable(L, MODEL_MT)) {
    luaL_newlib(L, model_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, model_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, model_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (mx__lua_newmetatable(L, MATRIX_MT)) {
    luaL_newlib(L, matrix_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, x_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, x_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, x_len);
    lua_setfield(L, -2, "__len");
  }
  lua_pop(L, 1);
  static const luaL_Reg f[] = {{"load", l_load}, {"train", l_train}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
