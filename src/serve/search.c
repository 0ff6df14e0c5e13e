/* POST /v1/search: {"query": TEXT, "k", "filters": {"price": {"min", "max"},
 * "in_stock": true, "category": NAME}, "user": ID, "blend": W} over the
 * product index of config `search` (the files of `merx embed`), ranked by
 * mx_search_rank (merx/search.h) — the ranking of `merx search`: the query's
 * cosine, blended on z-scores with the user's taste from the served model
 * when a known user is given (blend default 0.25: the query dominates).
 * The query is embedded the way the index was: the built-in embedder, or
 * the index's OpenAI-compatible service (connection details from the JSON
 * file `search.llm`, as `merx embed --config`). With `store_queries = yes`
 * in the store's policy, queries (and /v1/answer's turns) are kept in its
 * ledger through a ledger queue (store/ledger_queue.h) off the request
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merx/embed.h"
#include "serve/apps.h"
#include "serve/internal.h"
#include "store/ledger_queue.h"
#include "store/privacy.h"
#include "store/queries.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

#define MAX_K 1000

struct search_state {
  mx_embed_index *ix;
  mx_catalog *cat;
  int64_t *cat_row;         /* index row -> catalogue row (-1: not in it); NULL without one */
  int64_t *model_item;      /* index row -> model item (-1: unknown); NULL without a model */
  int remote;
  mx_builtin_embed_options bo;
  mx_http_config llm;
  int has_llm;
  double blend;
  long k_default;
  mx_ann *ann;              /* HNSW over the index's vectors; NULL: exact only */
  long ef, ann_min_items;
  mx_ledger_queue *kept;    /* stored queries; NULL: not kept (the default) */
  _Atomic uint64_t kept_rows, kept_dropped;
};

search_state *mx__serve_search_state(mx_serve_gen *gen) { return gen->ext[MX_SERVE_EXT_SEARCH]; }
const mx_embed_index *mx__serve_search_index(const search_state *s) { return s->ix; }
const mx_catalog *mx__serve_search_catalog(const search_state *s) { return s->cat; }
const mx_http_config *mx__serve_search_llm(const search_state *s) { return s->has_llm ? &s->llm : NULL; }

static int cfg_error(const char *field, const char *msg, mx_error *err) {
  return mx_error_set(err, MX_EINVAL, "config key 'search%s%s': %s", *field ? "." : "", field, msg);
}

void mx__serve_search_free(void *state) {
  search_state *s = state;
  if (!s) return;
  mx_error err;
  mx__ledger_queue_close(s->kept, &err); /* written, or lost with the writer's error */
  mx_ann_free(s->ann); /* before the vectors it reads */
  mx_embed_index_free(s->ix);
  mx_catalog_free(s->cat);
  free(s->cat_row);
  free(s->model_item);
  free(s);
}

/* A JSON file of mx_http_config keys (relative to the serve config). */
static int load_llm(mx_serve_gen *gen, const json_t *v, mx_http_config *cfg, mx_error *err) {
  *cfg = mx_http_config_defaults();
  if (!json_is_string(v)) return mx_error_set(err, MX_EINVAL, "expected the path of a JSON file");
  char *p = mx__serve_path(gen, json_string_value(v));
  if (!p) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = mx_http_config_load(cfg, p, err);
  if (rc == MX_OK) rc = mx__serve_gen_watch(gen, p, err);
  free(p);
  return rc;
}

/* The store's policy (watched: a change reloads): with store_queries, a
 * ledger queue of its own for this generation. */
