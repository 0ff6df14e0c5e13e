/* The HTTP server: libmicrohttpd I/O threads, a pool of handler threads, the
 * route table, limits, authentication, the access log and graceful stop
 * (serve.h describes a request's life).
 *
 * Why suspend/resume: a handler may wait (the recommender gathers requests
 * into one matrix product, a decision waits for a Lua state), so handlers
 * do not run on the I/O threads. The access callback suspends the
 * connection and queues the request; a handler thread answers it and
 * resumes the connection; the I/O thread then sends the reply. The number
 * of handler threads is the concurrency limit; the queue in front of them is
 * bounded (503 + Retry-After beyond it). */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve/internal.h"
#include "util/util.h"

const mx_serve_route mx__serve_routes[MX_SERVE_ROUTE_OTHER] = {
#define MX_SERVE_ROUTE(method, path, fn, flags) {method, path, fn, flags},
#include "serve/routes.def"
#undef MX_SERVE_ROUTE
};

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_THREADS 32
#define DEFAULT_MAX_QUEUE 1024
#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_TIMEOUT 10.0

enum { REQ_RECEIVING = 0, REQ_QUEUED = 1, REQ_DONE = 2 };

/* One request (MHD's per-request context). */
struct mx_serve_job {
  mx_serve *srv;
  struct MHD_Connection *conn;
  mx_serve_job *next;
  int route;        /* index into mx__serve_routes, or MX_SERVE_ROUTE_OTHER */
  int state;
  double t0;        /* monotonic arrival of the headers (latency) */
  double received;  /* the whole body is in: the time limit starts here */
  char *body;
  size_t len, cap;
  int too_big;
  /* the answer */
  int status;
  char *out;        /* malloc'd */
  size_t out_len;
  const char *content_type;
  int retry_after;
  int close;        /* ask the client to close the connection */
  int pending;      /* counted in metrics.pending[route] */
  char method[8];
  char path[96];    /* for the access log (cut) */
};

void mx__serve_no_metrics(const void *state, FILE *out) {
  (void)state;
  (void)out;
}

const char *mx__serve_address(const mx_serve *srv) { return srv->address; }
const char *mx__serve_store_dir(const mx_serve *srv) { return srv->store_dir; }

static void format_utc(char *buf, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%.20s.%03dZ", date, (int)(ts.tv_nsec / 1000000) % 1000);
}

void mx__serve_log(mx_serve *srv, const char *fmt, ...) {
  if (!srv->log) return;
  char when[40], msg[1024];
  format_utc(when, sizeof when);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&srv->log_lock);
  fprintf(srv->log, "%s merx serve: %s\n", when, msg);
  fflush(srv->log);
  pthread_mutex_unlock(&srv->log_lock);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
  mx_serve *s = cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && msg[n - 1] == '\n') msg[--n] = '\0';
  mx__serve_log(s, "libmicrohttpd: %s", msg);
}

/* ------------------------------------------------------------ replies */

static void set_text(mx_serve_job *j, int status, char *text, const char *ctype) {
  free(j->out);
  j->status = status;
  j->out = text;
  j->out_len = text ? strlen(text) : 0;
  j->content_type = ctype;
}

/* {"error": msg} with status. */
static void set_error(mx_serve_job *j, int status, const char *msg) {
  json_t *o = json_pack("{s:s}", "error", msg);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!text) text = mx__strdup("{\"error\":\"out of memory\"}");
  set_text(j, status, text, "application/json");
}

static int status_of(int code) {
  switch (code) {
  case MX_EINVAL:
  case MX_EPARSE:
    return 400;
  case MX_ENOTFOUND:
    return 404;
  case MX_ELIMIT:
    return 504;
  case MX_EINTERRUPTED:
  case MX_ESTATE:
    return 503;
  case MX_ENET:
    return 502;
  default:
    return 500;
  }
}

static enum MHD_Result send_reply(struct MHD_Connection *c, mx_serve_job *j) {
  if (!j->out) set_error(j, 500, "no reply");
  struct MHD_Response *r =
      MHD_create_response_from_buffer(j->out_len, j->out, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", j->content_type ? j->content_type : "application/json");
  if (j->retry_after > 0) {
    char ra[16];
    snprintf(ra, sizeof ra, "%d", j->retry_after);
    MHD_add_response_header(r, "Retry-After", ra);
  }
  if (j->status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
  if (j->close) MHD_add_response_header(r, "Connection", "close");
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)j->status, r);
  MHD_destroy_response(r);
  return ok;
}

