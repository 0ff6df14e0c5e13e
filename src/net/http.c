/* HTTP transport over libcurl's multi interface: concurrent JSON POSTs with
 * connection reuse, per-attempt timeouts, and bounded retries with
 * exponential backoff and jitter that honour Retry-After.
 *
 * Backoff: attempt a (0-based) waits d = min(cap, base·2^a), drawn as
 * d/2 + U(0, d/2) — the "equal jitter" variant of AWS's "Exponential Backoff
 * and Jitter" (Brooker, 2015): never shorter than half the nominal wait, yet
 * clients that failed together do not retry together. A server's Retry-After
 * (RFC 9110 §10.2.3) replaces the computed wait, capped at the same limit. */
#include "merx/http.h"
#include "net/internal.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct mx_http_client {
  mx_http_config cfg;
  CURLM *multi;
  CURLSH *share; /* DNS cache shared by every handle of this client */
  CURL **easy;   /* one handle per concurrency slot, reused across requests */
  int n_easy;
  char *auth_header; /* "Authorization: Bearer ..." or NULL; never printed */
  mx_rng rng;
  double deadline;        /* mx__now_seconds() bound on every call; 0 = none */
  int (*stop)(void *ud);  /* polled while waiting; non-zero ends the call */
  void *stop_ud;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

mx_http_config mx_http_config_defaults(void) {
  mx_http_config c;
  memset(&c, 0, sizeof c);
  c.batch_size = 64;
  c.connect_timeout = 5;
  c.timeout = 60;
  c.max_retries = 4;
  c.backoff_base = 0.5;
  c.backoff_max = 30;
  c.concurrency = 4;
  c.max_response = (size_t)64 << 20;
  return c;
}

/* Split an http(s) URL: 1 and its host (as written, IPv6 in brackets) and
 * whether it is https; 0 for anything else. */
static int http_url_host(const char *url, char *host, size_t size, int *https) {
  if (size) host[0] = 0;
  CURLU *u = curl_url();
  char *h = NULL, *scheme = NULL;
  int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
  if (ok) {
    if (size) snprintf(host, size, "%s", h);
    *https = strcasecmp(scheme, "https") == 0;
  }
  curl_free(h);
  curl_free(scheme);
  curl_url_cleanup(u);
  return ok;
}

/* May a secret go to url? Yes over https, and over plain http only to a
 * loopback host (127.0.0.0/8, ::1, "localhost"), where nothing crosses a
 * network. *host gets the URL's host. */
