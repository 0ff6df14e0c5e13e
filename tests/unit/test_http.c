/* HTTP client and OpenAI-compatible embeddings/chat against a real server
 * (tests/net/fake_openai.py on 127.0.0.1), with injected faults. */
#include "testutil.h"
#include "fake_openai.h"

#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>

#include "merx/http.h"
#include "net/internal.h"
#include "util/util.h"

static fake_server srv;

static int setup(void **state) {
  (void)state;
  return fake_server_start(&srv);
}
static int teardown(void **state) {
  (void)state;
  fake_server_stop(&srv);
  return 0;
}

/* A config pointing at prefix (fault mode) with fast retries. */
static mx_http_config cfg_for(const char *prefix) {
  mx_http_config c = mx_http_config_defaults();
  snprintf(c.base_url, sizeof c.base_url, "http://127.0.0.1:%d/%s/v1", srv.port, prefix);
  strcpy(c.model, "fake-embed");
  c.backoff_base = 0.01;
  c.backoff_max = 2;
  c.max_retries = 2;
  c.timeout = 10;
  c.connect_timeout = 2;
  return c;
}

static size_t collect(char *p, size_t s, size_t n, void *ud) {
  char **buf = ud;
  size_t old = *buf ? strlen(*buf) : 0;
  *buf = realloc(*buf, old + s * n + 1);
  memcpy(*buf + old, p, s * n);
  (*buf)[old + s * n] = 0;
  return s * n;
}

/* GET /stats as JSON (caller decrefs). */
static json_t *stats(void) {
  char url[128], *buf = NULL;
  snprintf(url, sizeof url, "http://127.0.0.1:%d/stats", srv.port);
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &buf);
  assert_int_equal(curl_easy_perform(e), CURLE_OK);
  curl_easy_cleanup(e);
  json_t *j = json_loads(buf, 0, NULL);
  free(buf);
  assert_non_null(j);
  return j;
}
static long stat_int(const char *key) {
  json_t *j = stats();
  long v = (long)json_integer_value(json_object_get(j, key));
  json_decref(j);
  return v;
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    DIR *s = opendir(sub);
    if (s) {
      struct dirent *f;
      while ((f = readdir(s)))
        if (f->d_name[0] != '.') n++;
      closedir(s);
    }
  }
  closedir(d);
  return n;
}

static const char *texts[] = {"red metal lantern", "white hanging heart t-light holder",
                              "jumbo bag red retrospot", "regency cakestand 3 tier",
                              "party bunting", "red metal lantern", "assorted colour bird ornament"};
#define NTEXTS (sizeof texts / sizeof texts[0])

static void embed_ok(mx_http_config *c, float **v, uint32_t *dim, size_t *sent) {
  mx_http_client *cl;
  mx_error err;
  assert_int_equal(mx_http_client_create(c, &cl, &err), MX_OK);
  int rc = mx_openai_embed(cl, texts, NTEXTS, v, dim, sent, &err);
  if (rc) fail_msg("%s", err.message);
  mx_http_client_free(cl);
}

static int embed_fail(mx_http_config *c, mx_error *err) {
  mx_http_client *cl;
  assert_int_equal(mx_http_client_create(c, &cl, err), MX_OK);
  float *v = NULL;
  uint32_t dim;
  int rc = mx_openai_embed(cl, texts, NTEXTS, &v, &dim, NULL, err);
  assert_null(v);
  mx_http_client_free(cl);
  return rc;
}

static void test_embed_batches_order_and_dedupe(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  c.batch_size = 2;
  c.concurrency = 3;
  long before = stat_int("texts"), reqs = stat_int("embedding_requests");
  float *v;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  assert_int_equal(dim, 8);
  assert_int_equal(sent, NTEXTS - 1); /* "red metal lantern" twice, sent once */
  assert_int_equal(stat_int("texts") - before, NTEXTS - 1);
  assert_int_equal(stat_int("embedding_requests") - reqs, 3); /* ceil(6 / 2) */
  for (size_t i = 0; i < NTEXTS; i++) {
    double ss = 0;
    for (uint32_t j = 0; j < dim; j++) ss += (double)v[i * dim + j] * v[i * dim + j];
    assert_true(fabs(ss - 1) < 1e-4);
  }
  assert_memory_equal(v, v + 5 * dim, dim * sizeof *v);
  /* The server answers in reverse order: rows must still follow the inputs. */
  assert_true(memcmp(v, v + dim, dim * sizeof *v) != 0);
  float *w;
  c.batch_size = 100;
  embed_ok(&c, &w, &dim, &sent);
  assert_memory_equal(v, w, NTEXTS * dim * sizeof *v);
  free(v);
  free(w);
}