static void not_pending(mx_serve *s, mx_serve_job *j) {
  if (!j->pending) return;
  j->pending = 0;
  atomic_fetch_sub(&s->metrics.pending[j->route], 1);
}

static enum MHD_Result reply_now(struct MHD_Connection *c, mx_serve_job *j, int status,
                                 const char *msg) {
  not_pending(j->srv, j);
  set_error(j, status, msg);
  j->state = REQ_DONE;
  return send_reply(c, j);
}

/* -------------------------------------------------------- the handlers */

/* Run the request's handler (on a handler thread). */
static void run_job(mx_serve *s, mx_serve_job *j) {
  const mx_serve_route *rt = &mx__serve_routes[j->route];
  mx_error err;
  mx_error_clear(&err);
  if (mx__now_seconds() - j->received > s->timeout) {
    j->retry_after = 1;
    set_error(j, 503, "the request waited past the time limit for a free handler");
    return;
  }
  json_t *body = NULL;
  if (!(rt->flags & MX_SERVE_NOBODY)) {
    json_error_t je;
    body = json_loadb(j->body ? j->body : "", j->len, JSON_REJECT_DUPLICATES, &je);
    if (!body) {
      char msg[400];
      snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", je.line, je.column,
               je.text);
      set_error(j, 400, msg);
      return;
    }
    if (!json_is_object(body)) {
      json_decref(body);
      set_error(j, 400, "the request body must be a JSON object");
      return;
    }
  }
  mx_serve_gen *g = mx__serve_gen_acquire(s);
  if (!g) {
    json_decref(body);
    set_error(j, 503, "no model loaded");
    return;
  }
  mx_cancel cancel = {j->received + s->timeout, &s->cancel_all};
  mx_serve_request req = {rt->method, rt->path, body, &cancel};
  mx_serve_reply reply = {0, NULL, NULL, NULL, 0};
  int rc = rt->fn(s, g, &req, &reply, &err);
  if (rc == MX_OK && mx_cancel_check(&cancel, "the request", &err) != MX_OK) rc = err.code;
  if (rc != MX_OK) {
    set_error(j, reply.status ? reply.status : status_of(rc), err.message[0] ? err.message : mx_strerror(rc));
    json_decref(reply.body);
    free(reply.text);
  } else if (reply.text) {
    set_text(j, reply.status ? reply.status : 200, reply.text,
             reply.content_type ? reply.content_type : "text/plain; charset=utf-8");
    json_decref(reply.body);
  } else {
    char *text = reply.body ? json_dumps(reply.body, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(reply.body);
    if (text) set_text(j, reply.status ? reply.status : 200, text, "application/json");
    else set_error(j, 500, "could not encode the reply");
  }
  j->retry_after = reply.retry_after;
  mx__serve_gen_release(s, g);
  json_decref(body);
}

static void *worker_main(void *arg) {
  mx_serve *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->q_lock);
    s->idle++;
    while (!s->q_head && !s->workers_stop) pthread_cond_wait(&s->q_cond, &s->q_lock);
    s->idle--;
    mx_serve_job *j = s->q_head;
    if (!j) {
      pthread_mutex_unlock(&s->q_lock);
      return NULL;
    }
    s->q_head = j->next;
    if (!s->q_head) s->q_tail = NULL;
    s->q_len--;
    pthread_mutex_unlock(&s->q_lock);
    atomic_fetch_sub(&s->metrics.queued, 1);
    run_job(s, j);
    not_pending(s, j);
    j->state = REQ_DONE;
    MHD_resume_connection(j->conn);
  }
}

/* --------------------------------------------------- the I/O callbacks */

static int find_route(const char *method, const char *url, int *method_ok) {
  *method_ok = 0;
  for (int i = 0; i < MX_SERVE_ROUTE_OTHER; i++)
    if (strcmp(mx__serve_routes[i].path, url) == 0) {
      if (strcmp(mx__serve_routes[i].method, method) == 0) {
        *method_ok = 1;
        return i;
      }
    }
  for (int i = 0; i < MX_SERVE_ROUTE_OTHER; i++)
    if (strcmp(mx__serve_routes[i].path, url) == 0) return i;
  return MX_SERVE_ROUTE_OTHER;
}

