/* POST /v1/answer: customer service. {"session": ID, "user": ID?,
 * "question": TEXT} -> the products the question is about (the search of
 * /v1/search over the same index and catalogue), the shopper's recent orders
 * (config `answer.orders`, a CSV read like `merx train --data`), the
 * session's earlier turns, all given to an OpenAI-compatible chat model
 * (the JSON file `answer.llm`, as `merx embed --config`), whose answer comes
 * back as {"session", "answer", "products", "removed", "turn"}:
 *
 *  - products: the ids the answer cites as [ID] that are in the catalogue
 *    (the index or the catalogue file), in order of first citation;
 *  - removed: cited ids that are not — a model inventing a product — which
 *    are also cut from the answer text, so a client never links to them.
 *
 * Conversation memory (serve/sessions.h) is per session id, bounded in turns,
 * bytes and sessions (LRU), expires after answer.session_ttl_s, lives in
 * memory only and is shared by every generation (a reload keeps the
 * conversations). The API key of the chat service goes only to that
 * service (merx/http.h); error messages are redacted (mx__redact). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve/apps.h"
#include "serve/internal.h"
#include "serve/sessions.h"
#include "util/pseudonym.h"
#include "util/util.h"

#define MAX_QUESTION 4000

static const char default_system[] =
    "You are the customer service of an online shop. Answer the shopper's question briefly and "
    "truthfully, using only the products and orders listed below. Cite a product by writing its "
    "id in square brackets. Never cite an id that is not listed.";

/* ---- sessions shared by generations */

static pthread_mutex_t g_sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static mx_sessions *g_sessions;
static int g_sessions_refs;

typedef struct answer_state {
  mx_http_config llm;
  char *system;
  long products_k, orders_max;
  double temperature;
  long max_tokens;
  mx_dataset *orders;     /* NULL: none configured */
  mx_sessions *sessions;  /* g_sessions */
  _Atomic uint64_t asked, chat_failures, removed;
} answer_state;

static int cfg_error(const char *field, const char *msg, mx_error *err) {
  return mx_error_set(err, MX_EINVAL, "config key 'answer%s%s': %s", *field ? "." : "", field, msg);
}

void mx__serve_answer_free(void *state) {
  answer_state *s = state;
  if (!s) return;
  if (s->sessions) {
    pthread_mutex_lock(&g_sessions_lock);
    if (--g_sessions_refs == 0) {
      mx__sessions_free(g_sessions);
      g_sessions = NULL;
    }
    pthread_mutex_unlock(&g_sessions_lock);
  }
  mx_dataset_free(s->orders);
  free(s->system);
  free(s);
}

static double num(const json_t *o, const char *k, double def) {
  const json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : def;
}