static void test_connection_reuse(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  c.batch_size = 1;
  c.concurrency = 1;
  long conns = stat_int("connections"), reqs = stat_int("embedding_requests");
  float *v;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  free(v);
  /* Six requests one after the other over one kept-alive connection. */
  assert_int_equal(stat_int("embedding_requests") - reqs, 6);
  assert_int_equal(stat_int("connections") - conns, 1);
  /* With three in flight at once, at most three connections. */
  c.concurrency = 3;
  conns = stat_int("connections");
  embed_ok(&c, &v, &dim, &sent);
  free(v);
  assert_true(stat_int("connections") - conns <= 3);
}

static void test_concurrent_batches(void **state) {
  (void)state;
  /* Three batches against a server that takes a second per answer: the
   * multi interface has all three in flight at once. */
  mx_http_config c = cfg_for("c1-slow1");
  c.batch_size = 2;
  c.concurrency = 3;
  float *v;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  free(v);
  json_t *j = stats();
  json_t *peak = json_object_get(json_object_get(j, "max_inflight"), "c1-slow1");
  assert_int_equal(json_integer_value(peak), 3);
  json_decref(j);
}

static void test_cache_rerun_sends_nothing(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  snprintf(c.cache_dir, sizeof c.cache_dir, "%s", tu_path("cache1"));
  float *v, *w;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  assert_int_equal(sent, NTEXTS - 1);
  assert_int_equal(count_files(c.cache_dir), NTEXTS - 1);
  long before = stat_int("texts");
  embed_ok(&c, &w, &dim, &sent);
  assert_int_equal(sent, 0);
  assert_int_equal(stat_int("texts"), before);
  assert_memory_equal(v, w, NTEXTS * dim * sizeof *v);
  free(w);
  /* Another model is another key: everything is sent again. */
  strcpy(c.model, "other-model");
  embed_ok(&c, &w, &dim, &sent);
  assert_int_equal(sent, NTEXTS - 1);
  free(v);
  free(w);
}

static void test_server_down(void **state) {
  (void)state;
  mx_http_config c = mx_http_config_defaults();
  snprintf(c.base_url, sizeof c.base_url, "http://127.0.0.1:%d/v1", closed_port());
  strcpy(c.model, "m");
  c.max_retries = 2;
  c.backoff_base = 0.01;
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "after 3 attempts"));
  assert_non_null(strstr(err.message, "onnect")); /* "Couldn't connect to server" */
}

static void test_slow_beyond_timeout(void **state) {
  (void)state;
  mx_http_config c = cfg_for("s1-slow3");
  c.timeout = 0.5;
  c.max_retries = 1;
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "imeout")); /* "Timeout was reached" */
  assert_non_null(strstr(err.message, "after 2 attempts"));
}

static void test_429_retry_after(void **state) {
  (void)state;
  mx_http_config c = cfg_for("r1-429x2");
  c.max_retries = 3;
  mx_http_client *cl;
  mx_error err;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  char url[600];
  snprintf(url, sizeof url, "%s/embeddings", c.base_url);
  mx_http_request r;
  memset(&r, 0, sizeof r);
  r.url = url;
  r.body = "{\"model\":\"m\",\"input\":[\"x\"]}";
  r.body_len = strlen(r.body);
  double t0 = mx__now_seconds();
  assert_int_equal(mx_http_perform(cl, &r, 1, &err), MX_OK);
  double secs = mx__now_seconds() - t0;
  assert_int_equal(r.attempts, 3);
  assert_int_equal(r.status, 200);
  /* Two answers said "Retry-After: 1"; the computed backoff is ~0.01 s, so
   * only honouring the header makes the call last this long (lower bound). */
  assert_true(secs >= 1.5);
  mx_http_request_clear(&r);
  mx_http_client_free(cl);
}

