/* POST /v1/decide: {"function": NAME, "args": {...}} calls a function of the
 * configured rules script (config `decide`) in a warm Lua state
 * (merx/decide.h) and answers {"function", "result", "decisions",
 * "capped"}.
 *
 * States: a pool per generation (a reload loads the new script into new
 * states; requests on the old generation finish on the old ones). A state
 * whose call failed is discarded and the next request opens a fresh one;
 * the request that failed gets 500 (script error) or 504/500 (time or
 * memory limit) naming SCRIPT:LINE, and the server keeps serving.
 *
 * Decisions: the staged records of a successful call go to the store's
 * ledger through a queue (store/ledger_queue.h) written in batches by one
 * thread, with the caps of `decide.caps` checked at admission. The queue
 * belongs to the ledger, not to a generation: every generation of the
 * process shares it, so caps hold across reloads and nothing queued is
 * dropped by one; it is flushed when the last generation using it ends
 * (shutdown). Its caps are fixed when it opens: a reload that changes
 * them is refused (restart to apply). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "merx/decide.h"
#include "serve/internal.h"
#include "store/ledger_queue.h"
#include "store/store.h"
#include "util/util.h"

#define MAX_STATES 256

/* ---- one queue per ledger, shared by generations */

typedef struct shared_queue {
  struct shared_queue *next;
  char *ledger;
  char *caps_key; /* the caps' configuration, compact JSON */
  int refs;
  mx_ledger_queue *q;
} shared_queue;

static pthread_mutex_t g_queues_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_queue *g_queues;

static void queue_release(shared_queue *sq) {
  if (!sq) return;
  pthread_mutex_lock(&g_queues_lock);
  int last = --sq->refs == 0;
  if (last) {
    shared_queue **p = &g_queues;
    while (*p != sq) p = &(*p)->next;
    *p = sq->next;
  }
  pthread_mutex_unlock(&g_queues_lock);
  if (!last) return;
  mx_error err;
  mx_error_clear(&err);
  /* a failure here has nowhere to go but stderr: the process is ending */
  if (mx__ledger_queue_close(sq->q, &err) != MX_OK)
    fprintf(stderr, "merx serve: decide: decisions not written to the ledger: %s\n", err.message);
  free(sq->ledger);
  free(sq->caps_key);
  free(sq);
}

/* ---- per generation */

typedef struct decide_state {
  mx_decide_options opt;
  char *script;               /* resolved path */
  char *store;
  char **data_dirs;
  int n_data_dirs;
  char *function;             /* default function; NULL: the request names it */
  int max_states;
  pthread_mutex_t lock;
  mx_decider **idle;
  int n_idle;
  char script_hash[17], script_sha256[65];
  shared_queue *queue;        /* NULL without a store */
  char *offer_field;
  _Atomic uint64_t calls, failures, discarded, opened, capped;
} decide_state;

static int cfg_error(const char *field, const char *msg, mx_error *err) {
  return mx_error_set(err, MX_EINVAL, "config key 'decide%s%s': %s", *field ? "." : "", field, msg);
}

void mx__serve_decide_free(void *state) {
  decide_state *s = state;
  if (!s) return;
  for (int i = 0; i < s->n_idle; i++) mx_decider_free(s->idle[i]);
  free(s->idle);
  queue_release(s->queue);
  pthread_mutex_destroy(&s->lock);
  free(s->script);
  free(s->store);
  for (int i = 0; i < s->n_data_dirs; i++) free(s->data_dirs[i]);
  free(s->data_dirs);
  free(s->function);
  free(s->offer_field);
  free(s);
}

static double num(const json_t *o, const char *k, double def) {
  const json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : def;
}

/* caps = { contacts = {kind, max, days}, per_offer = {kind, field, since,
 * max = {ID = n}, default = n} } -> c (strings borrowed from the JSON) */