int mx__serve_answer_load(mx_serve_gen *gen, void **state, mx_error *err) {
  *state = NULL;
  const json_t *cfg = json_object_get(gen->config, "answer");
  if (!cfg) return MX_OK;
  if (!json_is_object(cfg)) return mx_error_set(err, MX_EINVAL, "config key 'answer' must be a table");
  int rc;
  if ((rc = mx__serve_check_fields(cfg, "llm system orders orders_columns products orders_max "
                                       "temperature max_tokens session_turns session_bytes "
                                       "session_ttl_s max_sessions",
                                  err)))
    return cfg_error("", err->message, err);
  if (!mx__serve_search_state(gen))
    return cfg_error("", "/v1/answer finds products with /v1/search: configure `search` too", err);
  answer_state *s = calloc(1, sizeof *s);
  if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  long turns, bytes, max_sessions;
  if ((rc = mx__serve_get_int(cfg, "products", 5, 1, 50, &s->products_k, err)) ||
      (rc = mx__serve_get_int(cfg, "orders_max", 5, 0, 100, &s->orders_max, err)) ||
      (rc = mx__serve_get_int(cfg, "max_tokens", 400, 1, 100000, &s->max_tokens, err)) ||
      (rc = mx__serve_get_int(cfg, "session_turns", 6, 0, 1000, &turns, err)) ||
      (rc = mx__serve_get_int(cfg, "session_bytes", 16384, 0, 1 << 24, &bytes, err)) ||
      (rc = mx__serve_get_int(cfg, "max_sessions", 10000, 1, 10000000, &max_sessions, err))) {
    rc = cfg_error("", err->message, err);
    goto fail;
  }
  s->temperature = num(cfg, "temperature", 0.2);
  double ttl = num(cfg, "session_ttl_s", 1800);
  if (ttl <= 0) {
    rc = cfg_error("session_ttl_s", "expected seconds > 0", err);
    goto fail;
  }
  const json_t *llm = json_object_get(cfg, "llm");
  if (!json_is_string(llm)) {
    rc = cfg_error("llm", "expected the JSON file naming the chat service (base_url, chat_model, "
                          "key_env)", err);
    goto fail;
  }
  char *lp = mx__serve_path(gen, json_string_value(llm));
  s->llm = mx_http_config_defaults();
  if (!lp) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  rc = mx_http_config_load(&s->llm, lp, err);
  if (rc == MX_OK) rc = mx__serve_gen_watch(gen, lp, err);
  free(lp);
  if (rc == MX_OK) rc = mx_http_config_check(&s->llm, err);
  if (rc == MX_OK && !s->llm.base_url[0]) rc = mx_error_set(err, MX_EINVAL, "no base_url");
  if (rc) {
    rc = cfg_error("llm", err->message, err);
    goto fail;
  }
  s->llm.cache_dir[0] = '\0'; /* answers are never cached on disk */
  const json_t *sys = json_object_get(cfg, "system");
  if (sys && !json_is_string(sys)) {
    rc = cfg_error("system", "expected the system prompt", err);
    goto fail;
  }
  if (!(s->system = mx__strdup(sys ? json_string_value(sys) : default_system))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  const json_t *orders = json_object_get(cfg, "orders");
  if (orders) {
    const json_t *cols = json_object_get(cfg, "orders_columns");
    if (!json_is_string(orders) || (cols && !json_is_string(cols))) {
      rc = cfg_error("orders", "expected a CSV file (and orders_columns \"user=..,item=..,time=..\")", err);
      goto fail;
    }
    mx_ingest_options o = mx_ingest_defaults();
    o.aggregate = MX_AGG_LAST;
    const char *allowed[] = {"user", "item", "time", NULL};
    char *op = mx__serve_path(gen, json_string_value(orders));
    if (!op) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    rc = mx_columns_parse(cols ? json_string_value(cols) : "user=user,item=item,time=time", allowed,
                          &o.columns, err);
    if (rc == MX_OK) rc = mx_dataset_load_csv(op, &o, &s->orders, err);
    if (rc == MX_OK) rc = mx__serve_gen_watch(gen, op, err);
    free(op);
    if (rc) goto fail;
  }
  mx_session_limits lim = {(int)turns, (size_t)bytes, ttl, (size_t)max_sessions};
  pthread_mutex_lock(&g_sessions_lock);
  if (!g_sessions) rc = mx__sessions_create(&lim, &g_sessions);
  else mx__sessions_set_limits(g_sessions, &lim);
  if (rc == MX_OK) {
    g_sessions_refs++;
    s->sessions = g_sessions;
  }
  pthread_mutex_unlock(&g_sessions_lock);
  if (rc) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  *state = s;
  return MX_OK;
fail:
  mx__serve_answer_free(s);
  return rc;
}

void mx__serve_answer_metrics(const void *state, FILE *out) {
  const answer_state *s = state;
  if (!s) return;
  size_t count;
  uint64_t expired, evicted;
  mx__sessions_stats(s->sessions, &count, &expired, &evicted);
  fprintf(out,
          "# TYPE merx_answer_questions_total counter\nmerx_answer_questions_total %llu\n"
          "# TYPE merx_answer_chat_failures_total counter\nmerx_answer_chat_failures_total %llu\n"
          "# TYPE merx_answer_removed_citations_total counter\n"
          "merx_answer_removed_citations_total %llu\n"
          "# TYPE merx_answer_sessions gauge\nmerx_answer_sessions %zu\n"
          "# TYPE merx_answer_sessions_expired_total counter\nmerx_answer_sessions_expired_total %llu\n"
          "# TYPE merx_answer_sessions_evicted_total counter\nmerx_answer_sessions_evicted_total %llu\n",
          (unsigned long long)s->asked, (unsigned long long)s->chat_failures,
          (unsigned long long)s->removed, count, (unsigned long long)expired,
          (unsigned long long)evicted);
}

/* ---- context */

/* The user's most recent orders, newest first: "- [ITEM] TEXT, ordered DATE". */
typedef struct order_ref {
  int64_t time;
  uint32_t item;
} order_ref;

static int newest_first(const void *a, const void *b) {
  const order_ref *x = a, *y = b;
  if (x->time != y->time) return x->time > y->time ? -1 : 1;
  return (x->item > y->item) - (x->item < y->item);
}

static void recent_orders(const answer_state *s, const search_state *ss, const mx_serve_gen *gen,
                          const char *user, FILE *f, int *count) {
  *count = 0;
  if (!s->orders || !user || s->orders_max == 0) return;
  /* the orders file holds real ids, or pseudonyms (an export of a keyed store) */
  int64_t u = mx__pseudonym_find(s->orders->users, gen->user_key, user, strlen(user));
  if (u < 0) return;
  const mx_csr *c = &s->orders->by_user;
  uint64_t a = c->indptr[u], m = c->indptr[u + 1] - a;
  order_ref *o = malloc((m ? m : 1) * sizeof *o);
  if (!o) return;
  for (uint64_t e = 0; e < m; e++) o[e] = (order_ref){c->times ? c->times[a + e] : 0, c->indices[a + e]};
  qsort(o, m, sizeof *o, newest_first);
  const mx_embed_index *ix = mx__serve_search_index(ss);
  for (uint64_t e = 0; e < m && (long)e < s->orders_max; e++) {
    const char *item = mx_idmap_name(s->orders->items, o[e].item);
    int64_t row = mx_idmap_find(ix->ids, item, strlen(item));
    char when[32] = "";
    if (c->times) mx_format_time(o[e].time, 1, when, sizeof when);
    fprintf(f, "- [%s] %s%s%s\n", item, row >= 0 ? ix->texts[row] : "", *when ? ", ordered " : "",
            when);
    (*count)++;
  }
  free(o);
}

/* Is id a product we know (the index or the catalogue)? */
static int known_product(const search_state *ss, const char *id, size_t len) {
  const mx_embed_index *ix = mx__serve_search_index(ss);
  const mx_catalog *cat = mx__serve_search_catalog(ss);
  return mx_idmap_find(ix->ids, id, len) >= 0 || (cat && mx_idmap_find(cat->items, id, len) >= 0);
}

static int in_list(const json_t *list, const char *id, size_t len) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    if (json_string_length(v) == len && memcmp(json_string_value(v), id, len) == 0) return 1;
  }
  return 0;
}