static void test_500_then_success(void **state) {
  (void)state;
  mx_http_config c = cfg_for("f1-500x1");
  float *v;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  assert_int_equal(dim, 8);
  free(v);
}

static void test_500_always_bounded(void **state) {
  (void)state;
  mx_http_config c = cfg_for("500");
  snprintf(c.cache_dir, sizeof c.cache_dir, "%s", tu_path("cache500"));
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "HTTP 500 after 3 attempts"));
  assert_int_equal(count_files(c.cache_dir), 0);
}

static void test_400_not_retried(void **state) {
  (void)state;
  mx_http_config c = cfg_for("400");
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "HTTP 400 after 1 attempt:"));
  assert_non_null(strstr(err.message, "model not found"));
}

static void test_malformed_json(void **state) {
  (void)state;
  mx_http_config c = cfg_for("badjson");
  snprintf(c.cache_dir, sizeof c.cache_dir, "%s", tu_path("cachebad"));
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "not valid JSON"));
  assert_int_equal(count_files(c.cache_dir), 0);
}

/* Found by fuzz_json: an entry without "index" took its position even when
 * an earlier entry had claimed it with an explicit index, leaving another
 * row of the batch unset (uninitialised floats handed to the caller). */
static void test_parse_embeddings_index_mix(void **state) {
  (void)state;
  const char *u = "http://h/v1/embeddings";
  const char *mixed = "{\"data\":[{\"index\":1,\"embedding\":[1,2]},{\"embedding\":[3,4]}]}";
  uint32_t dim = 0;
  float *v = NULL;
  mx_error err;
  mx_error_clear(&err);
  assert_int_equal(mx__openai_parse_embeddings(u, mixed, strlen(mixed), 2, 0, &dim, &v, &err),
                   MX_EFORMAT);
  assert_null(v);
  assert_non_null(strstr(err.message, "entry 1 has a missing, repeated or out-of-range"));
  /* explicit indexes in any order, and no indexes at all, still work */
  const char *swapped = "{\"data\":[{\"index\":1,\"embedding\":[1,2]},{\"index\":0,\"embedding\":[3,4]}]}";
  dim = 0;
  assert_int_equal(mx__openai_parse_embeddings(u, swapped, strlen(swapped), 2, 2, &dim, &v, &err),
                   MX_OK);
  assert_int_equal(dim, 2);
  assert_true(v[0] == 3 && v[1] == 4 && v[2] == 1 && v[3] == 2);
  free(v);
  const char *plain = "{\"data\":[{\"embedding\":[1,2]},{\"embedding\":[3,4]}]}";
  dim = 0;
  assert_int_equal(mx__openai_parse_embeddings(u, plain, strlen(plain), 2, 0, &dim, &v, &err), MX_OK);
  assert_true(v[0] == 1 && v[3] == 4);
  free(v);
  char *reply = NULL;
  const char *chat = "{\"choices\":[{\"message\":{\"content\":null}}]}";
  assert_int_equal(mx__openai_parse_chat(u, chat, strlen(chat), &reply, &err), MX_EFORMAT);
  assert_null(reply);
}

static void test_wrong_dimension(void **state) {
  (void)state;
  mx_http_config c = cfg_for("wrongdim");
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "wrong embedding dimension"));
  /* Configured dimensions that the server does not honour. */
  c = cfg_for("dim4");
  c.dimensions = 8;
  assert_int_equal(embed_fail(&c, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "has 4, expected 8"));
}