static int read_caps(const json_t *caps, mx_ledger_caps *c, const char ***ids, long **maxes,
                     mx_error *err) {
  memset(c, 0, sizeof *c);
  c->offer_default_max = -1;
  if (!caps) return MX_OK;
  int rc;
  if (!json_is_object(caps)) return cfg_error("caps", "expected a table", err);
  if ((rc = mx__serve_check_fields(caps, "contacts per_offer", err))) return cfg_error("caps", err->message, err);
  const json_t *ct = json_object_get(caps, "contacts");
  if (ct) {
    if (!json_is_object(ct) || (rc = mx__serve_check_fields(ct, "kind max days", err)))
      return cfg_error("caps.contacts", json_is_object(ct) ? err->message : "expected a table", err);
    long max;
    if ((rc = mx__serve_get_int(ct, "max", 1, 0, 1000000, &max, err)))
      return cfg_error("caps.contacts", err->message, err);
    const json_t *k = json_object_get(ct, "kind");
    if (k && !json_is_string(k)) return cfg_error("caps.contacts.kind", "expected a string", err);
    c->contacts_kind = k ? json_string_value(k) : "offer";
    c->contacts_max = max;
    c->contacts_days = num(ct, "days", 30);
    if (c->contacts_days <= 0) return cfg_error("caps.contacts.days", "expected a number of days > 0", err);
  }
  const json_t *po = json_object_get(caps, "per_offer");
  if (po) {
    if (!json_is_object(po) || (rc = mx__serve_check_fields(po, "kind field since max default", err)))
      return cfg_error("caps.per_offer", json_is_object(po) ? err->message : "expected a table", err);
    const json_t *k = json_object_get(po, "kind"), *f = json_object_get(po, "field"),
                 *since = json_object_get(po, "since"), *m = json_object_get(po, "max");
    if ((k && !json_is_string(k)) || (f && !json_is_string(f)) || (since && !json_is_string(since)))
      return cfg_error("caps.per_offer", "kind, field and since are strings", err);
    int64_t t;
    if (since && mx_parse_time(json_string_value(since), &t) != 0)
      return cfg_error("caps.per_offer.since", "expected an ISO 8601 date", err);
    c->offer_kind = k ? json_string_value(k) : "offer";
    c->offer_field = f ? json_string_value(f) : "offer";
    c->offer_since = since ? json_string_value(since) : NULL;
    long def;
    if ((rc = mx__serve_get_int(po, "default", -1, -1, 1000000000L, &def, err)))
      return cfg_error("caps.per_offer", err->message, err);
    c->offer_default_max = def;
    if (m && !json_is_object(m)) return cfg_error("caps.per_offer.max", "expected a table {OFFER = n}", err);
    size_t n = m ? json_object_size(m) : 0;
    *ids = calloc(n + 1, sizeof **ids);
    *maxes = calloc(n + 1, sizeof **maxes);
    if (!*ids || !*maxes) return mx_error_set(err, MX_ENOMEM, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)m, key, v) {
      if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cfg_error("caps.per_offer.max", "expected counts >= 0", err);
      (*ids)[c->n_offers] = key;
      (*maxes)[c->n_offers++] = (long)json_integer_value(v);
    }
    c->offer_ids = *ids;
    c->offer_max = *maxes;
  }
  return MX_OK;
}