/* Citations: "[ID]" with an id of 1-64 characters without spaces or
 * brackets. Known ids go to products; unknown ones to removed, and are cut
 * from the text (with one space before them, when there is one). */
static char *filter_citations(const search_state *ss, const char *text, json_t *products,
                              json_t *removed) {
  size_t n = strlen(text);
  char *out = malloc(n + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (text[i] == '[') {
      size_t j = i + 1;
      while (j < n && j - i <= 65 && text[j] != ']' && text[j] != '[' &&
             !isspace((unsigned char)text[j]))
        j++;
      if (j < n && text[j] == ']' && j > i + 1 && j - i <= 65) {
        const char *id = text + i + 1;
        size_t len = j - i - 1;
        if (known_product(ss, id, len)) {
          if (!in_list(products, id, len)) json_array_append_new(products, json_stringn(id, len));
        } else {
          if (!in_list(removed, id, len)) json_array_append_new(removed, json_stringn(id, len));
          if (o > 0 && out[o - 1] == ' ') o--;
          i = j + 1;
          continue;
        }
      }
    }
    out[o++] = text[i++];
  }
  out[o] = '\0';
  return out;
}

int mx__serve_answer(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                    mx_serve_reply *reply, mx_error *err) {
  (void)srv;
  answer_state *s = gen->ext[MX_SERVE_EXT_ANSWER];
  if (!s) {
    reply->status = 404;
    return mx_error_set(err, MX_ENOTFOUND, "customer service is not configured (config key 'answer')");
  }
  search_state *ss = mx__serve_search_state(gen);
  int rc;
  if ((rc = mx__serve_check_fields(req->body, "session user question", err))) return rc;
  char sbuf[32], ubuf[32];
  const char *session, *user;
  if ((rc = mx__serve_get_id(req->body, "session", 1, sbuf, sizeof sbuf, &session, err)) ||
      (rc = mx__serve_get_id(req->body, "user", 0, ubuf, sizeof ubuf, &user, err)))
    return rc;
  if (strlen(session) > 256) return mx_error_set(err, MX_EINVAL, "field 'session': longer than 256 bytes");
  const json_t *qj = json_object_get(req->body, "question");
  if (!json_is_string(qj) || json_string_length(qj) == 0)
    return mx_error_set(err, MX_EINVAL, "field 'question': expected the shopper's question");
  if (json_string_length(qj) > MAX_QUESTION)
    return mx_error_set(err, MX_EINVAL, "field 'question': longer than %d bytes", MAX_QUESTION);
  const char *question = json_string_value(qj);
  s->asked++;
  double now = mx__now_seconds();
  mx_session_turn *turns = NULL;
  int n_turns = 0, expired = 0;
  uint32_t *idx = NULL;
  float *score = NULL;
  size_t n = 0;
  int known;
  char *context = NULL, *reply_text = NULL, *clean = NULL;
  size_t context_len = 0;
  mx_chat_message *msgs = NULL;
  json_t *products = json_array(), *removed = json_array(), *found = json_array(), *body = NULL;
  mx_http_client *client = NULL;
  if (!products || !removed || !found) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = mx__sessions_history(s->sessions, session, now, &turns, &n_turns, &expired))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* products: the search of /v1/search for the question (the shopper's
   * taste blended in at the configured weight when the model knows them) */
  if ((rc = mx__serve_search_run(ss, gen, question, NULL, user, -1, (size_t)s->products_k,
                                -1, req->cancel, &idx, &score, &n, &known, NULL, err))) {
    if (rc == MX_ENET || rc == MX_EFORMAT) reply->status = 502;
    goto done;
  }
  FILE *f = open_memstream(&context, &context_len);
  if (!f) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  fprintf(f, "%s\n\nProducts that may be relevant:\n", s->system);
  for (size_t r = 0; r < n; r++) {
    json_t *item = mx__serve_search_item(ss, idx[r], score[r]);
    fprintf(f, "- [%s] %s", mx_idmap_name(mx__serve_search_index(ss)->ids, idx[r]),
            mx__serve_search_index(ss)->texts[idx[r]]);
    const json_t *p = json_object_get(item, "price"), *st = json_object_get(item, "in_stock");
    if (p) fprintf(f, ", price %.2f", json_number_value(p));
    if (st) fprintf(f, ", %s", json_is_true(st) ? "in stock" : "out of stock");
    fputc('\n', f);
    json_array_append_new(found, json_string(mx_idmap_name(mx__serve_search_index(ss)->ids, idx[r])));
    json_decref(item);
  }
  int n_orders = 0;
  if (s->orders && user) {
    fprintf(f, "\nThe shopper's recent orders (newest first):\n");
    recent_orders(s, ss, gen, user, f, &n_orders);
    if (n_orders == 0) fprintf(f, "(none)\n");
  }
  if (fclose(f) != 0) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* system, then the earlier turns, then the question */
  size_t nm = 0;
  if (!(msgs = calloc((size_t)(2 + 2 * n_turns), sizeof *msgs))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  msgs[nm++] = (mx_chat_message){"system", context};
  for (int t = 0; t < n_turns; t++) {
    msgs[nm++] = (mx_chat_message){"user", turns[t].question};
    msgs[nm++] = (mx_chat_message){"assistant", turns[t].answer};
  }
  msgs[nm++] = (mx_chat_message){"user", question};
  if ((rc = mx__serve_llm_client(&s->llm, req->cancel, &client, err)) == MX_OK)
    rc = mx_openai_chat(client, msgs, nm, s->temperature, (int)s->max_tokens, &reply_text, err);
  if (rc) {
    s->chat_failures++;
    char msg[MX_ERROR_MESSAGE_MAX];
    mx__redact(err->message, strlen(err->message), msg, sizeof msg);
    if (rc == MX_ENET || rc == MX_EFORMAT || rc == MX_EINVAL) {
      reply->status = 502;
      rc = mx_error_set(err, MX_ENET, "the chat service failed: %s", msg);
    } else if (rc == MX_EINTERRUPTED || rc == MX_ELIMIT) {
      reply->status = 503;
      reply->retry_after = 1;
      rc = mx_error_set(err, rc, "the chat service did not answer in time: %s", msg);
    }
    goto done;
  }
  if (!(clean = filter_citations(ss, reply_text, products, removed))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  s->removed += json_array_size(removed);
  if ((rc = mx__sessions_append(s->sessions, session, now, question, clean))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  static const char *const roles[] = {"question", "answer"};
  const char *texts[] = {question, clean};
  mx__serve_search_keep(ss, gen, "serve/answer", user, session, roles, texts, 2);
  body = json_object();
  if (!body || json_object_set_new(body, "session", json_string(session)) ||
      json_object_set_new(body, "answer", json_string(clean)) ||
      json_object_set(body, "products", products) || json_object_set(body, "removed", removed) ||
      json_object_set(body, "retrieved", found) ||
      json_object_set_new(body, "orders", json_integer(n_orders)) ||
      json_object_set_new(body, "turn", json_integer(n_turns + 1)) ||
      json_object_set_new(body, "session_expired", json_boolean(expired))) {
    json_decref(body);
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  reply->body = body;
done:
  mx_http_client_free(client);
  mx__sessions_turns_free(turns, n_turns);
  free(idx);
  free(score);
  free(context);
  free(reply_text);
  free(clean);
  free(msgs);
  json_decref(products);
  json_decref(removed);
  json_decref(found);
  return rc;
}