static void test_partial_batch(void **state) {
  (void)state;
  mx_http_config c = cfg_for("partial");
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "batch partially failed"));
  /* One of three batches fails: the good two are cached whole, the bad one
   * not at all, and a rerun sends only its texts. */
  c = cfg_for("p2-partial2");
  c.batch_size = 2;
  c.concurrency = 1; /* so "the second request" is a well-defined batch */
  snprintf(c.cache_dir, sizeof c.cache_dir, "%s", tu_path("cachepart"));
  assert_int_equal(embed_fail(&c, &err), MX_EFORMAT);
  assert_int_equal(count_files(c.cache_dir), 4);
  c = cfg_for("ok");
  snprintf(c.cache_dir, sizeof c.cache_dir, "%s", tu_path("cachepart"));
  float *v;
  uint32_t dim;
  size_t sent;
  embed_ok(&c, &v, &dim, &sent);
  assert_int_equal(sent, 2);
  free(v);
}

static void test_oversized_response(void **state) {
  (void)state;
  mx_http_config c = cfg_for("huge");
  c.max_response = 1 << 20;
  mx_error err;
  assert_int_equal(embed_fail(&c, &err), MX_ELIMIT);
  assert_non_null(strstr(err.message, "larger than 1048576 bytes"));
}

static void test_api_key(void **state) {
  (void)state;
  setenv("FAKE_OPENAI_KEY_T", "sk-secret-123", 1);
  mx_http_config c = cfg_for("auth");
  strcpy(c.key_env, "MERX_TEST_KEY_UNSET");
  unsetenv("MERX_TEST_KEY_UNSET");
  mx_http_client *cl;
  mx_error err;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "MERX_TEST_KEY_UNSET"));
  /* The server was started without FAKE_OPENAI_KEY, so it wants "Bearer ":
   * any real key is refused with 401, and the key never shows in the error. */
  strcpy(c.key_env, "FAKE_OPENAI_KEY_T");
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "HTTP 401"));
  assert_null(strstr(err.message, "sk-secret"));
}

static void test_chat(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  strcpy(c.chat_model, "fake-chat");
  mx_http_client *cl;
  mx_error err;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  mx_chat_message m[2] = {{"system", "You write short answers."}, {"user", "Where is my lantern?"}};
  char *reply;
  assert_int_equal(mx_openai_chat(cl, m, 2, 0.2, 50, &reply, &err), MX_OK);
  assert_string_equal(reply, "echo: Where is my lantern? | messages: 2 | system: 24 chars");
  free(reply);
  mx_http_client_free(cl);
  c = cfg_for("badjson");
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  assert_int_equal(mx_openai_chat(cl, m, 2, -1, 0, &reply, &err), MX_ENET);
  assert_null(reply);
  mx_http_client_free(cl);
}

static void test_post_json_allow_list(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  strcpy(c.allow_hosts[c.n_allow_hosts++], "127.0.0.1");
  mx_http_client *cl;
  mx_error err;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/hook", srv.port);
  long status;
  char *resp;
  assert_int_equal(mx_http_post_json(cl, url, "{\"event\":\"reorder\",\"sku\":\"85123A\"}", NULL,
                                     &status, &resp, &err), MX_OK);
  assert_int_equal(status, 200);
  assert_non_null(strstr(resp, "true"));
  free(resp);
  json_t *s = stats();
  json_t *hooks = json_object_get(s, "hooks");
  json_t *last = json_array_get(hooks, json_array_size(hooks) - 1);
  assert_string_equal(json_string_value(json_object_get(last, "sku")), "85123A");
  json_decref(s);
  snprintf(url, sizeof url, "http://localhost:%d/ok/hook", srv.port);
  assert_int_equal(mx_http_post_json(cl, url, "{}", NULL, &status, NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "'localhost' is not in the config's allow_hosts"));
  assert_int_equal(mx_http_post_json(cl, "file:///etc/passwd", "{}", NULL, &status, NULL, &err),
                   MX_EINVAL);
  mx_http_client_free(cl);
}

/* Hook requests the server received with this prefix: how many, and the
 * last one (*last, valid until *st is decref'd; *st may be NULL to skip). */
static int hook_requests_at(const char *prefix, json_t **st, json_t **last) {
  json_t *s = stats(), *h;
  size_t i;
  int n = 0;
  json_array_foreach(json_object_get(s, "hook_requests"), i, h) {
    if (strcmp(json_string_value(json_object_get(h, "prefix")), prefix) != 0) continue;
    n++;
    if (last) *last = h;
  }
  if (st) *st = s;
  else json_decref(s);
  return n;
}
static int hook_requests(const char *prefix) { return hook_requests_at(prefix, NULL, NULL); }