static int open_kept(mx_serve_gen *gen, search_state *s, mx_error *err) {
  char *dir;
  if (mx__serve_gen_store(gen, &dir)) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (!dir) return MX_OK;
  mx_store_policy p;
  char conf[4200], *ledger = NULL;
  snprintf(conf, sizeof conf, "%s/%s", dir, MX_STORE_CONFIG);
  int rc = mx__serve_gen_watch(gen, conf, err);
  if (rc == MX_OK) rc = mx__store_policy_load(dir, &p, err);
  if (rc == MX_OK && p.store_queries && (rc = mx__store_create(dir, err)) == MX_OK) {
    if (!(ledger = mx__store_ledger_path(dir))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    mx_ledger_queue_options o = {.ledger_path = ledger, .run_id = "serve-queries"};
    if (rc == MX_OK) rc = mx__ledger_queue_open(&o, &s->kept, err);
  }
  free(ledger);
  free(dir);
  return rc;
}

void mx__serve_search_keep(search_state *s, const mx_serve_gen *gen, const char *source,
                          const char *user, const char *session, const char *const *roles,
                          const char *const *texts, size_t n) {
  if (!s->kept || n > 4) return;
  char pz[MX_PSEUDONYM_LEN + 1];
  if (user) user = mx__pseudonym_user(gen->user_key, user, strlen(user), pz);
  mx_query_row rows[4];
  int64_t now = (int64_t)time(NULL);
  for (size_t i = 0; i < n; i++) rows[i] = (mx_query_row){now, source, user, session, roles[i], texts[i]};
  mx_error err;
  if (mx__ledger_queue_admit_queries(s->kept, rows, n, &err) == MX_OK) s->kept_rows += n;
  else s->kept_dropped += n;
}

/* search.ann: an index file (must load), false (none), or absent: the
 * index beside the .npy (EMB.hnsw, as merx search finds it) when it loads
 * (a stale one is skipped: /metrics merx_search_ann 0). Watched. */
static int load_ann(mx_serve_gen *gen, search_state *s, const char *npy, const json_t *v,
                    mx_error *err) {
  if (json_is_false(v)) return MX_OK;
  if (v && !json_is_string(v))
    return cfg_error("ann", "expected the path of an index (merx index build) or false", err);
  if (s->ix->n > UINT32_MAX) return MX_OK;
  char beside[1200];
  mx_embed_sidecar(npy, ".hnsw", beside, sizeof beside);
  int rc = mx__serve_gen_ann(gen, v, beside, s->ix->rows, (uint32_t)s->ix->n, (uint32_t)s->ix->dim,
                            npy, &s->ann, err);
  if (rc == MX_OK && s->ann && mx_ann_get_metric(s->ann) != MX_ANN_COSINE) {
    mx_ann_free(s->ann);
    s->ann = NULL;
    if (v) rc = cfg_error("ann", "search ranks by cosine; this index was built for --metric dot", err);
  }
  return rc;
}

int mx__serve_search_load(mx_serve_gen *gen, void **state, mx_error *err) {
  *state = NULL;
  const json_t *cfg = json_object_get(gen->config, "search");
  if (!cfg) return MX_OK;
  if (!json_is_object(cfg)) return mx_error_set(err, MX_EINVAL, "config key 'search' must be a table");
  int rc;
  if ((rc = mx__serve_check_fields(cfg, "index catalog blend k llm ann ef ann_min_items", err)))
    return cfg_error("", err->message, err);
  const char *index = json_string_value(json_object_get(cfg, "index"));
  if (!index) return cfg_error("index", "expected the .npy file of `merx embed`", err);
  search_state *s = calloc(1, sizeof *s);
  if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  char *ipath = mx__serve_path(gen, index), *cpath = NULL;
  if (!ipath) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  if ((rc = mx_embed_index_load(ipath, &s->ix, err)) || (rc = mx__serve_gen_watch(gen, ipath, err)))
    goto fail;
  const json_t *b = json_object_get(cfg, "blend");
  s->blend = MX_SEARCH_BLEND_DEFAULT;
  if (b && (!json_is_number(b) || json_number_value(b) < 0 || json_number_value(b) > 1)) {
    rc = cfg_error("blend", "expected a weight in [0, 1]", err);
    goto fail;
  }
  if (b) s->blend = json_number_value(b);
  if ((rc = mx__serve_get_int(cfg, "k", 10, 1, MAX_K, &s->k_default, err)) ||
      (rc = mx__serve_get_int(cfg, "ef", 100, 1, 100000, &s->ef, err)) ||
      (rc = mx__serve_get_int(cfg, "ann_min_items", 100000, 0, 1L << 40, &s->ann_min_items, err))) {
    rc = cfg_error("", err->message, err);
    goto fail;
  }
  if ((rc = load_ann(gen, s, ipath, json_object_get(cfg, "ann"), err))) goto fail;
  s->remote = strcmp(s->ix->embedder, "openai") == 0;
  const json_t *llm = json_object_get(cfg, "llm");
  if (llm) {
    if ((rc = load_llm(gen, llm, &s->llm, err))) {
      rc = cfg_error("llm", err->message, err);
      goto fail;
    }
    s->has_llm = 1;
  }
  if (s->remote) {
    if (!s->has_llm) s->llm = mx_http_config_defaults();
    /* the index's server and model, unless the llm file names a server */
    if (!s->llm.base_url[0]) snprintf(s->llm.base_url, sizeof s->llm.base_url, "%s", s->ix->base_url);
    snprintf(s->llm.model, sizeof s->llm.model, "%s", s->ix->model);
    s->llm.dimensions = s->ix->dimensions;
    if (!s->llm.key_env[0]) snprintf(s->llm.key_env, sizeof s->llm.key_env, "%s", s->ix->key_env);
    s->llm.cache_dir[0] = '\0'; /* queries are not worth a disk cache */
    if ((rc = mx_http_config_check(&s->llm, err))) {
      rc = cfg_error("llm", err->message, err);
      goto fail;
    }
    s->has_llm = 1;
  } else if ((rc = mx_builtin_embed_parse(s->ix->embedder, &s->bo, err))) {
    goto fail;
  }
  const char *catalog = json_string_value(json_object_get(cfg, "catalog"));
  if (json_object_get(cfg, "catalog") && !catalog) {
    rc = cfg_error("catalog", "expected the path of a CSV file", err);
    goto fail;
  }
  uint64_t n = s->ix->n;
  if (catalog) {
    if (!(cpath = mx__serve_path(gen, catalog))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if ((rc = mx_catalog_load(cpath, &s->cat, err)) || (rc = mx__serve_gen_watch(gen, cpath, err)))
      goto fail;
    if (!(s->cat_row = malloc((n ? n : 1) * sizeof *s->cat_row))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    for (uint64_t i = 0; i < n; i++) {
      const char *id = mx_idmap_name(s->ix->ids, (uint32_t)i);
      s->cat_row[i] = mx_idmap_find(s->cat->items, id, strlen(id));
    }
  }
  if (gen->model) {
    if (!(s->model_item = malloc((n ? n : 1) * sizeof *s->model_item))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    for (uint64_t i = 0; i < n; i++) {
      const char *id = mx_idmap_name(s->ix->ids, (uint32_t)i);
      s->model_item[i] = mx_idmap_find(gen->model->items, id, strlen(id));
    }
  }
  if ((rc = open_kept(gen, s, err))) goto fail;
  free(ipath);
  free(cpath);
  *state = s;
  return MX_OK;
fail:
  free(ipath);
  free(cpath);
  mx__serve_search_free(s);
  return rc;
}

void mx__serve_search_metrics(const void *state, FILE *out) {
  const search_state *s = state;
  if (!s) return;
  fprintf(out, "# TYPE merx_search_index_items gauge\nmerx_search_index_items %llu\n"
          "# HELP merx_search_ann 1 when /v1/search has an HNSW index over the products.\n"
          "# TYPE merx_search_ann gauge\nmerx_search_ann %d\n",
          (unsigned long long)s->ix->n, s->ann != NULL);
  if (s->kept)
    fprintf(out, "# HELP merx_search_queries_kept_total Queries and turns handed to the store "
                 "(store_queries = yes).\n# TYPE merx_search_queries_kept_total counter\n"
                 "merx_search_queries_kept_total %llu\n"
                 "# TYPE merx_search_queries_dropped_total counter\n"
                 "merx_search_queries_dropped_total %llu\n",
            (unsigned long long)s->kept_rows, (unsigned long long)s->kept_dropped);
}

static int stop_requested(void *ud) {
  const mx_cancel *c = ud;
  return c && c->interrupt && *c->interrupt;
}

int mx__serve_llm_client(const mx_http_config *cfg, const mx_cancel *cancel, mx_http_client **out,
                        mx_error *err) {
  int rc = mx_http_client_create(cfg, out, err);
  if (rc) return rc;
  double left = cancel && cancel->deadline > 0 ? cancel->deadline - mx__now_seconds() : 0;
  if (cancel && cancel->deadline > 0 && left <= 0.001) left = 0.001;
  mx_http_client_set_limit(*out, left, stop_requested, (void *)cancel);
  return MX_OK;
}

static int embed_query(search_state *s, const char *text, const mx_cancel *cancel, float **q,
                       mx_error *err) {
  *q = NULL;
  if (!s->remote) {
    if (!(*q = malloc(s->bo.dim * sizeof **q))) return mx_error_set(err, MX_ENOMEM, "out of memory");
    return mx_builtin_embed(&text, 1, &s->bo, 1, *q, err);
  }
  mx_http_client *c;
  int rc = mx__serve_llm_client(&s->llm, cancel, &c, err);
  if (rc) return rc;
  uint32_t dim = 0;
  rc = mx_openai_embed(c, &text, 1, q, &dim, NULL, err);
  mx_http_client_free(c);
  if (rc == MX_OK && dim != s->ix->dim) {
    free(*q);
    *q = NULL;
    return mx_error_set(err, MX_ENET, "the embedding service returned %u dimensions; the index has %llu",
                        dim, (unsigned long long)s->ix->dim);
  }
  return rc;
}

int mx__serve_search_run(search_state *s, mx_serve_gen *gen, const char *text,
                        const mx_search_filter *filters, const char *user, double blend,
                        size_t k, long ef, const mx_cancel *cancel, uint32_t **idx, float **score,
                        size_t *n, int *user_known, int *used_index, mx_error *err) {
  if (used_index) *used_index = 0;
  *idx = NULL;
  *score = NULL;
  *n = 0;
  *user_known = 0;
  float *q = NULL, *taste = NULL;
  unsigned char *keep = NULL;
  uint64_t rows = s->ix->n;
  int rc = embed_query(s, text, cancel, &q, err);
  if (rc) goto done;
  if (user && gen->model && s->model_item) {
    int64_t u = mx__serve_model_user(gen, user);
    if (u >= 0) {
      if (!(taste = malloc((rows ? rows : 1) * sizeof *taste))) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto done;
      }
      for (uint64_t i = 0; i < rows; i++)
        taste[i] = s->model_item[i] < 0 ? NAN
                                        : mx_model_predict(gen->model, (uint32_t)u,
                                                           (uint32_t)s->model_item[i]);
      *user_known = 1;
    }
  }
  if (filters) {
    if (!(keep = malloc(rows ? rows : 1))) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    mx_search_filter_rows(s->ix, s->cat, filters, keep);
  }
  if (k > rows) k = (size_t)rows;
  *idx = malloc((k ? k : 1) * sizeof **idx);
  *score = malloc((k ? k : 1) * sizeof **score);
  if (!*idx || !*score) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  mx_search_query sq = {q, taste, blend < 0 ? s->blend : blend, keep, k};
  if (ef < 0) ef = (int64_t)rows >= s->ann_min_items ? s->ef : 0;
  if (s->ann && ef > 0 && !(taste && sq.blend > 0) && k > 0) {
    /* the index, filters applied to its results; when they leave fewer
     * than k (a narrow filter), the exact scan answers instead */
    uint64_t *mask = NULL;
    if (keep && (mask = calloc(mx_bitset_words(rows) + 1, sizeof *mask)))
      for (uint64_t i = 0; i < rows; i++)
        if (keep[i]) mx_bitset_set(mask, (uint32_t)i);
    uint32_t cnt = 0;
    if (keep && !mask) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else rc = mx_ann_search(s->ann, q, (uint32_t)k, (uint32_t)ef, mask, UINT32_MAX, *idx, *score, &cnt, err);
    free(mask);
    if (rc) goto done;
    if (cnt == k || !keep) {
      *n = cnt;
      if (used_index) *used_index = 1;
      goto done;
    }
  }
  rc = mx_search_rank(s->ix, &sq, *idx, *score, n, err);
done:
  if (rc) {
    free(*idx);
    free(*score);
    *idx = NULL;
    *score = NULL;
  }
  free(q);
  free(taste);
  free(keep);
  return rc;
}

json_t *mx__serve_search_item(const search_state *s, uint32_t row, float score) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "item", json_string(mx_idmap_name(s->ix->ids, row)));
  json_object_set_new(o, "score", json_real(score));
  json_object_set_new(o, "text", json_string(s->ix->texts[row]));
  int64_t c = s->cat_row ? s->cat_row[row] : -1;
  if (c >= 0) {
    if (!isnan(s->cat->price[c])) json_object_set_new(o, "price", json_real(s->cat->price[c]));
    if (s->cat->in_stock[c] >= 0) json_object_set_new(o, "in_stock", json_boolean(s->cat->in_stock[c]));
    if (s->cat->category[c] != UINT32_MAX)
      json_object_set_new(o, "category",
                          json_string(mx_idmap_name(s->cat->categories, s->cat->category[c])));
  }
  return o;
}

/* filters = {price = {min, max}, in_stock = bool, category = NAME} */
static int read_filters(const json_t *f, mx_search_filter *out, int *any, mx_error *err) {
  *out = mx_search_filter_defaults();
  *any = 0;
  if (!f || json_is_null(f)) return MX_OK;
  if (!json_is_object(f)) return mx_error_set(err, MX_EINVAL, "field 'filters': expected an object");
  int rc;
  if ((rc = mx__serve_check_fields(f, "price in_stock category", err))) return rc;
  const json_t *p = json_object_get(f, "price");
  if (p) {
    if (!json_is_object(p) || mx__serve_check_fields(p, "min max", err))
      return mx_error_set(err, MX_EINVAL, "field 'filters.price': expected {\"min\": N, \"max\": N}");
    const json_t *mn = json_object_get(p, "min"), *mx = json_object_get(p, "max");
    if ((mn && !json_is_number(mn)) || (mx && !json_is_number(mx)))
      return mx_error_set(err, MX_EINVAL, "field 'filters.price': min and max are numbers");
    if (mn) out->price_min = json_number_value(mn);
    if (mx) out->price_max = json_number_value(mx);
    *any = 1;
  }
  int in_stock;
  if ((rc = mx__serve_get_bool(f, "in_stock", 0, &in_stock, err))) return rc;
  if (in_stock) {
    out->in_stock = 1;
    *any = 1;
  }
  const json_t *c = json_object_get(f, "category");
  if (c && !json_is_string(c))
    return mx_error_set(err, MX_EINVAL, "field 'filters.category': expected a string");
  if (c) {
    out->category = json_string_value(c);
    *any = 1;
  }
  return MX_OK;
}

int mx__serve_search(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                    mx_serve_reply *reply, mx_error *err) {
  (void)srv;
  search_state *s = gen->ext[MX_SERVE_EXT_SEARCH];
  if (!s) {
    reply->status = 404;
    return mx_error_set(err, MX_ENOTFOUND, "no product index configured (config key 'search')");
  }
  int rc;
  if ((rc = mx__serve_check_fields(req->body, "query k filters user blend exact ef", err))) return rc;
  const json_t *qj = json_object_get(req->body, "query");
  if (!json_is_string(qj) || json_string_length(qj) == 0)
    return mx_error_set(err, MX_EINVAL, "field 'query': expected the text to search for");
  long k;
  if ((rc = mx__serve_get_int(req->body, "k", s->k_default, 1, MAX_K, &k, err))) return rc;
  mx_search_filter f;
  int any;
  if ((rc = read_filters(json_object_get(req->body, "filters"), &f, &any, err))) return rc;
  if (any && !s->cat)
    return mx_error_set(err, MX_EINVAL, "field 'filters': no catalogue configured (search.catalog)");
  char ubuf[32];
  const char *user;
  if ((rc = mx__serve_get_id(req->body, "user", 0, ubuf, sizeof ubuf, &user, err))) return rc;
  const json_t *bj = json_object_get(req->body, "blend");
  if (bj && (!json_is_number(bj) || json_number_value(bj) < 0 || json_number_value(bj) > 1))
    return mx_error_set(err, MX_EINVAL, "field 'blend': expected a weight in [0, 1]");
  double blend = bj ? json_number_value(bj) : s->blend;
  int exact;
  long ef;
  if ((rc = mx__serve_get_bool(req->body, "exact", (int64_t)s->ix->n < s->ann_min_items, &exact, err)) ||
      (rc = mx__serve_get_int(req->body, "ef", s->ef, 1, 100000, &ef, err)))
    return rc;
  uint32_t *idx;
  float *score;
  size_t n;
  int known, used_index;
  rc = mx__serve_search_run(s, gen, json_string_value(qj), any ? &f : NULL, user, blend, (size_t)k,
                           exact ? 0 : ef, req->cancel, &idx, &score, &n, &known, &used_index, err);
  if (rc) {
    if (rc == MX_ENET || rc == MX_EFORMAT) reply->status = 502;
    return rc;
  }
  json_t *items = json_array(), *body = json_object();
  for (size_t r = 0; items && r < n; r++) json_array_append_new(items, mx__serve_search_item(s, idx[r], score[r]));
  free(idx);
  free(score);
  static const char *const role[] = {"query"};
  const char *text = json_string_value(qj);
  mx__serve_search_keep(s, gen, "serve/search", user, NULL, role, &text, 1);
  if (!items || !body || json_object_set_new(body, "query", json_copy((json_t *)qj)) ||
      json_object_set_new(body, "items", items) ||
      (user && json_object_set_new(body, "user", json_string(user))) ||
      json_object_set_new(body, "user_known", json_boolean(known)) ||
      json_object_set_new(body, "search", json_string(used_index ? "hnsw" : "exact")) ||
      json_object_set_new(body, "blend", json_real(known ? blend : 0))) {
    json_decref(body);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  reply->body = body;
  return MX_OK;
}
