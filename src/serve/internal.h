/* Internals shared by the files of src/serve/ (not for handler modules:
 * they use serve.h). */
#ifndef MERX_SERVE_INTERNAL_H
#define MERX_SERVE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "serve/serve.h"

/* Routes in routes.def order; MX_SERVE_ROUTE_OTHER counts unknown paths. */
enum {
#define MX_SERVE_ROUTE(method, path, fn, flags) MX_SERVE_ROUTE_INDEX_##fn,
#include "serve/routes.def"
#undef MX_SERVE_ROUTE
  MX_SERVE_ROUTE_OTHER,
  MX_SERVE_N_ROUTES
};

typedef struct mx_serve_route {
  const char *method, *path;
  mx_serve_handler fn;
  int flags;
} mx_serve_route;
extern const mx_serve_route mx__serve_routes[MX_SERVE_ROUTE_OTHER];

/* Statuses counted separately in /metrics; others go to the last slot. */
#define MX_SERVE_N_STATUS 12
extern const int mx__serve_statuses[MX_SERVE_N_STATUS];
/* Latency histogram bucket bounds (seconds); the last bucket is +Inf. */
#define MX_SERVE_N_BUCKETS 14
extern const double mx__serve_buckets[MX_SERVE_N_BUCKETS - 1];

typedef struct mx_serve_metrics_t {
  _Atomic uint64_t requests[MX_SERVE_N_ROUTES][MX_SERVE_N_STATUS];
  _Atomic uint64_t latency[MX_SERVE_N_ROUTES][MX_SERVE_N_BUCKETS];
  _Atomic uint64_t latency_us_sum[MX_SERVE_N_ROUTES];
  _Atomic uint64_t bytes_out;
  _Atomic int64_t in_flight;      /* requests started and not yet answered */
  /* per route: requests received whose handler has not finished (read by
   * the recommender's batcher to decide whether waiting is worth it) */
  _Atomic int64_t pending[MX_SERVE_N_ROUTES];
  _Atomic int64_t queued;         /* waiting for a handler thread */
  _Atomic uint64_t rejected_busy; /* 503: queue full */
  _Atomic uint64_t reloads_ok, reloads_failed;
  _Atomic int last_reload_ok;     /* 1 after a successful (re)load, 0 after a failed one */
  _Atomic double last_reload_time;
} mx_serve_metrics_t;

/* A watched file: what stat said when the generation was loaded. */
typedef struct mx_serve_watch {
  char *path;
  int exists;
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns;
} mx_serve_watch;

typedef struct mx_serve_job mx_serve_job;

struct mx_serve {
  /* fixed at start */
  char *config_path;
  mx_serve_options opt;    /* strings point at the copies below */
  char *opt_model, *opt_listen, *opt_token, *opt_store;
  char *store_dir;
  char address[300];
  int threads;             /* handler threads */
  int io_threads;
  int max_queue;
  size_t max_body;
  double timeout;          /* seconds per request */
  FILE *log;               /* events; borrowed */
  FILE *access;            /* access log; log, a file we own, or NULL */
  int owns_access;
  pthread_mutex_t log_lock;
  struct MHD_Daemon *mhd;
  int listen_fd;           /* returned by MHD_quiesce_daemon, closed after stop */
  /* the current generation */
  pthread_mutex_t gen_lock;
  mx_serve_gen *gen;
  char last_error[512];    /* of the last failed reload */
  uint64_t failed_signature; /* watched files' state at the last failed reload */
  /* handler threads and their queue */
  pthread_mutex_t q_lock;
  pthread_cond_t q_cond;
  mx_serve_job *q_head, *q_tail;
  int q_len;
  int idle;                /* handler threads waiting for work */
  int workers_stop;
  pthread_t *workers;
  int n_workers;
  /* shutdown */
  _Atomic int draining;              /* new requests get 503 */
  volatile sig_atomic_t cancel_all;  /* handlers' mx_cancel interrupt */
  mx_serve_metrics_t metrics;
};

/* server.c: a server without HTTP (no threads, no socket), and one
 * request run through it as a handler thread runs it (JSON parsing, the
 * current generation, the handler, the reply's encoding): for the fuzz
 * target. mx__serve_handle returns the status; *out (malloc'd) the body. */
int mx__serve_open(const mx_serve_options *opt, mx_serve **out, mx_error *err);
void mx__serve_close(mx_serve *s);
int mx__serve_handle(mx_serve *s, int route, const char *body, size_t len, char **out,
                     size_t *out_len);

/* gen.c */
int mx__serve_gen_load(mx_serve *s, mx_serve_gen **out, mx_error *err);
mx_serve_gen *mx__serve_gen_acquire(mx_serve *s);
void mx__serve_gen_release(mx_serve *s, mx_serve_gen *g);
/* 1 when any watched file differs from what the generation saw; *signature
 * summarises the files' current state. */
int mx__serve_gen_changed(const mx_serve_gen *g, uint64_t *signature);
/* Does the Authorization header value carry one of the generation's tokens? */
int mx__serve_gen_authorized(const mx_serve_gen *g, const char *authorization);

/* config.c: evaluate the config file into a JSON object. */
int mx__serve_config_load(const char *path, json_t **out, mx_error *err);
/* Top-level keys of the config: the framework's and every extension's. */
int mx__serve_config_check(const json_t *cfg, const char *path, mx_error *err);

/* metrics.c */
void mx__serve_metrics_count(mx_serve *s, int route, int status, double seconds, size_t bytes);

#endif
