/* POST /v1/recommend and POST /v1/similar.
 *
 * Recommendations for a model user are the same computation as `merx
 * recommend --user` (mx_topk_batch). Scoring one user reads every item
 * vector (50k items x 128 factors = 25 MB), so one request at a time is
 * memory-bound far below what the cores can compute. Requests that arrive
 * together are therefore scored together (dynamic micro-batching, as
 * TensorFlow Serving and Triton do): the first request to find no open batch
 * becomes its leader and waits — at most recommend.batch_wait_ms, and only
 * while more /v1/recommend requests are on their way — for others to join,
 * up to recommend.batch users; then one mx_topk_batch call (one sgemm per
 * tile of the item matrix) scores them all, and each request takes its own
 * row. Top-K lists are prefixes of each other (ties broken by item index),
 * so a batch is scored with the largest k asked and each request keeps its
 * first k. Requests with their own filters (candidates, exclude,
 * include_seen) or a session history are scored alone.
 *
 * Unknown users: a recommender's client usually wants something to show, so
 * an unknown user gets the most popular items (by training interactions)
 * with "source": "popular" (recommend.unknown_user = "error" answers 404
 * instead). A session's recent items ("items") are folded into a user vector
 * on the fly (mx_topk_history).
 *
 * Similar items: exact by default (the tiled scan; cosine on unit-length
 * copies of the item vectors, made once per generation on first use rather
 * than per request). An HNSW index over the item factors (`merx index
 * build`: config similar.index, else M.mxm.hnsw beside the model when
 * present) answers instead when the catalogue has at least
 * similar.ann_min_items items (default 100,000: below that the exact scan
 * takes well under a millisecond per query); a request's "exact" (true /
 * false) overrides that, and "ef" sets the beam (default similar.ef, 100),
 * as the CLI's --exact / --ef. Candidates, or a metric the index was not
 * built for, use the exact scan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merx/ann.h"
#include "merx/score.h"
#include "serve/internal.h"
#include "util/util.h"

#define MAX_K 1000
#define MAX_BATCH 256

typedef struct batch {
  uint32_t users[MAX_BATCH];
  int n;
  uint32_t k;          /* the largest k asked */
  int closed, done;
  int refs;            /* members still to read their row */
  int rc;
  mx_error err;
  mx_topk_result *res;
  int bf16;            /* 1: the bf16 first pass answered every row */
  /* Two conditions, so a member joining wakes the leader alone, not every
   * member already waiting for the result (with one, a batch of n cost
   * about n^2/2 needless wake-ups). */
  pthread_cond_t join; /* the leader waits: a member joined, or a core freed up */
  pthread_cond_t scored; /* the members wait for the scores */
} batch;

typedef struct rec_state {
  int batch_max;
  double batch_wait;       /* seconds */
  int unknown_popular;     /* 1: popular fallback; 0: 404 */
  int explain_top;
  uint32_t *popular;       /* items by training interactions, most first */
  float *popular_count;    /* their counts */
  uint32_t n_popular;
  float *gram;             /* iALS: the item Gram matrix every session fold-in starts from */
  mx_item_bf16 *approx;    /* bf16 item copy for the first pass; NULL: exact float scan only */
  _Atomic uint64_t rows_bf16, rows_exact; /* batched users by the scan that answered them */
  int parallel;            /* batches scored at once (default: the cores less one) */
  pthread_mutex_t lock;
  batch *open;
  int computing;           /* batches being scored now */
  _Atomic int64_t active;  /* requests inside the recommend handler */
  _Atomic uint64_t batches, batched_users, solo, fallbacks;
  /* similar items */
  mx_ann *ann;             /* index over the item factors; NULL: exact only */
  long ann_min_items, ef;
  pthread_mutex_t norm_lock;
  float *item_norm;        /* unit-length item vectors (cosine), made on first use */
  _Atomic uint64_t similar_ann, similar_exact;
} rec_state;

/* Config `similar = {index = PATH | false, ef = N, ann_min_items = N}`.
 * An index named in the config must load; the one beside the model is used
 * when it loads (a stale one, built for an older model, is skipped: /metrics
 * merx_similar_index 0). Either is watched, so rebuilding it reloads. */