/* Checks that need only the headers: answered at once, before any body is
 * read (an unauthenticated or oversized upload is never buffered). */
static int check_headers(mx_serve *s, struct MHD_Connection *c, mx_serve_job *j, const char *method,
                         int method_ok, const char **msg) {
  if (atomic_load(&s->draining)) {
    j->close = 1;
    j->retry_after = 1;
    *msg = "shutting down";
    return 503;
  }
  if (j->route == MX_SERVE_ROUTE_OTHER) {
    *msg = "no such endpoint";
    return 404;
  }
  if (!method_ok) {
    *msg = strcmp(mx__serve_routes[j->route].method, "POST") == 0 ? "use POST" : "use GET";
    return 405;
  }
  const mx_serve_route *rt = &mx__serve_routes[j->route];
  if (!(rt->flags & MX_SERVE_PUBLIC)) {
    mx_serve_gen *g = mx__serve_gen_acquire(s);
    int ok = !g || mx__serve_gen_authorized(
                       g, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
    mx__serve_gen_release(s, g);
    if (!ok) {
      *msg = "missing or invalid bearer token";
      return 401;
    }
  }
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
  if (cl) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno || end == cl || n > s->max_body) {
      j->close = 1;
      *msg = "request body too large";
      return 413;
    }
  }
  (void)method;
  return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  mx_serve *s = cls;
  mx_serve_job *j = *con_cls;
  if (!j) {
    j = calloc(1, sizeof *j);
    if (!j) return MHD_NO;
    j->srv = s;
    j->conn = c;
    j->t0 = mx__now_seconds();
    snprintf(j->method, sizeof j->method, "%s", method);
    snprintf(j->path, sizeof j->path, "%s", url);
    *con_cls = j;
    atomic_fetch_add(&s->metrics.in_flight, 1);
    int method_ok;
    j->route = find_route(method, url, &method_ok);
    j->pending = 1;
    atomic_fetch_add(&s->metrics.pending[j->route], 1);
    const char *msg = NULL;
    int st = check_headers(s, c, j, method, method_ok, &msg);
    if (st) return reply_now(c, j, st, msg);
    return MHD_YES;
  }
  if (j->state == REQ_DONE) return send_reply(c, j);
  if (*upload_size) {
    if (!j->too_big && j->len + *upload_size > s->max_body) {
      j->too_big = 1;
      free(j->body);
      j->body = NULL;
      j->len = j->cap = 0;
    }
    if (!j->too_big) {
      if (j->len + *upload_size + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 1024;
        while (cap < j->len + *upload_size + 1) cap *= 2;
        char *b = realloc(j->body, cap);
        if (!b) return MHD_NO;
        j->body = b;
        j->cap = cap;
      }
      memcpy(j->body + j->len, upload, *upload_size);
      j->len += *upload_size;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  /* the whole request is in */
  if (j->too_big) {
    j->close = 1;
    return reply_now(c, j, 413, "request body too large");
  }
  j->received = mx__now_seconds();
  pthread_mutex_lock(&s->q_lock);
  /* requests that would wait for a handler: those queued beyond the idle ones */
  if (s->q_len + 1 - s->idle > s->max_queue) {
    pthread_mutex_unlock(&s->q_lock);
    atomic_fetch_add(&s->metrics.rejected_busy, 1);
    j->retry_after = 1;
    return reply_now(c, j, 503, "server busy: too many requests waiting");
  }
  j->state = REQ_QUEUED;
  MHD_suspend_connection(c);
  if (s->q_tail) s->q_tail->next = j;
  else s->q_head = j;
  s->q_tail = j;
  s->q_len++;
  atomic_fetch_add(&s->metrics.queued, 1);
  pthread_cond_signal(&s->q_cond);
  pthread_mutex_unlock(&s->q_lock);
  return MHD_YES;
}

/* After the reply is sent (or the connection dropped): access log, metrics. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  mx_serve *s = cls;
  mx_serve_job *j = *con_cls;
  if (!j) return;
  *con_cls = NULL;
  double secs = mx__now_seconds() - j->t0;
  int status = j->status ? j->status : 499; /* 499: the client went away first */
  if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && j->status == 0) status = 499;
  not_pending(s, j);
  mx__serve_metrics_count(s, j->route, status, secs, j->out_len);
  if (s->access) {
    char when[40];
    format_utc(when, sizeof when);
    pthread_mutex_lock(&s->log_lock);
    fprintf(s->access, "%s %s %s %d %zu %lld\n", when, j->method, j->path, status, j->out_len,
            (long long)(secs * 1e6));
    fflush(s->access);
    pthread_mutex_unlock(&s->log_lock);
  }
  free(j->body);
  free(j->out);
  free(j);
  atomic_fetch_sub(&s->metrics.in_flight, 1);
}