/* The last hook request with this prefix (caller decrefs *st). */
static json_t *last_hook(const char *prefix, json_t **st) {
  json_t *h = NULL;
  hook_requests_at(prefix, st, &h);
  assert_non_null(h);
  return h;
}

/* A client of c that may call webhooks on 127.0.0.1. */
static mx_http_client *hook_client(mx_http_config *c) {
  snprintf(c->allow_hosts[c->n_allow_hosts++], sizeof c->allow_hosts[0], "127.0.0.1");
  mx_http_client *cl;
  mx_error err;
  if (mx_http_client_create(c, &cl, &err) != MX_OK) fail_msg("%s", err.message);
  return cl;
}

/* POST body to the fake server's /PREFIX/hook (port 0: the server's). */
static int post_hook(mx_http_client *cl, int port, const char *prefix, const char *body,
                     const char *key, long *status, mx_error *err) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/hook", port ? port : srv.port, prefix);
  return mx_http_post_json(cl, url, body, key, status, NULL, err);
}

/* #14.5: a webhook that may have reached the receiver is never sent again
 * (a timed-out reorder hook became three purchase orders); failures before
 * the request left (connection refused) are still retried. */
static void test_webhook_not_resent(void **state) {
  (void)state;
  mx_http_config c = cfg_for("ok");
  c.timeout = 1;
  c.max_retries = 2;
  mx_http_client *cl = hook_client(&c);
  mx_error err;
  long status;
  assert_int_equal(post_hook(cl, 0, "w1-slow3", "{\"sku\":\"85123A\"}", "run-1.1", &status, &err), MX_ENET);
  assert_non_null(strstr(err.message, "after 1 attempt"));
  json_t *st, *last = last_hook("w1-slow3", &st);
  assert_int_equal(hook_requests("w1-slow3"), 1);
  assert_string_equal(json_string_value(json_object_get(last, "idempotency_key")), "run-1.1");
  json_decref(st);
  assert_int_equal(post_hook(cl, 0, "w2-500x1", "{}", NULL, &status, &err), MX_ENET);
  assert_int_equal(status, 500);
  assert_int_equal(hook_requests("w2-500x1"), 1);
  assert_int_equal(post_hook(cl, closed_port(), "w3", "{}", NULL, &status, &err), MX_ENET);
  assert_non_null(strstr(err.message, "after 3 attempts"));
  mx_http_client_free(cl);
}

/* #14.11: the LLM key went to every allow-listed webhook host. */
static void test_webhook_gets_no_llm_key(void **state) {
  (void)state;
  setenv("FAKE_LLM_KEY_T", "sk-llm-key-0001", 1);
  mx_http_config c = cfg_for("ok");
  strcpy(c.key_env, "FAKE_LLM_KEY_T");
  mx_http_client *cl = hook_client(&c);
  mx_error err;
  long status;
  assert_int_equal(post_hook(cl, 0, "k1", "{}", NULL, &status, &err), MX_OK);
  json_t *st, *h = last_hook("k1", &st);
  assert_true(json_is_null(json_object_get(h, "authorization")));
  json_decref(st);
  mx_http_client_free(cl);
}