static int load_similar(mx_serve_gen *gen, rec_state *s, mx_error *err) {
  const json_t *cfg = json_object_get(gen->config, "similar");
  int rc;
  if (cfg && !json_is_object(cfg)) {
    mx_error_set(err, MX_EINVAL, "must be a table");
    return mx__serve_config_error(gen, "similar", err);
  }
  if (cfg && (rc = mx__serve_check_fields(cfg, "index ef ann_min_items", err)))
    return mx__serve_config_error(gen, "similar", err);
  if ((rc = mx__serve_get_int(cfg, "ef", 100, 1, 100000, &s->ef, err)) ||
      (rc = mx__serve_get_int(cfg, "ann_min_items", 100000, 0, 1L << 40, &s->ann_min_items, err)))
    return mx__serve_config_error(gen, "similar", err);
  const mx_model *m = gen->model;
  const json_t *ix = json_object_get(cfg, "index");
  if (ix && !json_is_string(ix) && !json_is_false(ix)) {
    mx_error_set(err, MX_EINVAL, "field 'index': expected the path of an index (merx index build) or false");
    return mx__serve_config_error(gen, "similar", err);
  }
  if (json_is_false(ix)) return MX_OK;
  if (ix && !(m && m->item_factors)) {
    mx_error_set(err, MX_EINVAL, "field 'index': the model has no item factors to index");
    return mx__serve_config_error(gen, "similar", err);
  }
  if (!m || !m->item_factors || !gen->model_path) return MX_OK;
  char beside[1200], name[300];
  snprintf(beside, sizeof beside, "%s.hnsw", gen->model_path);
  snprintf(name, sizeof name, "%.280s (items)", gen->model_path);
  return mx__serve_gen_ann(gen, ix, beside, m->item_factors, m->n_items, m->factors, name, &s->ann,
                          err);
}

static int cmp_pop(const void *a, const void *b, void *ctx) {
  const float *c = ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (c[x] != c[y]) return c[x] > c[y] ? -1 : 1;
  return (x > y) - (x < y);
}

int mx__serve_recommend_load(mx_serve_gen *gen, void **state, mx_error *err) {
  *state = NULL;
  const json_t *cfg = json_object_get(gen->config, "recommend");
  if (cfg && !json_is_object(cfg)) {
    mx_error_set(err, MX_EINVAL, "must be a table");
    return mx__serve_config_error(gen, "recommend", err);
  }
  int rc;
  if (cfg && (rc = mx__serve_check_fields(cfg, "batch batch_wait_ms parallel unknown_user explain_top exact", err)))
    return mx__serve_config_error(gen, "recommend", err);
  rec_state *s = calloc(1, sizeof *s);
  if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  long batch_max, top, parallel;
  int exact_only;
  if ((rc = mx__serve_get_bool(cfg, "exact", 0, &exact_only, err)) ||
      (rc = mx__serve_get_int(cfg, "batch", 64, 1, MAX_BATCH, &batch_max, err)) ||
      /* one core left for HTTP, JSON and the next batch's gathering: the
       * batches that wait for a scorer grow, and a user in a batch of 16
       * costs half what one in a batch of 4 does (README, Serving) */
      (rc = mx__serve_get_int(cfg, "parallel", mx__cpu_count() > 1 ? mx__cpu_count() - 1 : 1, 1, 1024,
                             &parallel, err)) ||
      (rc = mx__serve_get_int(cfg, "explain_top", 3, 1, 100, &top, err))) {
    free(s);
    return mx__serve_config_error(gen, "recommend", err);
  }
  const json_t *w = json_object_get(cfg, "batch_wait_ms");
  s->batch_wait = 0.0005;
  if (w) {
    if (!json_is_number(w) || json_number_value(w) < 0 || json_number_value(w) > 1000) {
      free(s);
      mx_error_set(err, MX_EINVAL, "field 'batch_wait_ms': expected a number of milliseconds in [0, 1000]");
      return mx__serve_config_error(gen, "recommend", err);
    }
    s->batch_wait = json_number_value(w) / 1000.0;
  }
  const json_t *uu = json_object_get(cfg, "unknown_user");
  s->unknown_popular = 1;
  if (uu) {
    const char *v = json_string_value(uu);
    if (!v || (strcmp(v, "popular") && strcmp(v, "error"))) {
      free(s);
      mx_error_set(err, MX_EINVAL, "field 'unknown_user': expected \"popular\" or \"error\"");
      return mx__serve_config_error(gen, "recommend", err);
    }
    s->unknown_popular = strcmp(v, "popular") == 0;
  }
  s->batch_max = (int)batch_max;
  s->parallel = (int)parallel;
  s->explain_top = (int)top;
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->norm_lock, NULL);
  const mx_model *m = gen->model;
  if (m && m->n_items) {
    s->popular = malloc(m->n_items * sizeof *s->popular);
    s->popular_count = calloc(m->n_items, sizeof *s->popular_count);
    if (!s->popular || !s->popular_count) {
      mx__serve_recommend_free(s);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    for (uint64_t e = 0; m->seen.indptr && e < m->seen.nnz; e++)
      s->popular_count[m->seen.indices[e]] += 1.0f;
    for (uint32_t i = 0; i < m->n_items; i++) s->popular[i] = i;
    qsort_r(s->popular, m->n_items, sizeof *s->popular, cmp_pop, s->popular_count);
    s->n_popular = m->n_items;
    if (m->kind == MX_MODEL_IALS && (rc = mx_model_item_gram(m, &s->gram, err))) {
      mx__serve_recommend_free(s);
      return rc;
    }
  }
  /* The bf16 first pass (exact lists, proven per row; see mx_topk_options)
   * where the CPU has AVX-512 BF16: elsewhere the portable loop is slower
   * than the float sgemm, so the exact scan stays. */
  if (m && m->item_factors && m->kind != MX_MODEL_EASE && !exact_only && mx_item_bf16_native() &&
      !(s->approx = mx_item_bf16_build(m))) {
    mx__serve_recommend_free(s);
    return mx_error_set(err, MX_ENOMEM, "out of memory for the bf16 item copy");
  }
  if ((rc = load_similar(gen, s, err))) {
    mx__serve_recommend_free(s);
    return rc;
  }
  *state = s;
  return MX_OK;
}