static int secret_may_go_to(const char *url, char *host, size_t size) {
  int https = 0;
  if (!http_url_host(url, host, size, &https)) return 0;
  if (https) return 1;
  char bare[256];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') snprintf(bare, sizeof bare, "%.*s", (int)(n - 2), host + 1);
  else snprintf(bare, sizeof bare, "%s", host);
  struct in_addr a4;
  struct in6_addr a6;
  return strcasecmp(bare, "localhost") == 0 ||
         (inet_pton(AF_INET, bare, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
         (inet_pton(AF_INET6, bare, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
}

int mx_http_config_check(const mx_http_config *cfg, mx_error *err) {
  if (cfg->batch_size < 1 || cfg->batch_size > 100000)
    return mx_error_set(err, MX_EINVAL, "batch_size must be in 1..100000");
  if (!(cfg->connect_timeout > 0) || !(cfg->timeout > 0))
    return mx_error_set(err, MX_EINVAL, "timeouts must be positive");
  if (cfg->max_retries < 0 || cfg->max_retries > 20)
    return mx_error_set(err, MX_EINVAL, "max_retries must be in 0..20");
  if (cfg->backoff_base < 0 || cfg->backoff_max < 0)
    return mx_error_set(err, MX_EINVAL, "backoff times must not be negative");
  if (cfg->concurrency < 1 || cfg->concurrency > 64)
    return mx_error_set(err, MX_EINVAL, "concurrency must be in 1..64");
  if (cfg->max_response < 1024) return mx_error_set(err, MX_EINVAL, "max_response below 1 KiB");
  for (int i = 0; i < cfg->n_credentials; i++) {
    int listed = 0;
    for (int h = 0; h < cfg->n_allow_hosts; h++)
      listed |= strcasecmp(cfg->allow_hosts[h], cfg->credentials[i].host) == 0;
    if (!listed)
      return mx_error_set(err, MX_EINVAL, "webhook_credentials: host '%s' is not in allow_hosts",
                          cfg->credentials[i].host);
  }
  char host[256];
  if (cfg->key_env[0] && cfg->base_url[0] && !cfg->allow_insecure &&
      !secret_may_go_to(cfg->base_url, host, sizeof host))
    return mx_error_set(err, MX_EINVAL,
                        "refusing to send the API key (key_env %s) over plain http to '%s': use "
                        "https, a loopback host, or \"allow_insecure\": true in the config",
                        cfg->key_env, host);
  if (cfg->key_env[0]) {
    const char *k = getenv(cfg->key_env);
    if (!k || !*k)
      return mx_error_set(err, MX_EINVAL,
                          "environment variable %s (named by key_env) is not set or empty",
                          cfg->key_env);
  }
  return MX_OK;
}

int mx_http_client_create(const mx_http_config *cfg, mx_http_client **out, mx_error *err) {
  *out = NULL;
  int rc = mx_http_config_check(cfg, err);
  if (rc) return rc;
  pthread_once(&curl_once, curl_init_once);
  if (curl_init_rc != CURLE_OK)
    return mx_error_set(err, MX_ENET, "libcurl initialisation failed: %s",
                        curl_easy_strerror(curl_init_rc));
  mx_http_client *c = calloc(1, sizeof *c);
  if (!c) return mx_error_set(err, MX_ENOMEM, "out of memory");
  c->cfg = *cfg;
  c->multi = curl_multi_init();
  c->share = curl_share_init();
  c->n_easy = cfg->concurrency;
  c->easy = calloc((size_t)c->n_easy, sizeof *c->easy);
  if (!c->multi || !c->share || !c->easy) {
    mx_http_client_free(c);
    return mx_error_set(err, MX_ENOMEM, "out of memory creating the HTTP client");
  }
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  /* Connections live in the multi handle's pool, so every request of this
   * client may reuse any open connection; keep a few per host. */
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->n_easy);
  if (cfg->key_env[0]) {
    const char *k = getenv(cfg->key_env);
    size_t n = strlen(k) + 32;
    c->auth_header = malloc(n);
    if (!c->auth_header) {
      mx_http_client_free(c);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    snprintf(c->auth_header, n, "Authorization: Bearer %s", k);
    mx__secret_add(k);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  mx__rng_seed(&c->rng, (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec);
  *out = c;
  return MX_OK;
}

void mx_http_client_free(mx_http_client *c) {
  if (!c) return;
  for (int i = 0; c->easy && i < c->n_easy; i++)
    if (c->easy[i]) curl_easy_cleanup(c->easy[i]);
  free(c->easy);
  if (c->multi) curl_multi_cleanup(c->multi);
  if (c->share) curl_share_cleanup(c->share);
  if (c->auth_header) {
    /* Do not leave the key lying in freed memory. */
    mx__secure_zero(c->auth_header, strlen(c->auth_header));
    free(c->auth_header);
  }
  free(c);
}

const mx_http_config *mx_http_client_config(const mx_http_client *c) { return &c->cfg; }

void mx_http_client_set_limit(mx_http_client *c, double seconds, int (*stop)(void *ud), void *ud) {
  c->deadline = seconds > 0 ? mx__now_seconds() + seconds : 0;
  c->stop = stop;
  c->stop_ud = ud;
}

/* Why the caller's limits end a call now: NULL while they hold. */
static const char *limit_reached(const mx_http_client *c) {
  if (c->stop && c->stop(c->stop_ud)) return "stopped by its caller (interrupted)";
  if (c->deadline > 0 && mx__now_seconds() >= c->deadline) return "stopped: the time limit ran out";
  return NULL;
}

void mx_http_request_clear(mx_http_request *r) {
  if (!r) return;
  free(r->response);
  r->response = NULL;
  r->response_len = 0;
}

/* ------------------------------------------------------------ transfers */

typedef struct slot {
  CURL *easy;
  struct curl_slist *headers;
  mx_http_request *req;
  char *buf;
  size_t len, cap, max;
  int overflow;
  int busy;
  int cut; /* this attempt's timeouts were cut to the caller's deadline */
} slot;

typedef struct pending {
  mx_http_request *req;
  double not_before; /* monotonic time of the next attempt */
  int done;
} pending;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
  slot *s = userdata;
  size_t n = size * nmemb;
  if (s->len + n > s->max) {
    s->overflow = 1;
    return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
  }
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 16384;
    while (cap < s->len + n + 1) cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b) return 0;
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, ptr, n);
  s->len += n;
  s->buf[s->len] = 0;
  return n;
}

static double backoff_wait(mx_http_client *c, int attempt, long retry_after) {
  double cap = c->cfg.backoff_max;
  if (retry_after >= 0) return (double)retry_after < cap ? (double)retry_after : cap;
  double d = c->cfg.backoff_base;
  for (int i = 0; i < attempt && d < cap; i++) d *= 2;
  if (d > cap) d = cap;
  return d / 2 + mx__rng_uniform(&c->rng) * d / 2;
}

/* Failures where nothing of the request can have reached the server: the
 * name did not resolve or no connection was made (a timeout counts only
 * when no connection was ever established). */
static int failed_before_sending(CURL *e, CURLcode cc) {
  if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY ||
      cc == CURLE_COULDNT_CONNECT)
    return 1;
  curl_off_t connect_us = 0;
  return cc == CURLE_OPERATION_TIMEDOUT &&
         curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK &&
         connect_us == 0;
}

static int transport_retryable(CURLcode cc) {
  switch (cc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return 1;
  default:
    return 0;
  }
}

void mx__http_error_excerpt(const char *body, size_t len, char *out, size_t size) {
  if (size == 0) return;
  /* Redact before cutting, so a secret across the cut cannot leave its
   * first half behind. 4 KiB of body covers the 200 bytes shown and any
   * secret that starts inside them. */
  static const size_t window = 4096;
  char clean[3 * 4096];
  size_t n = mx__redact(body, len < window ? len : window, clean, sizeof clean);
  size_t j = 0;
  for (size_t i = 0; i < n && j + 4 < size && i < 200; i++) {
    unsigned char ch = (unsigned char)clean[i];
    out[j++] = (ch < 32 || ch == 127) ? ' ' : (char)ch;
  }
  if ((n > 200 || len > window) && j + 4 < size) out[j++] = '.', out[j++] = '.', out[j++] = '.';
  out[j] = 0;
}

/* Is url base itself or below it ("BASE/...", "BASE?...")? */
static int url_under(const char *base, const char *url) {
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/') n--;
  return n > 0 && strncmp(url, base, n) == 0 && (url[n] == 0 || url[n] == '/' || url[n] == '?');
}

/* Append line to *list; -1 (list unchanged) when memory ran out. */
static int add_header(struct curl_slist **list, const char *line) {
  struct curl_slist *h = curl_slist_append(*list, line);
  if (!h) return -1;
  *list = h;
  return 0;
}

static int slot_start(mx_http_client *c, slot *s, mx_http_request *r, mx_error *err) {
  if (!s->easy) {
    s->easy = curl_easy_init();
    if (!s->easy) return mx_error_set(err, MX_ENOMEM, "curl_easy_init failed");
  } else {
    curl_easy_reset(s->easy);
  }
  CURL *e = s->easy;
  s->req = r;
  s->len = 0;
  s->overflow = 0;
  s->max = c->cfg.max_response;
  if (s->buf) s->buf[0] = 0;
  /* Headers are the request's own: a webhook never carries the LLM key. */
  curl_slist_free_all(s->headers);
  s->headers = NULL;
  int bad = add_header(&s->headers, "Content-Type: application/json") |
            add_header(&s->headers, "Accept: application/json");
  if (c->auth_header && !r->once && url_under(c->cfg.base_url, r->url))
    bad |= add_header(&s->headers, c->auth_header);
  for (size_t i = 0; r->headers && r->headers[i]; i++) bad |= add_header(&s->headers, r->headers[i]);
  if (bad) return mx_error_set(err, MX_ENOMEM, "out of memory");
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
  /* Each attempt gets its own timeouts, cut to what the caller has left. */
  double total = c->cfg.timeout, connect = c->cfg.connect_timeout;
  s->cut = 0;
  if (c->deadline > 0) {
    double left = c->deadline - mx__now_seconds();
    if (left < 0.001) left = 0.001;
    if (connect > left) connect = left, s->cut = 1;
    if (total > left) total = left, s->cut = 1;
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect * 1000) + 1);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(total * 1000) + 1);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, c->share);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "merx/" MERX_VERSION);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  if (r->once) {
    /* On a reused connection that dies before an answer, libcurl resends
     * the request by itself; a fresh connection rules that out. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  }
  if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
    return mx_error_set(err, MX_ENET, "curl_multi_add_handle failed");
  s->busy = 1;
  r->attempts++;
  return MX_OK;
}

/* Can a retry after wait seconds start before the caller's deadline? */
static int retry_in_time(const mx_http_client *c, double wait) {
  return c->deadline <= 0 || mx__now_seconds() + wait < c->deadline;
}

/* Judge a finished attempt. Returns 1 when it should be retried (with *wait
 * set), 0 when the request is finished (r->rc set). */
static int slot_finish(mx_http_client *c, slot *s, CURLcode cc, double *wait) {
  mx_http_request *r = s->req;
  long status = 0;
  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
  r->status = status;
  int retries_left = r->attempts <= c->cfg.max_retries;
  const char *why = limit_reached(c);
  if (!why && cc == CURLE_OPERATION_TIMEDOUT && s->cut) why = "stopped: the time limit ran out";
  if (why && !(cc == CURLE_OK && status >= 200 && status < 300)) {
    r->rc = mx_error_set(&r->err, MX_EINTERRUPTED, "%s: %s (after %d attempt%s)", r->url, why,
                         r->attempts, r->attempts == 1 ? "" : "s");
    return 0;
  }
  if (cc != CURLE_OK) {
    if (s->overflow) {
      r->rc = mx_error_set(&r->err, MX_ELIMIT, "%s: response larger than %zu bytes, refused",
                           r->url, c->cfg.max_response);
      return 0;
    }
    int retryable = r->once ? failed_before_sending(s->easy, cc) : transport_retryable(cc);
    if (retryable && retries_left) {
      *wait = backoff_wait(c, r->attempts - 1, -1);
      if (retry_in_time(c, *wait)) return 1;
    }
    r->rc = mx_error_set(&r->err, MX_ENET, "%s: %s (after %d attempt%s%s)", r->url,
                         curl_easy_strerror(cc), r->attempts, r->attempts == 1 ? "" : "s",
                         retryable && retries_left ? "; no time left for a retry" : "");
    return 0;
  }
  if (status >= 200 && status < 300) {
    r->response = s->buf ? s->buf : mx__strdup("");
    r->response_len = s->len;
    s->buf = NULL;
    s->cap = s->len = 0;
    if (!r->response) {
      r->rc = mx_error_set(&r->err, MX_ENOMEM, "out of memory");
      return 0;
    }
    r->rc = MX_OK;
    return 0;
  }
  int retryable = (status == 429 || status >= 500) && retries_left && !r->once;
  if (retryable) {
    curl_off_t ra = -1;
    if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK) ra = -1;
    /* curl reports 0 when the header is absent. */
    *wait = backoff_wait(c, r->attempts - 1, ra > 0 ? (long)ra : -1);
    if (retry_in_time(c, *wait)) return 1;
  }
  char ex[256];
  mx__http_error_excerpt(s->buf ? s->buf : "", s->len, ex, sizeof ex);
  r->rc = mx_error_set(&r->err, MX_ENET, "%s: HTTP %ld after %d attempt%s%s%s%s", r->url, status,
                       r->attempts, r->attempts == 1 ? "" : "s",
                       retryable ? " (no time left for a retry)" : "", ex[0] ? ": " : "", ex);
  return 0;
}