/* #14.11: a webhook host gets its own configured credential, only it. */
static void test_webhook_credentials(void **state) {
  (void)state;
  setenv("FAKE_LLM_KEY_T", "sk-llm-key-0001", 1);
  setenv("HOOK_TOKEN_T", "hook-token-42", 1);
  char text[512];
  snprintf(text, sizeof text,
           "{\"base_url\": \"http://127.0.0.1:%d/ok/v1\", \"key_env\": \"FAKE_LLM_KEY_T\",\n"
           " \"allow_hosts\": [\"127.0.0.1\", \"localhost\"],\n"
           " \"webhook_credentials\": {\"127.0.0.1\": {\"key_env\": \"HOOK_TOKEN_T\", \"header\": \"X-Hook-Token\"},\n"
           "                         \"localhost\": {\"key_env\": \"HOOK_TOKEN_T\"}}}",
           srv.port);
  mx_http_config c = mx_http_config_defaults();
  mx_error err;
  assert_int_equal(mx_http_config_load(&c, tu_write("cred.json", text), &err), MX_OK);
  assert_int_equal(c.n_credentials, 2);
  mx_http_client *cl;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  char url[128];
  long status;
  assert_int_equal(post_hook(cl, 0, "k2", "{}", NULL, &status, &err), MX_OK);
  json_t *st, *h = last_hook("k2", &st);
  assert_true(json_is_null(json_object_get(h, "authorization")));
  assert_string_equal(json_string_value(json_object_get(h, "x_hook_token")), "hook-token-42");
  json_decref(st);
  /* Authorization defaults to the Bearer scheme. */
  snprintf(url, sizeof url, "http://localhost:%d/k3/hook", srv.port);
  assert_int_equal(mx_http_post_json(cl, url, "{}", NULL, &status, NULL, &err), MX_OK);
  h = last_hook("k3", &st);
  assert_string_equal(json_string_value(json_object_get(h, "authorization")), "Bearer hook-token-42");
  json_decref(st);
  /* An unset credential variable is an error naming it, nothing is sent. */
  unsetenv("HOOK_TOKEN_T");
  assert_int_equal(post_hook(cl, 0, "k4", "{}", NULL, &status, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "HOOK_TOKEN_T"));
  assert_int_equal(hook_requests("k4"), 0);
  mx_http_client_free(cl);
  /* A credential for a host that is not allowed, unknown keys, no key_env. */
  c = mx_http_config_defaults();
  assert_int_equal(mx_http_config_load(&c, tu_write("cred2.json",
                   "{\"webhook_credentials\": {\"hooks.example\": {\"key_env\": \"FAKE_LLM_KEY_T\"}}}"),
                   &err), MX_OK);
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "'hooks.example' is not in allow_hosts"));
  assert_int_equal(mx_http_config_load(&c, tu_write("cred3.json",
                   "{\"webhook_credentials\": {\"h\": {\"key_env\": \"X\", \"token\": \"abc\"}}}"),
                   &err), MX_EPARSE);
  assert_string_equal(err.field, "token");
  assert_int_equal(mx_http_config_load(&c, tu_write("cred4.json",
                   "{\"webhook_credentials\": {\"h\": {\"header\": \"X-Token\"}}}"), &err), MX_EPARSE);
  assert_string_equal(err.field, "key_env");
}

/* #14.12: a server that echoes the key must not put it in merx's messages
 * (stderr, run logs, the runs table): the key's bytes and bearer-shaped
 * tokens are redacted from every excerpt of an answer. */
static void test_echoed_key_redacted(void **state) {
  (void)state;
  char out[256];
  const char *shapes = "task-list sk-abcdef123 Bearer abc.def/ghi= sk-ab";
  mx__redact(shapes, strlen(shapes), out, sizeof out);
  assert_string_equal(out, "task-list sk-[redacted] Bearer [redacted] sk-ab");
  mx_error err;
  setenv("ECHO_KEY_T", "sk-echo-secret-123456", 1);
  mx_http_config c = cfg_for("echo");
  strcpy(c.key_env, "ECHO_KEY_T");
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_non_null(strstr(err.message, "HTTP 401"));
  assert_non_null(strstr(err.message, "Bearer [redacted]"));
  assert_null(strstr(err.message, "echo-secret"));
  /* a key of no known shape: its bytes */
  setenv("ECHO_KEY2_T", "plainsecretvalue42", 1);
  strcpy(c.key_env, "ECHO_KEY2_T");
  assert_int_equal(embed_fail(&c, &err), MX_ENET);
  assert_null(strstr(err.message, "plainsecretvalue42"));
  /* quoted from a 200 answer's error.message */
  c = cfg_for("echo200");
  strcpy(c.key_env, "ECHO_KEY2_T");
  assert_int_equal(embed_fail(&c, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "invalid api key: Bearer [redacted]"));
  assert_null(strstr(err.message, "plainsecretvalue42"));
  /* a webhook credential echoed back */
  setenv("HOOK_TOKEN2_T", "hooksecretzz9", 1);
  c = cfg_for("ok");
  mx_http_credential cr = {"127.0.0.1", "Authorization", "Token", "HOOK_TOKEN2_T"};
  c.credentials[c.n_credentials++] = cr;
  mx_http_client *cl = hook_client(&c);
  long status;
  assert_int_equal(post_hook(cl, 0, "h-echo", "{}", NULL, &status, &err), MX_ENET);
  assert_non_null(strstr(err.message, "HTTP 401"));
  assert_non_null(strstr(err.message, "Token [redacted]"));
  assert_null(strstr(err.message, "hooksecretzz9"));
  mx_http_client_free(cl);
}