void mx__serve_recommend_free(void *state) {
  rec_state *s = state;
  if (!s) return;
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->norm_lock);
  mx_ann_free(s->ann);
  mx_unit_rows_free(s->item_norm);
  mx_item_bf16_free(s->approx);
  free(s->popular);
  free(s->popular_count);
  free(s->gram);
  free(s);
}

void mx__serve_recommend_metrics(const void *state, FILE *f) {
  const rec_state *s = state;
  if (!s) return;
  fprintf(f,
          "# HELP merx_recommend_batches_total Micro-batches scored (one matrix product each).\n"
          "# TYPE merx_recommend_batches_total counter\n"
          "merx_recommend_batches_total %llu\n"
          "# HELP merx_recommend_batched_users_total Users scored in micro-batches.\n"
          "# TYPE merx_recommend_batched_users_total counter\n"
          "merx_recommend_batched_users_total %llu\n"
          "# HELP merx_recommend_solo_total Requests scored alone (filters or a session history).\n"
          "# TYPE merx_recommend_solo_total counter\n"
          "merx_recommend_solo_total %llu\n"
          "# HELP merx_recommend_popular_fallback_total Unknown users answered with popular items.\n"
          "# TYPE merx_recommend_popular_fallback_total counter\n"
          "merx_recommend_popular_fallback_total %llu\n"
          "# HELP merx_recommend_rows_total Batched users by the scan that answered them (bf16 first pass, or exact float).\n"
          "# TYPE merx_recommend_rows_total counter\n"
          "merx_recommend_rows_total{scan=\"bf16\"} %llu\n"
          "merx_recommend_rows_total{scan=\"float\"} %llu\n"
          "# HELP merx_similar_index 1 when /v1/similar has an HNSW index over the items.\n"
          "# TYPE merx_similar_index gauge\n"
          "merx_similar_index %d\n"
          "# HELP merx_similar_requests_total Similar-item requests by search (hnsw, exact).\n"
          "# TYPE merx_similar_requests_total counter\n"
          "merx_similar_requests_total{search=\"hnsw\"} %llu\n"
          "merx_similar_requests_total{search=\"exact\"} %llu\n",
          (unsigned long long)atomic_load(&((rec_state *)s)->batches),
          (unsigned long long)atomic_load(&((rec_state *)s)->batched_users),
          (unsigned long long)atomic_load(&((rec_state *)s)->solo),
          (unsigned long long)atomic_load(&((rec_state *)s)->fallbacks),
          (unsigned long long)atomic_load(&((rec_state *)s)->rows_bf16),
          (unsigned long long)atomic_load(&((rec_state *)s)->rows_exact), s->ann != NULL,
          (unsigned long long)atomic_load(&((rec_state *)s)->similar_ann),
          (unsigned long long)atomic_load(&((rec_state *)s)->similar_exact));
}

/* ------------------------------------------------------------ batching */

static void deadline_in(struct timespec *ts, double seconds) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  long ns = ts->tv_nsec + (long)(seconds * 1e9);
  ts->tv_sec += ns / 1000000000L;
  ts->tv_nsec = ns % 1000000000L;
}