int mx_http_perform(mx_http_client *c, mx_http_request *reqs, size_t n, mx_error *err) {
  if (n == 0) return MX_OK;
  pending *p = calloc(n, sizeof *p);
  slot *slots = calloc((size_t)c->n_easy, sizeof *slots);
  if (!p || !slots) {
    free(p);
    free(slots);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    reqs[i].status = 0;
    reqs[i].attempts = 0;
    reqs[i].response = NULL;
    reqs[i].response_len = 0;
    reqs[i].rc = MX_OK;
    mx_error_clear(&reqs[i].err);
    p[i].req = &reqs[i];
  }
  for (int k = 0; k < c->n_easy; k++) slots[k].easy = c->easy[k];
  size_t remaining = n, next_scan = 0;
  int rc = MX_OK;
  while (remaining > 0 && rc == MX_OK) {
    const char *why = limit_reached(c);
    if (why) {
      /* The caller's time or patience is over: end what is in flight or
       * waiting for a retry (in-flight transfers are removed below). */
      for (size_t i = 0; i < n; i++) {
        if (p[i].done) continue;
        mx_http_request *r = p[i].req;
        r->rc = mx_error_set(&r->err, MX_EINTERRUPTED, "%s: %s (after %d attempt%s)", r->url,
                             why, r->attempts, r->attempts == 1 ? "" : "s");
        p[i].done = 1;
      }
      break;
    }
    double now = mx__now_seconds(), soonest = -1;
    /* Fill free slots with requests whose wait is over. */
    for (int k = 0; k < c->n_easy && rc == MX_OK; k++) {
      if (slots[k].busy) continue;
      for (size_t m = 0; m < n; m++) {
        size_t i = (next_scan + m) % n;
        if (p[i].done || p[i].not_before < 0) continue;
        if (p[i].not_before > now) {
          if (soonest < 0 || p[i].not_before < soonest) soonest = p[i].not_before;
          continue;
        }
        rc = slot_start(c, &slots[k], p[i].req, err);
        p[i].not_before = -1; /* in flight */
        next_scan = i + 1;
        break;
      }
    }
    if (rc) break;
    int running = 0;
    curl_multi_perform(c->multi, &running);
    CURLMsg *msg;
    int left, completed = 0;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      slot *s = NULL;
      for (int k = 0; k < c->n_easy; k++)
        if (slots[k].busy && slots[k].easy == msg->easy_handle) s = &slots[k];
      if (!s) continue;
      CURLcode cc = msg->data.result;
      curl_multi_remove_handle(c->multi, s->easy);
      s->busy = 0;
      completed = 1;
      double wait = 0;
      size_t idx = (size_t)(s->req - reqs);
      if (slot_finish(c, s, cc, &wait)) {
        p[idx].not_before = mx__now_seconds() + wait;
      } else {
        p[idx].done = 1;
        remaining--;
      }
    }
    if (remaining == 0) break;
    if (completed) continue; /* slots were freed: refill before sleeping */
    int any_busy = 0, any_free = 0;
    for (int k = 0; k < c->n_easy; k++) {
      any_busy |= slots[k].busy;
      any_free |= !slots[k].busy;
    }
    /* Sleep in curl until a socket is ready or the next retry is due. */
    long ms = c->stop ? 100 : 1000; /* poll the stop flag at least every 0.1 s */
    if (any_free && soonest >= 0) {
      double d = (soonest - mx__now_seconds()) * 1000;
      ms = d <= 0 ? 0 : d > ms ? ms : (long)d + 1;
    }
    if (any_busy) {
      curl_multi_poll(c->multi, NULL, 0, (int)ms, NULL);
    } else if (ms > 0) {
      struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  /* Keep the easy handles (and their connections) for the next call. */
  for (int k = 0; k < c->n_easy; k++) {
    if (slots[k].busy) curl_multi_remove_handle(c->multi, slots[k].easy);
    c->easy[k] = slots[k].easy;
    curl_slist_free_all(slots[k].headers);
    free(slots[k].buf);
  }
  if (rc == MX_OK) {
    for (size_t i = 0; i < n; i++)
      if (reqs[i].rc != MX_OK) {
        rc = reqs[i].rc;
        if (err) *err = reqs[i].err;
        break;
      }
  }
  free(p);
  free(slots);
  return rc;
}

/* ------------------------------------------------------------ webhooks */

int mx_http_host_allowed(const mx_http_config *cfg, const char *url, char *host,
                         size_t host_size) {
  char h[256];
  int https, ok = 0;
  if (host_size) host[0] = 0;
  if (!http_url_host(url, h, sizeof h, &https)) return 0;
  if (host_size) snprintf(host, host_size, "%s", h);
  for (int i = 0; i < cfg->n_allow_hosts; i++)
    if (strcasecmp(cfg->allow_hosts[i], h) == 0) ok = 1;
  return ok;
}

int mx_http_post_json(mx_http_client *c, const char *url, const char *body,
                      const char *idempotency_key, long *status, char **response,
                      mx_error *err) {
  if (response) *response = NULL;
  if (status) *status = 0;
  char host[256];
  if (!mx_http_host_allowed(&c->cfg, url, host, sizeof host)) {
    if (!host[0]) return mx_error_set(err, MX_EINVAL, "not an http(s) URL: '%s'", url);
    return mx_error_set(err, MX_EINVAL, "host '%s' is not in the config's allow_hosts", host);
  }
  char key_header[300];
  const char *headers[3] = {NULL, NULL, NULL};
  int nh = 0;
  if (idempotency_key) {
    if (strlen(idempotency_key) > 255 || strpbrk(idempotency_key, "\r\n"))
      return mx_error_set(err, MX_EINVAL, "invalid idempotency key (one line, at most 255 bytes)");
    snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", idempotency_key);
    headers[nh++] = key_header;
  }
  /* The host's own credential, never the LLM key. */
  char *cred = NULL;
  const mx_http_credential *cr = NULL;
  for (int i = 0; i < c->cfg.n_credentials; i++)
    if (strcasecmp(c->cfg.credentials[i].host, host) == 0) cr = &c->cfg.credentials[i];
  char where[256];
  if (cr && !c->cfg.allow_insecure && !secret_may_go_to(url, where, sizeof where))
    return mx_error_set(err, MX_EINVAL,
                        "refusing to send the webhook credential of host '%s' over plain http: use "
                        "https, or \"allow_insecure\": true in the config", host);
  if (cr) {
    const char *secret = getenv(cr->key_env);
    if (!secret || !*secret || strpbrk(secret, "\r\n"))
      return mx_error_set(err, MX_EINVAL,
                          "webhook credential of host '%s': environment variable %s is not set, "
                          "empty or not one line", host, cr->key_env);
    mx__secret_add(secret);
    size_t n = strlen(cr->header) + strlen(cr->scheme) + strlen(secret) + 4;
    if (!(cred = malloc(n))) return mx_error_set(err, MX_ENOMEM, "out of memory");
    snprintf(cred, n, "%s: %s%s%s", cr->header, cr->scheme, cr->scheme[0] ? " " : "", secret);
    headers[nh++] = cred;
  }
  mx_http_request r;
  memset(&r, 0, sizeof r);
  r.url = url;
  r.body = body;
  r.body_len = strlen(body);
  r.once = 1;
  r.headers = headers;
  int rc = mx_http_perform(c, &r, 1, err);
  if (cred) {
    mx__secure_zero(cred, strlen(cred));
    free(cred);
  }
  if (status) *status = r.status;
  if (rc == MX_OK && response) {
    *response = r.response;
    r.response = NULL;
  }
  mx_http_request_clear(&r);
  return rc;
}