/* #14.13: secrets go over TLS only, except to a loopback host or with an
 * explicit allow_insecure. */
static void test_plain_http_refused(void **state) {
  (void)state;
  setenv("FAKE_LLM_KEY_T", "sk-llm-key-0001", 1);
  mx_http_config c = mx_http_config_defaults();
  strcpy(c.model, "m");
  strcpy(c.key_env, "FAKE_LLM_KEY_T");
  mx_http_client *cl;
  mx_error err;
  static const char *refused[] = {"http://10.255.255.1:9/v1", "http://localhost.evil.com/v1",
                                  "http://127.0.0.1.nip.io/v1", "HTTP://llm.example/v1"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    snprintf(c.base_url, sizeof c.base_url, "%s", refused[i]);
    assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_EINVAL);
    assert_non_null(strstr(err.message, "plain http"));
    assert_non_null(strstr(err.message, "allow_insecure"));
  }
  static const char *fine[] = {"https://10.255.255.1/v1", "http://localhost:9/v1",
                               "http://127.1.2.3:9/v1", "http://[::1]:9/v1", "http://LOCALHOST/v1"};
  for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
    snprintf(c.base_url, sizeof c.base_url, "%s", fine[i]);
    if (mx_http_client_create(&c, &cl, &err) != MX_OK) fail_msg("%s: %s", fine[i], err.message);
    mx_http_client_free(cl);
  }
  snprintf(c.base_url, sizeof c.base_url, "http://10.255.255.1:9/v1");
  c.allow_insecure = 1;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  mx_http_client_free(cl);
  c.allow_insecure = 0;
  c.key_env[0] = 0; /* no key, nothing to protect */
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  mx_http_client_free(cl);
  /* a webhook credential is refused over plain http before anything is sent */
  setenv("HOOK_TOKEN3_T", "hook-token-3", 1);
  c = mx_http_config_defaults();
  c.connect_timeout = 1;
  c.max_retries = 0;
  strcpy(c.allow_hosts[c.n_allow_hosts++], "10.255.255.1");
  mx_http_credential cr = {"10.255.255.1", "Authorization", "Bearer", "HOOK_TOKEN3_T"};
  c.credentials[c.n_credentials++] = cr;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  long status;
  assert_int_equal(mx_http_post_json(cl, "http://10.255.255.1:9/hook", "{}", NULL, &status, NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "plain http"));
  mx_http_client_free(cl);
}

static int polls;
static int stop_after_polls(void *ud) {
  (void)ud;
  return ++polls > 3;
}

/* #14.6: a caller's deadline and stop flag end a call that the server would
 * answer (after 3 s, within the 10 s per-attempt timeout). */
static void test_caller_limits(void **state) {
  (void)state;
  mx_http_config c = cfg_for("l1-slow3");
  mx_http_client *cl;
  mx_error err;
  float *v = NULL;
  uint32_t dim;
  assert_int_equal(mx_http_client_create(&c, &cl, &err), MX_OK);
  mx_http_client_set_limit(cl, 0.5, NULL, NULL);
  assert_int_equal(mx_openai_embed(cl, texts, NTEXTS, &v, &dim, NULL, &err), MX_EINTERRUPTED);
  assert_non_null(strstr(err.message, "time limit"));
  mx_http_client_free(cl);
  c = cfg_for("l2-slow3");
  cl = hook_client(&c);
  mx_http_client_set_limit(cl, 0, stop_after_polls, NULL);
  long status;
  assert_int_equal(post_hook(cl, 0, "l2-slow3", "{}", NULL, &status, &err), MX_EINTERRUPTED);
  assert_non_null(strstr(err.message, "interrupted"));
  assert_true(polls > 3);
  mx_http_client_free(cl);
}