static batch *batch_new(void) {
  batch *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&b->join, &a);
  pthread_cond_init(&b->scored, NULL);
  pthread_condattr_destroy(&a);
  return b;
}

static void batch_unref(batch *b) { /* under the state's lock */
  if (--b->refs > 0) return;
  mx_topk_result_free(b->res);
  pthread_cond_destroy(&b->join);
  pthread_cond_destroy(&b->scored);
  free(b);
}

/* Score user u with whoever arrives with it. On MX_OK, ids/scores/count
 * receive the first k entries of the user's row (arrays of k). */
static int batched_topk(mx_serve *srv, rec_state *s, const mx_model *m, uint32_t u, uint32_t k,
                        const mx_cancel *cancel, uint32_t *ids, float *scores, uint32_t *count,
                        int *bf16, mx_error *err) {
  pthread_mutex_lock(&s->lock);
  batch *b = s->open;
  int leader = 0;
  if (!b || b->n >= s->batch_max) {
    if (!(b = batch_new())) {
      pthread_mutex_unlock(&s->lock);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    s->open = b;
    leader = 1;
  }
  int slot = b->n++;
  b->users[slot] = u;
  if (k > b->k) b->k = k;
  b->refs++;
  if (leader) {
    /* Gather company. While every core is scoring a batch, wait (more
     * requests pile up meanwhile). While some are scoring, wait at most
     * batch_wait: requests that are answered now come back soon. While
     * none are, go at once unless more recommend requests are already here. */
    struct timespec until;
    deadline_in(&until, s->batch_wait);
    int waited_out = s->batch_wait <= 0;
    for (;;) {
      if (b->n >= s->batch_max) break;
      if (s->computing >= s->parallel) {
        pthread_cond_wait(&b->join, &s->lock); /* a core frees up, or the batch fills */
        continue;
      }
      int64_t coming = atomic_load(&srv->metrics.pending[MX_SERVE_ROUTE_INDEX_mx__serve_recommend]) -
                       atomic_load(&s->active);
      if (waited_out || (s->computing == 0 && coming <= 0)) break;
      if (pthread_cond_timedwait(&b->join, &s->lock, &until) != 0) waited_out = 1;
    }
    if (s->open == b) s->open = NULL;
    b->closed = 1;
    s->computing++;
    int n = b->n;
    pthread_mutex_unlock(&s->lock);
    mx_topk_options o = mx_topk_defaults();
    o.k = b->k;
    o.threads = 1;
    o.cancel = cancel;
    o.approx = s->approx;
    mx_error_clear(&b->err);
    b->rc = mx_topk_batch(m, b->users, (uint32_t)n, &o, &b->res, &b->err);
    if (b->rc == MX_OK) {
      b->bf16 = b->res->approx_rows == (uint32_t)n;
      atomic_fetch_add(&s->rows_bf16, b->res->approx_rows);
      atomic_fetch_add(&s->rows_exact, b->res->exact_rows);
    }
    atomic_fetch_add(&s->batches, 1);
    atomic_fetch_add(&s->batched_users, (uint64_t)n);
    pthread_mutex_lock(&s->lock);
    s->computing--;
    if (s->open) pthread_cond_signal(&s->open->join); /* its leader may go now */
    b->done = 1;
    pthread_cond_broadcast(&b->scored);
  } else {
    pthread_cond_signal(&b->join); /* the leader rechecks: full, or nobody else coming */
    while (!b->done) pthread_cond_wait(&b->scored, &s->lock);
  }
  int rc = b->rc;
  if (rc == MX_OK) {
    const mx_topk_result *r = b->res;
    uint32_t c = r->count[slot] < k ? r->count[slot] : k;
    memcpy(ids, r->ids + (size_t)slot * r->k, c * sizeof *ids);
    memcpy(scores, r->scores + (size_t)slot * r->k, c * sizeof *scores);
    *count = c;
    *bf16 = b->bf16;
  } else if (err) {
    *err = b->err;
  }
  batch_unref(b);
  pthread_mutex_unlock(&s->lock);
  return rc;
}

/* ---------------------------------------------------------- the handler */

/* An id as a JSON string. Ids come from user data in any encoding: invalid
 * UTF-8, which jansson refuses, becomes U+FFFD as in every JSON output of
 * merx (mx__json_escape) and in answers without explanations, so the key is
 * never dropped. NULL: out of memory. */
static json_t *id_json(const char *id) {
  if (!id) return json_null();
  json_t *s = json_string(id);
  if (s) return s;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  mx__json_escape(f, id, strlen(id));
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  s = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
  free(buf);
  return s;
}

/* Explanations for a model user: the training items that contribute most
 * (mx_explain). For a session: the session items most similar to each
 * recommended item (cosine of the item vectors). */
static int add_explanations(const mx_model *m, int64_t user, const uint32_t *hist, uint32_t n_hist,
                            const uint32_t *ids, uint32_t n, uint32_t top, json_t *list,
                            const mx_cancel *cancel, mx_error *err) {
  if (n == 0) return MX_OK;
  uint32_t *ex_items = malloc((size_t)n * top * sizeof *ex_items), *ex_count = calloc(n, sizeof *ex_count);
  float *ex_w = malloc((size_t)n * top * sizeof *ex_w);
  uint32_t *us = malloc(n * sizeof *us);
  int rc = MX_OK;
  if (!ex_items || !ex_count || !ex_w || !us) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (user >= 0) {
    for (uint32_t r = 0; r < n; r++) us[r] = (uint32_t)user;
    rc = mx_explain(m, us, ids, n, top, ex_items, ex_w, ex_count, err);
  } else if (n_hist && m->item_factors) {
    /* similarity of every (recommended, session) pair, best `top` per item */
    float *sim = malloc((size_t)n_hist * sizeof *sim);
    uint32_t *a = malloc((size_t)n_hist * sizeof *a);
    if (!sim || !a) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    for (uint32_t r = 0; rc == MX_OK && r < n; r++) {
      /* a long session costs n x n_hist similarities: honour the time limit */
      if ((rc = mx_cancel_check(cancel, "explaining the recommendations", err))) break;
      for (uint32_t h = 0; h < n_hist; h++) a[h] = ids[r];
      if ((rc = mx_similarity_pairs(m, 0, a, hist, n_hist, MX_SIM_COSINE, sim, err))) break;
      uint32_t c = 0;
      for (uint32_t t = 0; t < top && t < n_hist; t++) {
        int best = -1;
        for (uint32_t h = 0; h < n_hist; h++) {
          int used = 0;
          for (uint32_t q = 0; q < c; q++) used |= ex_items[(size_t)r * top + q] == hist[h];
          if (!used && isfinite(sim[h]) && (best < 0 || sim[h] > sim[best])) best = (int)h;
        }
        if (best < 0) break;
        ex_items[(size_t)r * top + c] = hist[best];
        ex_w[(size_t)r * top + c] = sim[best];
        c++;
      }
      ex_count[r] = c;
    }
    free(sim);
    free(a);
  }
  for (uint32_t r = 0; rc == MX_OK && r < n; r++) {
    json_t *because = json_array();
    for (uint32_t q = 0; because && q < ex_count[r]; q++)
      json_array_append_new(
          because, json_pack("{s:o, s:f}", "item", id_json(mx_idmap_name(m->items, ex_items[(size_t)r * top + q])),
                             "weight", (double)ex_w[(size_t)r * top + q]));
    if (!because) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else json_object_set_new(json_array_get(list, r), "because", because);
  }
done:
  free(ex_items);
  free(ex_count);
  free(ex_w);
  free(us);
  return rc;
}

static json_t *item_list(const mx_model *m, const uint32_t *ids, const float *scores, uint32_t n) {
  json_t *list = json_array();
  for (uint32_t r = 0; list && r < n; r++) {
    json_t *o = json_object();
    if (!o) break;
    json_object_set_new(o, "item", id_json(mx_idmap_name(m->items, ids[r])));
    json_object_set_new(o, "score", isfinite(scores[r]) ? json_real(scores[r]) : json_null());
    json_array_append_new(list, o);
  }
  return list;
}

/* A score as json_dumps(JSON_REAL_PRECISION(9)) writes it: %.9g, with ".0"
 * when that reads as an integer; null when not finite. */
static void put_score(FILE *f, float v) {
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  char t[40];
  int n = snprintf(t, sizeof t, "%.9g", (double)v);
  fputs(t, f);
  if (n > 0 && !strpbrk(t, ".e")) fputs(".0", f);
}

/* The answer without explanations, written straight to text: the same JSON
 * the jansson tree gives (keys in the same order, scores alike), without
 * its five allocations per item. Ids are escaped as every JSON output of
 * merx is (mx__json_escape: invalid UTF-8 becomes U+FFFD). NULL: out of
 * memory. */
static char *reply_text(const mx_model *m, const char *user_id, const uint32_t *ids,
                        const float *scores, uint32_t n, const char *source, const char *scan,
                        uint32_t unknown_items) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fputc('{', f);
  if (user_id) {
    fputs("\"user\":", f);
    mx__json_escape(f, user_id, strlen(user_id));
    fputc(',', f);
  }
  fputs("\"items\":[", f);
  for (uint32_t r = 0; r < n; r++) {
    const char *id = mx_idmap_name(m->items, ids[r]);
    fputs(r ? ",{\"item\":" : "{\"item\":", f);
    if (id) mx__json_escape(f, id, strlen(id));
    else fputs("null", f);
    fputs(",\"score\":", f);
    put_score(f, scores[r]);
    fputc('}', f);
  }
  fprintf(f, "],\"source\":\"%s\"", source);
  if (scan) fprintf(f, ",\"scan\":\"%s\"", scan);
  if (unknown_items) fprintf(f, ",\"unknown_items\":%u", unknown_items);
  fputc('}', f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Everything a request asked for, and what it owns. */
typedef struct rec_query {
  const char *user_id;
  int64_t user;             /* model index, or -1 */
  long k;
  int explain, include_seen;
  uint32_t *items, n_items, unknown_items; int has_items;
  uint32_t *cand, n_cand, unknown_cand; int has_cand;
  uint32_t *excl, n_excl, unknown_excl; int has_excl;
  uint64_t *mask;
} rec_query;

static void query_free(rec_query *q) {
  free(q->items);
  free(q->cand);
  free(q->excl);
  free(q->mask);
}

/* The popular items that pass the filters, best first. */
static uint32_t popular_topk(const rec_state *s, const rec_query *q, uint32_t *ids, float *scores) {
  uint32_t c = 0;
  for (uint32_t p = 0; p < s->n_popular && c < (uint32_t)q->k; p++) {
    uint32_t i = s->popular[p];
    if (q->mask && !mx_bitset_test(q->mask, i)) continue;
    int seen = 0;
    for (uint32_t h = 0; h < q->n_items && !seen; h++) seen = q->items[h] == i;
    if (seen && !q->include_seen) continue;
    ids[c] = i;
    scores[c++] = s->popular_count[i];
  }
  return c;
}

int mx__serve_recommend(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                       mx_serve_reply *reply, mx_error *err) {
  const mx_model *m = gen->model;
  rec_state *s = gen->ext[MX_SERVE_EXT_RECOMMEND];
  if (!m) {
    reply->status = 503;
    return mx_error_set(err, MX_ESTATE, "no model is loaded (config 'model' / --model)");
  }
  atomic_fetch_add(&s->active, 1);
  rec_query q;
  memset(&q, 0, sizeof q);
  q.user = -1;
  char ubuf[32];
  uint32_t *ids = NULL, count = 0;
  float *scores = NULL;
  json_t *out = NULL;
  const char *source = "model";
  int rc, exact = 0, bf16 = 0;
  const json_t *b = req->body;
  if ((rc = mx__serve_check_fields(b, "user items k candidates exclude include_seen explain exact", err)) ||
      (rc = mx__serve_get_bool(b, "exact", 0, &exact, err)) ||
      (rc = mx__serve_get_id(b, "user", 0, ubuf, sizeof ubuf, &q.user_id, err)) ||
      (rc = mx__serve_get_int(b, "k", 10, 1, MAX_K, &q.k, err)) ||
      (rc = mx__serve_get_bool(b, "explain", 0, &q.explain, err)) ||
      (rc = mx__serve_get_bool(b, "include_seen", 0, &q.include_seen, err)) ||
      (rc = mx__serve_get_id_list(b, "items", m->items, &q.items, &q.n_items, &q.unknown_items,
                                 &q.has_items, err)) ||
      (rc = mx__serve_get_id_list(b, "candidates", m->items, &q.cand, &q.n_cand, &q.unknown_cand,
                                 &q.has_cand, err)) ||
      (rc = mx__serve_get_id_list(b, "exclude", m->items, &q.excl, &q.n_excl, &q.unknown_excl,
                                 &q.has_excl, err)))
    goto done;
  if (!q.user_id && !q.has_items) {
    rc = mx_error_set(err, MX_EINVAL, "field 'user' or 'items' is required");
    goto done;
  }
  if (q.user_id) q.user = mx__serve_model_user(gen, q.user_id); /* real id or pseudonym */
  if (q.has_cand && q.n_cand == 0) {
    rc = mx_error_set(err, MX_EINVAL, "field 'candidates': none of the %u ids is an item of the model",
                      q.unknown_cand);
    goto done;
  }
  if (q.has_excl || q.has_cand) {
    uint64_t words = mx_bitset_words(m->n_items);
    if (!(q.mask = calloc(words ? words : 1, sizeof *q.mask))) goto nomem;
    if (q.has_cand) {
      for (uint32_t x = 0; x < q.n_cand; x++) mx_bitset_set(q.mask, q.cand[x]);
    } else {
      memset(q.mask, 0xff, words * sizeof *q.mask);
    }
    for (uint32_t x = 0; x < q.n_excl; x++)
      q.mask[q.excl[x] >> 6] &= ~((uint64_t)1 << (q.excl[x] & 63));
  }
  ids = malloc((size_t)q.k * sizeof *ids);
  scores = malloc((size_t)q.k * sizeof *scores);
  if (!ids || !scores) goto nomem;
  mx_topk_options o = mx_topk_defaults();
  o.k = (uint32_t)q.k;
  o.include_seen = q.include_seen;
  o.item_mask = q.mask;
  o.threads = 1;
  o.cancel = req->cancel;
  if (q.user >= 0 && !q.has_items && !q.mask && !q.include_seen && !exact) {
    rc = batched_topk(srv, s, m, (uint32_t)q.user, (uint32_t)q.k, req->cancel, ids, scores, &count,
                      &bf16, err);
  } else if (q.user >= 0 && !q.has_items) {
    uint32_t u = (uint32_t)q.user;
    mx_topk_result *res = NULL;
    atomic_fetch_add(&s->solo, 1);
    rc = mx_topk_batch(m, &u, 1, &o, &res, err);
    if (rc == MX_OK) {
      count = res->count[0];
      memcpy(ids, res->ids, count * sizeof *ids);
      memcpy(scores, res->scores, count * sizeof *scores);
    }
    mx_topk_result_free(res);
  } else if (q.has_items && (q.n_items > 0 || q.user >= 0)) {
    /* a session: the user's training items (when known) and the recent ones, folded in */
    uint32_t n_hist = q.n_items;
    if (q.user >= 0) {
      uint64_t a = m->seen.indptr[q.user], e = m->seen.indptr[q.user + 1];
      uint32_t *h = realloc(q.items, ((size_t)q.n_items + (e - a) + 1) * sizeof *h);
      if (!h) goto nomem;
      q.items = h;
      for (uint64_t x = a; x < e; x++) q.items[n_hist++] = m->seen.indices[x];
    }
    q.n_items = n_hist;
    source = "session";
    mx_topk_result *res = NULL;
    atomic_fetch_add(&s->solo, 1);
    rc = mx_topk_history(m, q.items, NULL, q.n_items, s->gram, &o, &res, err);
    if (rc == MX_OK) {
      count = res->count[0];
      memcpy(ids, res->ids, count * sizeof *ids);
      memcpy(scores, res->scores, count * sizeof *scores);
    }
    mx_topk_result_free(res);
  } else if (s->unknown_popular) {
    source = "popular";
    atomic_fetch_add(&s->fallbacks, 1);
    count = popular_topk(s, &q, ids, scores);
  } else {
    reply->status = 404;
    rc = mx_error_set(err, MX_ENOTFOUND, "unknown user '%.200s'", q.user_id ? q.user_id : "");
    goto done;
  }
  if (rc == MX_EEMPTY) { /* nothing eligible after the filters: an empty list */
    rc = MX_OK;
    count = 0;
  }
  if (rc) goto done;
  const char *scan = strcmp(source, "popular") != 0 ? (bf16 ? "bf16" : "float") : NULL;
  if (!q.explain) {
    if (!(reply->text = reply_text(m, q.user_id, ids, scores, count, source, scan, q.unknown_items)))
      goto nomem;
    reply->content_type = "application/json";
    goto done;
  }
  json_t *list = item_list(m, ids, scores, count);
  out = json_object();
  if (!list || !out) {
    json_decref(list);
    goto nomem;
  }
  if (q.explain && strcmp(source, "popular") != 0 &&
      (rc = add_explanations(m, q.has_items ? -1 : q.user, q.items, q.n_items, ids, count,
                             (uint32_t)s->explain_top, list, req->cancel, err))) {
    json_decref(list);
    goto done;
  }
  if (q.user_id) json_object_set_new(out, "user", id_json(q.user_id));
  json_object_set_new(out, "items", list);
  json_object_set_new(out, "source", json_string(source));
  if (scan) json_object_set_new(out, "scan", json_string(scan));
  if (q.unknown_items) json_object_set_new(out, "unknown_items", json_integer(q.unknown_items));
  reply->body = out;
  out = NULL;
  goto done;
nomem:
  rc = mx_error_set(err, MX_ENOMEM, "out of memory");
done:
  json_decref(out);
  free(ids);
  free(scores);
  query_free(&q);
  atomic_fetch_sub(&s->active, 1);
  return rc;
}

/* Unit-length item vectors, made once per generation (first cosine request). */
static const float *item_norm(rec_state *s, const mx_model *m) {
  pthread_mutex_lock(&s->norm_lock);
  if (!s->item_norm) s->item_norm = mx_unit_rows(m->item_factors, m->n_items, m->factors);
  pthread_mutex_unlock(&s->norm_lock);
  return s->item_norm;
}

int mx__serve_similar(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                     mx_serve_reply *reply, mx_error *err) {
  (void)srv;
  const mx_model *m = gen->model;
  rec_state *s = gen->ext[MX_SERVE_EXT_RECOMMEND];
  if (!m) {
    reply->status = 503;
    return mx_error_set(err, MX_ESTATE, "no model is loaded (config 'model' / --model)");
  }
  const json_t *b = req->body;
  const char *item_id, *metric_s = NULL;
  char ibuf[32];
  long k, ef;
  int exact;
  uint32_t *cand = NULL, n_cand = 0, unknown = 0;
  int has_cand, rc;
  const json_t *mv = json_object_get(b, "metric");
  if ((rc = mx__serve_check_fields(b, "item k candidates metric exact ef", err)) ||
      (rc = mx__serve_get_id(b, "item", 1, ibuf, sizeof ibuf, &item_id, err)) ||
      (rc = mx__serve_get_int(b, "k", 10, 1, MAX_K, &k, err)) ||
      (rc = mx__serve_get_bool(b, "exact", (long)m->n_items < s->ann_min_items, &exact, err)) ||
      (rc = mx__serve_get_int(b, "ef", s->ef, 1, 100000, &ef, err)))
    return rc;
  if (mv && !json_is_null(mv)) {
    metric_s = json_string_value(mv);
    if (!metric_s || (strcmp(metric_s, "cosine") && strcmp(metric_s, "dot")))
      return mx_error_set(err, MX_EINVAL, "field 'metric': expected \"cosine\" or \"dot\"");
  }
  mx_similarity metric = metric_s && strcmp(metric_s, "dot") == 0 ? MX_SIM_DOT : MX_SIM_COSINE;
  int64_t it = mx_idmap_find(m->items, item_id, strlen(item_id));
  if (it < 0) return mx_error_set(err, MX_ENOTFOUND, "unknown item '%.200s'", item_id);
  if ((rc = mx__serve_get_id_list(b, "candidates", m->items, &cand, &n_cand, &unknown, &has_cand, err)))
    return rc;
  if (has_cand && n_cand == 0) {
    free(cand);
    return mx_error_set(err, MX_EINVAL, "field 'candidates': none of the ids is an item of the model");
  }
  mx_topk_options o = mx_topk_defaults();
  o.k = (uint32_t)k;
  o.threads = 1;
  o.candidates = cand;
  o.n_candidates = n_cand;
  o.cancel = req->cancel;
  uint32_t q = (uint32_t)it;
  mx_topk_result *res = NULL;
  int use_ann = s->ann && !exact && !has_cand &&
                mx_ann_get_metric(s->ann) == (metric == MX_SIM_DOT ? MX_ANN_DOT : MX_ANN_COSINE);
  if (use_ann) {
    rc = mx_ann_similar(m, s->ann, 0, &q, 1, metric, (uint32_t)ef, &o, &res, err);
  } else if (metric == MX_SIM_COSINE && m->item_factors) {
    /* cosine = the dot product of unit-length vectors, normalised once */
    const float *norm = item_norm(s, m);
    if (!norm) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    mx_model unit = *m; /* a view: the same model with the unit-length item vectors */
    unit.item_factors = (float *)norm;
    if (norm) rc = mx_similar_items(&unit, &q, 1, MX_SIM_DOT, &o, &res, err);
  } else {
    rc = mx_similar_items(m, &q, 1, metric, &o, &res, err);
  }
  atomic_fetch_add(use_ann ? &s->similar_ann : &s->similar_exact, 1);
  free(cand);
  if (rc == MX_EEMPTY) rc = MX_OK;
  else if (rc) return rc;
  json_t *list = res ? item_list(m, res->ids, res->scores, res->count[0]) : json_array();
  mx_topk_result_free(res);
  reply->body = list ? json_pack("{s:s, s:o, s:s}", "item", item_id, "items", list, "search",
                                 use_ann ? "hnsw" : "exact")
                     : NULL;
  return reply->body ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
}