static int open_queue(decide_state *s, const json_t *cfg, mx_error *err) {
  const json_t *caps = json_object_get(cfg, "caps");
  mx_ledger_caps c;
  const char **ids = NULL;
  long *maxes = NULL;
  int rc = read_caps(caps, &c, &ids, &maxes, err);
  char *key = caps ? json_dumps(caps, JSON_COMPACT | JSON_SORT_KEYS) : mx__strdup("{}");
  char *ledger = s->store ? mx__store_ledger_path(s->store) : NULL;
  if (rc == MX_OK && (!key || !ledger)) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  if (rc == MX_OK && c.offer_field && !(s->offer_field = mx__strdup(c.offer_field)))
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  if (rc == MX_OK) rc = mx__store_create(s->store, err);
  pthread_mutex_lock(&g_queues_lock);
  shared_queue *sq = g_queues;
  while (rc == MX_OK && sq && strcmp(sq->ledger, ledger) != 0) sq = sq->next;
  if (rc == MX_OK && sq) {
    if (strcmp(sq->caps_key, key) != 0)
      rc = cfg_error("caps", "changed since the server started: the ledger queue keeps the caps "
                             "it opened with; restart merx serve to apply new caps", err);
    else
      sq->refs++;
  } else if (rc == MX_OK) {
    long flush_rows, queue_max;
    if ((rc = mx__serve_get_int(cfg, "flush_rows", 256, 1, 1000000, &flush_rows, err)) ||
        (rc = mx__serve_get_int(cfg, "queue_max", 65536, 1, 100000000, &queue_max, err))) {
      rc = cfg_error("", err->message, err);
    } else {
      char run_id[64], when[32];
      mx_format_time((int64_t)time(NULL), 0, when, sizeof when);
      snprintf(run_id, sizeof run_id, "serve-%s-%ld", when, (long)getpid());
      mx_ledger_queue_options o = {ledger, (size_t)flush_rows, num(cfg, "flush_ms", 50) / 1000.0,
                                   (size_t)queue_max, 10, run_id, s->script, s->script_hash,
                                   s->script_sha256, c};
      mx_ledger_queue *q = NULL;
      if ((sq = calloc(1, sizeof *sq)) == NULL) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      else rc = mx__ledger_queue_open(&o, &q, err);
      if (rc == MX_OK) {
        sq->q = q;
        sq->ledger = ledger;
        sq->caps_key = key;
        sq->refs = 1;
        sq->next = g_queues;
        g_queues = sq;
        ledger = key = NULL;
      } else {
        free(sq);
        sq = NULL;
      }
    }
  }
  pthread_mutex_unlock(&g_queues_lock);
  if (rc == MX_OK) s->queue = sq;
  free(ids);
  free(maxes);
  free(ledger);
  free(key);
  return rc;
}