static void test_config_file_and_env(void **state) {
  (void)state;
  mx_http_config c = mx_http_config_defaults();
  mx_error err;
  const char *p = tu_write("llm.json",
                           "{\"base_url\": \"http://127.0.0.1:9/v1\", \"model\": \"e5\",\n"
                           " \"batch_size\": 16, \"timeout\": 2.5, \"allow_hosts\": [\"hooks.example\"]}\n");
  assert_int_equal(mx_http_config_load(&c, p, &err), MX_OK);
  assert_string_equal(c.model, "e5");
  assert_int_equal(c.batch_size, 16);
  assert_true(c.timeout == 2.5);
  assert_int_equal(c.n_allow_hosts, 1);
  assert_true(mx_http_host_allowed(&c, "https://HOOKS.example/x", NULL, 0));
  assert_false(mx_http_host_allowed(&c, "https://hooks.example.evil.com/x", NULL, 0));
  p = tu_write("bad.json", "{\"model\": \"e5\", \"api_key\": \"sk-x\"}");
  assert_int_equal(mx_http_config_load(&c, p, &err), MX_EPARSE);
  assert_string_equal(err.field, "api_key");
  p = tu_write("bad2.json", "{\"model\": \"e5\",\n \"batch_size\": -3}");
  assert_int_equal(mx_http_config_load(&c, p, &err), MX_EINVAL);
  /* found by fuzz_json: an int field past INT_MAX was converted (undefined) */
  p = tu_write("bad4.json", "{\"max_retries\": 3000000000}");
  assert_int_equal(mx_http_config_load(&c, p, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "max_retries"));
  p = tu_write("bad3.json", "{\"model\": \"e5\",\n \"batch_size\": }");
  assert_int_equal(mx_http_config_load(&c, p, &err), MX_EPARSE);
  assert_int_equal(err.line, 2);
  setenv("MERX_LLM_MODEL", "env-model", 1);
  setenv("MERX_LLM_BATCH", "8", 1);
  assert_int_equal(mx_http_config_from_env(&c, &err), MX_OK);
  assert_string_equal(c.model, "env-model");
  assert_int_equal(c.batch_size, 8);
  setenv("MERX_LLM_BATCH", "eight", 1);
  assert_int_equal(mx_http_config_from_env(&c, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "MERX_LLM_BATCH"));
  unsetenv("MERX_LLM_BATCH");
  unsetenv("MERX_LLM_MODEL");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_file_and_env),
      cmocka_unit_test(test_embed_batches_order_and_dedupe),
      cmocka_unit_test(test_connection_reuse),
      cmocka_unit_test(test_concurrent_batches),
      cmocka_unit_test(test_cache_rerun_sends_nothing),
      cmocka_unit_test(test_server_down),
      cmocka_unit_test(test_slow_beyond_timeout),
      cmocka_unit_test(test_429_retry_after),
      cmocka_unit_test(test_500_then_success),
      cmocka_unit_test(test_500_always_bounded),
      cmocka_unit_test(test_400_not_retried),
      cmocka_unit_test(test_malformed_json),
      cmocka_unit_test(test_wrong_dimension),
      cmocka_unit_test(test_parse_embeddings_index_mix),
      cmocka_unit_test(test_partial_batch),
      cmocka_unit_test(test_oversized_response),
      cmocka_unit_test(test_api_key),
      cmocka_unit_test(test_chat),
      cmocka_unit_test(test_post_json_allow_list),
      cmocka_unit_test(test_webhook_not_resent),
      cmocka_unit_test(test_webhook_gets_no_llm_key),
      cmocka_unit_test(test_webhook_credentials),
      cmocka_unit_test(test_echoed_key_redacted),
      cmocka_unit_test(test_plain_http_refused),
      cmocka_unit_test(test_caller_limits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