/* ------------------------------------------------------- start / stop */

static int cfg_int(const json_t *cfg, const char *path, const char *key, long def, long lo, long hi,
                   long *out, mx_error *err) {
  json_t *v = json_object_get(cfg, key);
  if (!v) {
    *out = def;
    return MX_OK;
  }
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, key, "'%s' must be an integer in [%ld, %ld]", key,
                       lo, hi);
  *out = (long)json_integer_value(v);
  return MX_OK;
}

static int cfg_number(const json_t *cfg, const char *path, const char *key, double def, double lo,
                      double hi, double *out, mx_error *err) {
  json_t *v = json_object_get(cfg, key);
  if (!v) {
    *out = def;
    return MX_OK;
  }
  if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, key, "'%s' must be a number in [%g, %g]", key, lo,
                       hi);
  *out = json_number_value(v);
  return MX_OK;
}

/* Settings fixed for the life of the process, from the first generation. */
static int read_settings(mx_serve *s, const mx_serve_gen *g, mx_error *err) {
  const json_t *cfg = g->config;
  const char *path = s->config_path ? s->config_path : "(flags)";
  long threads = 0, io = 0, queue = 0, body = 0;
  double timeout = 0;
  int rc;
  if ((rc = cfg_int(cfg, path, "threads", DEFAULT_THREADS, 1, 1024, &threads, err)) ||
      (rc = cfg_int(cfg, path, "io_threads", 1, 1, 64, &io, err)) ||
      (rc = cfg_int(cfg, path, "max_queue", DEFAULT_MAX_QUEUE, 0, 1000000, &queue, err)) ||
      (rc = cfg_int(cfg, path, "max_body", DEFAULT_MAX_BODY, 1, 1L << 30, &body, err)) ||
      (rc = cfg_number(cfg, path, "timeout", DEFAULT_TIMEOUT, 0.001, 3600, &timeout, err)))
    return rc;
  s->threads = (int)threads;
  s->io_threads = (int)io;
  s->max_queue = (int)queue;
  s->max_body = (size_t)body;
  s->timeout = timeout;
  const json_t *st = json_object_get(cfg, "store");
  const char *store = st ? json_string_value(st) : getenv("MERX_STORE");
  if (store && *store) {
    s->store_dir = st ? mx__serve_path(g, store) : mx__strdup(store);
    if (!s->store_dir) return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  const json_t *al = json_object_get(cfg, "access_log");
  if (!al || json_is_false(al) == 0) {
    const char *p = al ? json_string_value(al) : "-";
    if (strcmp(p, "-") == 0) {
      s->access = s->log;
    } else {
      char *full = mx__serve_path(g, p);
      if (!full) return mx_error_set(err, MX_ENOMEM, "out of memory");
      s->access = fopen(full, "a");
      if (!s->access) {
        rc = mx_error_at(err, MX_EIO, path, 0, 0, "access_log", "cannot open %s: %s", full,
                         strerror(errno));
        free(full);
        return rc;
      }
      free(full);
      s->owns_access = 1;
    }
  }
  return MX_OK;
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *sa, int *v6, mx_error *err) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen || !colon[1])
    return mx_error_set(err, MX_EINVAL, "listen '%s': expected HOST:PORT, e.g. 127.0.0.1:8080",
                        listen);
  size_t hl = (size_t)(colon - listen);
  if (listen[0] == '[' && colon[-1] == ']') listen++, hl -= 2;
  if (hl >= sizeof host) return mx_error_set(err, MX_EINVAL, "listen '%s': host too long", listen);
  memcpy(host, listen, hl);
  host[hl] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535)
    return mx_error_set(err, MX_EINVAL, "listen: '%s' is not a port number", colon + 1);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host, colon + 1, &hints, &res);
  if (gai != 0 || !res)
    return mx_error_set(err, MX_EINVAL, "listen: cannot resolve '%s': %s", host,
                        gai ? gai_strerror(gai) : "no address");
  memcpy(sa, res->ai_addr, res->ai_addrlen);
  *v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  return MX_OK;
}