int mx__serve_decide_load(mx_serve_gen *gen, void **state, mx_error *err) {
  *state = NULL;
  const json_t *cfg = json_object_get(gen->config, "decide");
  if (!cfg) return MX_OK; /* /v1/decide answers 404: no rules script configured */
  if (!json_is_object(cfg)) return mx_error_set(err, MX_EINVAL, "config key 'decide' must be a table");
  int rc;
  if ((rc = mx__serve_check_fields(cfg, "script default_function timeout_ms load_timeout_s memory_mb states "
                                       "data caps flush_rows flush_ms queue_max",
                                  err)))
    return cfg_error("", err->message, err);
  const char *script = json_string_value(json_object_get(cfg, "script"));
  if (!script) return cfg_error("script", "expected the path of the rules script", err);
  const json_t *fn = json_object_get(cfg, "default_function");
  if (fn && !json_is_string(fn)) return cfg_error("default_function", "expected a function name", err);
  decide_state *s = calloc(1, sizeof *s);
  if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  long memory, states, threads;
  const json_t *th = json_object_get(gen->config, "threads");
  threads = json_is_integer(th) ? (long)json_integer_value(th) : 32;
  if ((rc = mx__serve_get_int(cfg, "memory_mb", 64, 1, 1 << 20, &memory, err)) ||
      (rc = mx__serve_get_int(cfg, "states", threads < MAX_STATES ? threads : MAX_STATES, 1,
                             MAX_STATES, &states, err))) {
    rc = cfg_error("", err->message, err);
    goto fail;
  }
  double timeout_ms = num(cfg, "timeout_ms", 250);
  if (timeout_ms <= 0) {
    rc = cfg_error("timeout_ms", "expected milliseconds > 0", err);
    goto fail;
  }
  s->max_states = (int)states;
  s->idle = calloc((size_t)states, sizeof *s->idle);
  s->script = mx__serve_path(gen, script);
  s->function = fn ? mx__strdup(json_string_value(fn)) : NULL;
  if (!s->idle || !s->script || (fn && !s->function)) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  const json_t *data = json_object_get(cfg, "data");
  if (data && !json_is_array(data)) {
    rc = cfg_error("data", "expected a list of folders", err);
    goto fail;
  }
  size_t nd = data ? json_array_size(data) : 0;
  if (nd && !(s->data_dirs = calloc(nd, sizeof *s->data_dirs))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < nd; i++) {
    const char *d = json_string_value(json_array_get(data, i));
    if (!d) {
      rc = cfg_error("data", "expected a list of folders", err);
      goto fail;
    }
    if (!(s->data_dirs[s->n_data_dirs++] = mx__serve_path(gen, d))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
  }
  const char *store = json_string_value(json_object_get(gen->config, "store"));
  if (store && !(s->store = mx__serve_path(gen, store))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  s->opt = mx_decide_defaults();
  s->opt.path = s->script;
  s->opt.timeout = timeout_ms / 1000.0;
  s->opt.load_timeout = num(cfg, "load_timeout_s", 60);
  s->opt.memory_mb = (size_t)memory;
  s->opt.n_data_dirs = s->n_data_dirs;
  s->opt.data_dirs = (const char *const *)s->data_dirs;
  s->opt.store_dir = s->store;
  if ((rc = mx__serve_gen_watch(gen, s->script, err))) goto fail;
  /* one warm state now: a script that does not load fails the (re)load */
  mx_decider *d;
  if ((rc = mx_decider_open(&s->opt, &d, err))) goto fail;
  s->idle[s->n_idle++] = d;
  s->opened = 1;
  mx_decider_script_hash(d, s->script_hash);
  snprintf(s->script_sha256, sizeof s->script_sha256, "%s", mx_decider_script_sha256(d));
  if (s->store) {
    if ((rc = open_queue(s, cfg, err))) goto fail;
  } else if (json_object_get(cfg, "caps")) {
    rc = cfg_error("caps", "caps are counted in the store's ledger: set `store` (or --store)", err);
    goto fail;
  }
  *state = s;
  return MX_OK;
fail:
  mx__serve_decide_free(s);
  return rc;
}

void mx__serve_decide_metrics(const void *state, FILE *out) {
  const decide_state *s = state;
  if (!s) return;
  fprintf(out, "# TYPE merx_decide_calls_total counter\nmerx_decide_calls_total %llu\n",
          (unsigned long long)s->calls);
  fprintf(out, "# TYPE merx_decide_failures_total counter\nmerx_decide_failures_total %llu\n",
          (unsigned long long)s->failures);
  fprintf(out, "# TYPE merx_decide_states_opened_total counter\nmerx_decide_states_opened_total %llu\n",
          (unsigned long long)s->opened);
  fprintf(out, "# TYPE merx_decide_states_discarded_total counter\n"
               "merx_decide_states_discarded_total %llu\n",
          (unsigned long long)s->discarded);
  if (s->queue) {
    mx_ledger_queue_stats st;
    mx__ledger_queue_stats_get(s->queue->q, &st);
    fprintf(out, "# TYPE merx_decide_ledger_rows_total counter\n"
                 "merx_decide_ledger_rows_total{state=\"admitted\"} %llu\n"
                 "merx_decide_ledger_rows_total{state=\"capped\"} %llu\n"
                 "merx_decide_ledger_rows_total{state=\"written\"} %llu\n"
                 "# TYPE merx_decide_ledger_batches_total counter\nmerx_decide_ledger_batches_total %llu\n"
                 "# TYPE merx_decide_ledger_write_errors_total counter\n"
                 "merx_decide_ledger_write_errors_total %llu\n"
                 "# TYPE merx_decide_ledger_queued gauge\nmerx_decide_ledger_queued %zu\n",
            (unsigned long long)st.admitted, (unsigned long long)st.refused,
            (unsigned long long)st.written, (unsigned long long)st.batches,
            (unsigned long long)st.write_errors, st.queued);
  }
}

/* ---- the request */

typedef struct staged {
  json_t *list;   /* [{kind, user, record, reason}] */
  mx_queued_decision *rows;
  char **offers;
  size_t n, cap;
  const char *offer_field;
} staged;

static int on_emit(void *ctx, const mx_decision *d) {
  staged *st = ctx;
  json_t *rec = json_loads(d->record_json, JSON_DECODE_ANY, NULL);
  json_t *o = json_object();
  if (!rec || !o || json_object_set_new(o, "kind", json_string(d->kind)) ||
      (d->user && json_object_set_new(o, "user", json_stringn_nocheck(d->user, d->user_len))) ||
      json_object_set_new(o, "record", rec) ||
      json_object_set_new(o, "reason", json_stringn_nocheck(d->reason, d->reason_len)) ||
      json_array_append_new(st->list, o))
    return MX_ENOMEM;
  if (st->n == st->cap) {
    size_t nc = st->cap ? st->cap * 2 : 8;
    mx_queued_decision *r = realloc(st->rows, nc * sizeof *r);
    if (!r) return MX_ENOMEM;
    st->rows = r;
    char **of = realloc(st->offers, nc * sizeof *of);
    if (!of) return MX_ENOMEM;
    st->offers = of;
    st->cap = nc;
  }
  /* strings of d live during the callback only: point into the JSON copy */
  const json_t *u = json_object_get(o, "user");
  const json_t *reason = json_object_get(o, "reason");
  const json_t *field = st->offer_field ? json_object_get(rec, st->offer_field) : NULL;
  char *offer = NULL;
  if (json_is_string(field)) offer = mx__strdup(json_string_value(field));
  else if (json_is_integer(field) && (offer = malloc(24)))
    snprintf(offer, 24, "%lld", (long long)json_integer_value(field));
  st->offers[st->n] = offer;
  st->rows[st->n] = (mx_queued_decision){json_string_value(json_object_get(o, "kind")),
                                         u ? json_string_value(u) : NULL,
                                         u ? json_string_length(u) : 0,
                                         NULL, /* record text: set after the call */
                                         json_string_value(reason), json_string_length(reason),
                                         offer, NULL, NULL, NULL};
  st->n++;
  return MX_OK;
}

static mx_decider *take_state(decide_state *s, mx_error *err) {
  pthread_mutex_lock(&s->lock);
  mx_decider *d = s->n_idle ? s->idle[--s->n_idle] : NULL;
  pthread_mutex_unlock(&s->lock);
  if (d) return d;
  if (mx_decider_open(&s->opt, &d, err) != MX_OK) return NULL;
  s->opened++;
  return d;
}

static void give_back(decide_state *s, mx_decider *d) {
  if (!mx_decider_usable(d)) {
    s->discarded++;
    mx_decider_free(d);
    return;
  }
  pthread_mutex_lock(&s->lock);
  if (s->n_idle < s->max_states) {
    s->idle[s->n_idle++] = d;
    d = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  mx_decider_free(d);
}

int mx__serve_decide(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                    mx_serve_reply *reply, mx_error *err) {
  decide_state *s = gen->ext[MX_SERVE_EXT_DECIDE];
  if (!s) {
    reply->status = 404;
    return mx_error_set(err, MX_ENOTFOUND, "no rules script configured (config key 'decide')");
  }
  int rc;
  if ((rc = mx__serve_check_fields(req->body, "function args", err))) return rc;
  const json_t *fj = json_object_get(req->body, "function");
  if (fj && !json_is_string(fj))
    return mx_error_set(err, MX_EINVAL, "field 'function': expected a function name");
  const char *function = fj ? json_string_value(fj) : s->function;
  if (!function)
    return mx_error_set(err, MX_EINVAL, "field 'function': required (no default function "
                                        "configured in decide.default_function)");
  const json_t *args = json_object_get(req->body, "args");
  if (args && !json_is_object(args) && !json_is_array(args))
    return mx_error_set(err, MX_EINVAL, "field 'args': expected an object");
  s->calls++;
  mx_decider *d = take_state(s, err);
  if (!d) {
    s->failures++;
    reply->status = 500;
    return err->code;
  }
  staged st = {json_array(), NULL, NULL, 0, 0, s->offer_field};
  json_t *result = NULL;
  int64_t now = (int64_t)time(NULL);
  if (!st.list) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  else rc = mx_decider_call(d, function, args, now, &result, on_emit, &st, err);
  give_back(s, d);
  if (rc == MX_ENOMEM && err->code == MX_OK) mx_error_set(err, MX_ENOMEM, "out of memory");
  const char **refused = NULL;
  char **records = NULL;
  if (rc == MX_OK && st.n > 0) {
    refused = calloc(st.n, sizeof *refused);
    records = calloc(st.n, sizeof *records);
    if (!refused || !records) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (rc == MX_OK && st.n > 0) {
    json_t *pj = json_pack("{s:s}", "function", function);
    char *params = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
    json_decref(pj);
    if (!params) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    for (size_t i = 0; i < st.n && rc == MX_OK; i++) {
      json_t *o = json_array_get(st.list, i);
      records[i] = json_dumps(json_object_get(o, "record"), JSON_COMPACT | JSON_ENCODE_ANY);
      if (!records[i]) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      st.rows[i].record_json = records[i];
      st.rows[i].params = params;
      st.rows[i].script_hash = s->script_hash;
      st.rows[i].script_sha256 = s->script_sha256;
    }
    if (rc == MX_OK && s->queue) {
      rc = mx__ledger_queue_admit(s->queue->q, st.rows, st.n, now, refused, err);
      if (rc == MX_ELIMIT) {
        reply->status = 503;
        reply->retry_after = 1;
      }
    }
    free(params);
  }
  if (rc == MX_OK) {
    json_t *body = json_object(), *accepted = json_array(), *capped = json_array();
    for (size_t i = 0; i < st.n; i++) {
      json_t *o = json_array_get(st.list, i);
      if (refused && refused[i]) {
        json_object_set_new(o, "cap", json_string(refused[i]));
        json_array_append(capped, o);
        s->capped++;
      } else {
        json_array_append(accepted, o);
      }
    }
    if (!body || !accepted || !capped ||
        json_object_set_new(body, "function", json_string(function)) ||
        json_object_set_new(body, "result", result ? result : json_null()) ||
        json_object_set_new(body, "decisions", accepted) ||
        json_object_set_new(body, "capped", capped) ||
        json_object_set_new(body, "recorded", json_boolean(s->queue != NULL))) {
      json_decref(body);
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    } else {
      reply->body = body;
    }
    result = NULL;
  } else {
    s->failures++;
    if (rc == MX_ENOTFOUND) reply->status = 404;
    else if (rc == MX_ESCRIPT) reply->status = 500;
    else if (rc == MX_ELIMIT && strstr(err->message, "memory limit")) reply->status = 500;
    if (rc == MX_ESCRIPT || rc == MX_ELIMIT)
      mx__serve_log(srv, "decide: %s: %s (the state was discarded)", function, err->message);
  }
  json_decref(result);
  json_decref(st.list);
  for (size_t i = 0; i < st.n; i++) {
    free(st.offers[i]);
    free(records ? records[i] : NULL);
  }
  free(st.rows);
  free(st.offers);
  free(records);
  free(refused);
  return rc;
}