static void free_server(mx_serve *s) {
  if (!s) return;
  mx__serve_gen_release(s, s->gen);
  if (s->owns_access && s->access) fclose(s->access);
  free(s->config_path);
  free(s->opt_model);
  free(s->opt_listen);
  free(s->opt_token);
  free(s->opt_store);
  free(s->store_dir);
  free(s->workers);
  pthread_mutex_destroy(&s->log_lock);
  pthread_mutex_destroy(&s->gen_lock);
  pthread_mutex_destroy(&s->q_lock);
  pthread_cond_destroy(&s->q_cond);
  free(s);
}

static void stop_workers(mx_serve *s) {
  pthread_mutex_lock(&s->q_lock);
  s->workers_stop = 1;
  pthread_cond_broadcast(&s->q_cond);
  pthread_mutex_unlock(&s->q_lock);
  for (int i = 0; i < s->n_workers; i++) pthread_join(s->workers[i], NULL);
  s->n_workers = 0;
}

int mx__serve_open(const mx_serve_options *opt, mx_serve **out, mx_error *err) {
  *out = NULL;
  mx_serve *s = calloc(1, sizeof *s);
  if (!s) return mx_error_set(err, MX_ENOMEM, "out of memory");
  pthread_mutex_init(&s->log_lock, NULL);
  pthread_mutex_init(&s->gen_lock, NULL);
  pthread_mutex_init(&s->q_lock, NULL);
  pthread_cond_init(&s->q_cond, NULL);
  s->listen_fd = -1;
  s->opt = *opt;
  s->log = opt->log;
  int rc;
  if ((opt->config_path && !(s->config_path = mx__strdup(opt->config_path))) ||
      (opt->model_path && !(s->opt_model = mx__strdup(opt->model_path))) ||
      (opt->listen && !(s->opt_listen = mx__strdup(opt->listen))) ||
      (opt->token_file && !(s->opt_token = mx__strdup(opt->token_file))) ||
      (opt->store_dir && !(s->opt_store = mx__strdup(opt->store_dir)))) {
    free_server(s);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  mx_serve_gen *g = NULL;
  if ((rc = mx__serve_gen_load(s, &g, err))) {
    free_server(s);
    return rc;
  }
  g->number = 1;
  s->gen = g;
  if ((rc = read_settings(s, g, err))) {
    free_server(s);
    return rc;
  }
  *out = s;
  return MX_OK;
}

void mx__serve_close(mx_serve *s) { free_server(s); }

int mx__serve_handle(mx_serve *s, int route, const char *body, size_t len, char **out,
                     size_t *out_len) {
  mx_serve_job j;
  memset(&j, 0, sizeof j);
  j.srv = s;
  j.route = route;
  j.body = (char *)body; /* only read */
  j.len = len;
  j.t0 = j.received = mx__now_seconds();
  run_job(s, &j);
  *out = j.out;
  *out_len = j.out_len;
  return j.status;
}

int mx__serve_start(const mx_serve_options *opt, mx_serve **out, mx_error *err) {
  *out = NULL;
  mx_serve *s;
  int rc = mx__serve_open(opt, &s, err);
  if (rc) return rc;
  mx_serve_gen *g = s->gen;
  const json_t *lv = json_object_get(g->config, "listen");
  const char *listen = lv ? json_string_value(lv) : DEFAULT_LISTEN;
  struct sockaddr_storage sa;
  int v6 = 0;
  if ((rc = parse_listen(listen, &sa, &v6, err))) {
    free_server(s);
    return rc;
  }
  s->workers = calloc((size_t)s->threads, sizeof *s->workers);
  if (!s->workers) {
    free_server(s);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (int i = 0; i < s->threads; i++) {
    if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
      stop_workers(s);
      free_server(s);
      return mx_error_set(err, MX_ENOMEM, "cannot start handler threads");
    }
    s->n_workers++;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG | MHD_USE_TURBO;
  if (v6) flags |= MHD_USE_IPv6;
  /* one I/O thread unless asked: parsing HTTP is cheap next to scoring */
  struct MHD_OptionItem pool[] = {
      {s->io_threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
       (intptr_t)s->io_threads, NULL},
      {MHD_OPTION_END, 0, NULL}};
  s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_ARRAY, pool,
                            MHD_OPTION_END);
  if (!s->mhd) {
    int e = errno;
    stop_workers(s);
    free_server(s);
    return mx_error_set(err, MX_EIO, "cannot listen on %s: %s", listen,
                        e ? strerror(e) : "libmicrohttpd failed to start");
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  unsigned port = info ? info->port : 0;
  char host[INET6_ADDRSTRLEN] = "?";
  if (v6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
  else inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
  snprintf(s->address, sizeof s->address, v6 ? "[%s]:%u" : "%s:%u", host, port);
  atomic_store(&s->metrics.last_reload_ok, 1);
  atomic_store(&s->metrics.last_reload_time, g->loaded_at);
  *out = s;
  return MX_OK;
}

int mx__serve_reload(mx_serve *s, mx_error *err) {
  mx_serve_gen *g = NULL;
  uint64_t sig = 0;
  mx_serve_gen *cur = mx__serve_gen_acquire(s);
  if (cur) mx__serve_gen_changed(cur, &sig);
  int rc = mx__serve_gen_load(s, &g, err);
  if (rc) {
    char buf[MX_ERROR_MESSAGE_MAX + 600];
    mx_error_format(err, buf, sizeof buf);
    snprintf(s->last_error, sizeof s->last_error, "%.500s", buf);
    s->failed_signature = sig;
    atomic_fetch_add(&s->metrics.reloads_failed, 1);
    atomic_store(&s->metrics.last_reload_ok, 0);
    mx__serve_log(s, "reload failed, still serving generation %llu: %s",
                 (unsigned long long)(cur ? cur->number : 0), buf);
    mx__serve_gen_release(s, cur);
    return rc;
  }
  pthread_mutex_lock(&s->gen_lock);
  mx_serve_gen *old = s->gen;
  g->number = old ? old->number + 1 : 1;
  s->gen = g;
  pthread_mutex_unlock(&s->gen_lock);
  s->last_error[0] = '\0';
  s->failed_signature = 0;
  atomic_fetch_add(&s->metrics.reloads_ok, 1);
  atomic_store(&s->metrics.last_reload_ok, 1);
  atomic_store(&s->metrics.last_reload_time, g->loaded_at);
  mx__serve_log(s, "reloaded: generation %llu in %.3f s%s%s%s", (unsigned long long)g->number,
               g->load_seconds, g->model_path ? " (model " : "", g->model_path ? g->model_path : "",
               g->model_path ? ")" : "");
  mx__serve_gen_release(s, old); /* the server's reference; in-flight requests keep theirs */
  mx__serve_gen_release(s, cur);
  return MX_OK;
}

int mx__serve_poll_files(mx_serve *s) {
  mx_serve_gen *cur = mx__serve_gen_acquire(s);
  uint64_t sig = 0;
  int changed = cur && mx__serve_gen_changed(cur, &sig);
  mx__serve_gen_release(s, cur);
  if (!changed || (s->failed_signature && sig == s->failed_signature)) return 0;
  mx_error err;
  mx_error_clear(&err);
  mx__serve_log(s, "a watched file changed: reloading");
  mx__serve_reload(s, &err);
  return 1;
}

void mx__serve_stop(mx_serve *s, double drain_seconds) {
  if (!s) return;
  atomic_store(&s->draining, 1);
  if (s->mhd) s->listen_fd = MHD_quiesce_daemon(s->mhd);
  double t0 = mx__now_seconds();
  /* in-flight requests finish; past the drain time they are cancelled */
  while (atomic_load(&s->metrics.in_flight) > 0) {
    if (mx__now_seconds() - t0 > drain_seconds) s->cancel_all = 1;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (mx__now_seconds() - t0 > drain_seconds + 2) break;
  }
  if (s->mhd) MHD_stop_daemon(s->mhd);
  if (s->listen_fd >= 0) close(s->listen_fd);
  stop_workers(s);
  free_server(s);
}
