/* merx serve — the HTTP service framework (internal API of src/serve/).
 *
 * One process serves JSON endpoints over HTTP/1.1 (libmicrohttpd). What it
 * serves from — the configuration, the model, and every handler module's own
 * state (a Lua state pool, a product index, a chat setup) — is one immutable
 * *generation* (mx_serve_gen). A reload (SIGHUP, or a watched file changing)
 * builds a complete new generation beside the current one and swaps the
 * pointer; each request holds a reference to the generation it started on, so
 * in-flight requests finish on the old one, which is freed when its last
 * request ends. A failed load keeps the old generation (the log and /metrics
 * say so).
 *
 * Request life: libmicrohttpd's I/O threads read the request (bodies over
 * max_body are refused with 413 as they arrive), check the bearer token (401)
 * and the route (404/405), then hand the request to a pool of handler threads
 * (`threads`, the concurrency limit; when max_queue requests already wait,
 * 503 with Retry-After). A handler thread parses the JSON body (400 naming
 * the position), takes a reference to the current generation, runs the
 * handler with a deadline (`timeout`) and sends its reply.
 *
 * ---- Adding an endpoint (for handler modules such as serveapps) ----
 * 1. Write a handler (signature mx_serve_handler below) in src/serve/NAME.c.
 * 2. Append one line to src/serve/routes.def:
 *        MX_SERVE_ROUTE("POST", "/v1/decide", mx__serve_decide, 0)
 *    (the function is declared for you from that line; flags below).
 * 3. If the handler needs per-generation state (loaded at start and on every
 *    reload, freed when the last request using it ends), append a line to
 *    src/serve/ext.def:
 *        MX_SERVE_EXT(DECIDE, "decide", mx__serve_decide_load, mx__serve_decide_free, NULL)
 *    which gives the index MX_SERVE_EXT_DECIDE, claims the top-level config
 *    key "decide" (space-separated list: several keys may be claimed), and
 *    declares
 *        int  LOAD(mx_serve_gen *gen, void **state, mx_error *err);
 *        void FREE(void *state);
 *        void METRICS(const void *state, FILE *out);   (optional: NULL)
 *    LOAD reads gen->config (json; relative paths resolve with
 *    mx__serve_path), may call mx__serve_gen_watch(gen, path) for files whose
 *    change should trigger a reload, and stores its state; the handler finds
 *    it in gen->ext[MX_SERVE_EXT_DECIDE]. LOAD runs after the model is loaded
 *    (gen->model), extensions in ext.def order; FREE runs in reverse order.
 *    METRICS appends Prometheus text lines to /metrics (mx__serve_no_metrics
 *    when the module has none).
 * Handlers run concurrently on many threads: state in a generation is shared
 * and read-only unless the extension locks it itself.
 */
#ifndef MERX_SERVE_SERVE_H
#define MERX_SERVE_SERVE_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "merx/error.h"
#include "merx/model.h"

typedef struct mx_serve mx_serve;
typedef struct mx_serve_gen mx_serve_gen;

/* Extension indices, one per line of ext.def. */
enum {
#define MX_SERVE_EXT(NAME, keys, load, free_fn, metrics) MX_SERVE_EXT_##NAME,
#include "serve/ext.def"
#undef MX_SERVE_EXT
  MX_SERVE_EXT_COUNT
};

/* One loaded, immutable generation. Reference-counted by the framework;
 * handlers and extensions only read it. */
struct mx_serve_gen {
  uint64_t number;          /* 1 for the first load, +1 per successful reload */
  json_t *config;           /* the whole configuration as JSON (owned) */
  char *config_dir;         /* directory of the config file ("" = none) */
  const char *config_path;  /* the config file as given; NULL: flags only */
  mx_model *model;          /* the recommender (config `model`); NULL when none */
  char *model_path;         /* as resolved; NULL when none */
  char model_fingerprint[17]; /* 16 hex digits of a hash of the model file's bytes */
  /* The store's key (store.key of config `store` / --store / MERX_STORE, or
   * MERX_STORE_KEY), NULL without one: user ids in requests are real ids,
   * hashed with it where what they are looked up in holds pseudonyms
   * (PRIVACY.md). A model whose ids are pseudonyms of another key, or
   * without a key at hand, fails the load. */
  struct mx_hmac_key *user_key;
  double loaded_at;         /* Unix time the generation finished loading */
  double load_seconds;      /* how long the load took */
  void *ext[MX_SERVE_EXT_COUNT + 1]; /* each extension's state (+1: never zero-sized) */
  /* framework-private below */
  int refs;                 /* under the server's generation lock */
  int n_watch;
  struct mx_serve_watch *watch;
  int n_tokens;             /* bearer tokens (SHA-256 digests, hex) from token_file */
  char (*tokens)[65];
};

/* What a handler sees of its request. */
typedef struct mx_serve_request {
  const char *method;       /* "GET", "POST" */
  const char *path;         /* the route's path */
  const json_t *body;       /* parsed JSON body (an object); NULL for requests without one */
  const mx_cancel *cancel;  /* this request's deadline; pass it to long calls */
} mx_serve_request;

/* A handler's answer: status (0 = 200) and a JSON body (owned by the reply;
 * the framework frees it), or text (malloc'd, owned) with content_type. On
 * an error return the body is replaced by {"error": message}. retry_after
 * (seconds, > 0) adds a Retry-After header. */
typedef struct mx_serve_reply {
  int status;
  json_t *body;
  char *text;
  const char *content_type; /* static string; default "application/json" */
  int retry_after;
} mx_serve_reply;

/* A handler returns MX_OK (reply filled) or an MX_E* code with err set; the
 * status of an error is reply->status when set, else from the code:
 * MX_EINVAL/MX_EPARSE 400, MX_ENOTFOUND 404, MX_ELIMIT 504, MX_EINTERRUPTED
 * and MX_ESTATE 503, MX_ENET 502, anything else 500. */
typedef int (*mx_serve_handler)(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                                mx_serve_reply *reply, mx_error *err);

/* Route flags (routes.def): */
enum {
  MX_SERVE_PUBLIC = 1, /* no bearer token needed (/healthz, for load balancers) */
  MX_SERVE_NOBODY = 2  /* a GET without a JSON body */
};

/* Handler declarations from the route table. */
#define MX_SERVE_ROUTE(method, path, fn, flags)                                               \
  int fn(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req, mx_serve_reply *reply,  \
         mx_error *err);
#include "serve/routes.def"
#undef MX_SERVE_ROUTE

/* Extension callbacks from the extension table. */
#define MX_SERVE_EXT(NAME, keys, load, free_fn, metrics)                                      \
  int load(mx_serve_gen *gen, void **state, mx_error *err);                                   \
  void free_fn(void *state);                                                                  \
  void metrics(const void *state, FILE *out);
#include "serve/ext.def"
#undef MX_SERVE_EXT

/* ------------------------------------------------------------ options
 * What `merx serve` starts with. The config file (when given) is evaluated
 * by mx__serve_config_load into JSON; flags override its keys. */
typedef struct mx_serve_options {
  const char *config_path;  /* NULL: flags only */
  /* flag overrides (NULL / 0 = from the config, or the default) */
  const char *model_path;
  const char *listen;       /* "HOST:PORT"; default 127.0.0.1:8080 */
  const char *token_file;
  const char *store_dir;
  int threads;              /* handler threads; default 32 */
  FILE *log;                /* access and event log (e.g. stderr); NULL: none */
} mx_serve_options;

/* Start serving: load the first generation and listen. On error nothing is
 * left running. *out is freed by mx__serve_stop. */
int mx__serve_start(const mx_serve_options *opt, mx_serve **out, mx_error *err);
/* "HOST:PORT" actually bound (port 0 resolved). */
const char *mx__serve_address(const mx_serve *srv);
/* Load a new generation and swap it in; on failure the old one stays, the
 * failure is logged and counted in /metrics, and the error returned. */
int mx__serve_reload(mx_serve *srv, mx_error *err);
/* Reload when a watched file (config, model, extension files) changed since
 * the current generation was loaded. Returns 1 when a reload was attempted. */
int mx__serve_poll_files(mx_serve *srv);
/* Graceful stop: stop accepting, let in-flight requests finish (at most
 * drain_seconds), close, free everything. Accepts NULL. */
void mx__serve_stop(mx_serve *srv, double drain_seconds);

/* ------------------------------------------------ helpers for handlers */
/* Index of a request's user id in the served model (gen->model not NULL):
 * the id as given, else, for a model whose ids are pseudonyms, its
 * pseudonym under gen->user_key; -1 when the model does not know it. */
int64_t mx__serve_model_user(const mx_serve_gen *gen, const char *id);
/* A METRICS callback that writes nothing. */
void mx__serve_no_metrics(const void *state, FILE *out);
/* The generation's store folder (config `store` / --store, else MERX_STORE),
 * malloc'd into *dir (NULL: none); MX_ENOMEM when out of memory. */
int mx__serve_gen_store(const mx_serve_gen *g, char **dir);
/* The configured store folder (config `store` / --store), or NULL. */
const char *mx__serve_store_dir(const mx_serve *srv);
/* The event log line (timestamped; thread-safe): "reload failed: ...". */
void mx__serve_log(mx_serve *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* path resolved against the config file's directory (absolute paths kept);
 * malloc'd, NULL on out of memory. */
char *mx__serve_path(const mx_serve_gen *gen, const char *path);
/* Rewrite err (from the field getters below, used on a config section)
 * to name the config file and the key: "serve.lua: key 'SECTION.batch':
 * expected ...". Returns err->code. */
int mx__serve_config_error(const mx_serve_gen *gen, const char *section, mx_error *err);
/* Watch path: a change of its size, mtime or inode triggers a reload. */
int mx__serve_gen_watch(mx_serve_gen *gen, const char *path, mx_error *err);
/* An HNSW index (merx/ann.h) over vec (n x dim) for an extension's state,
 * watched: path is the config value (a string: that file, which must load;
 * false: none), or NULL for the file beside the vectors (beside), used when
 * it exists and fits them (a stale or corrupt one is skipped). *out NULL:
 * no index. */
struct mx_ann;
int mx__serve_gen_ann(mx_serve_gen *gen, const json_t *path, const char *beside, const float *vec,
                     uint32_t n, uint32_t dim, const char *vectors_name, struct mx_ann **out,
                     mx_error *err);

/* Request body fields. Each returns MX_OK, or MX_EINVAL with "field 'NAME':
 * expected ..." in err (the client gets 400 naming the field). */
/* Refuse keys of obj not in known (space-separated), with a did-you-mean. */
int mx__serve_check_fields(const json_t *obj, const char *known, mx_error *err);
/* An integer in [lo, hi]; def when absent or null. */
int mx__serve_get_int(const json_t *obj, const char *name, long def, long lo, long hi, long *out,
                     mx_error *err);
int mx__serve_get_bool(const json_t *obj, const char *name, int def, int *out, mx_error *err);
/* A string or a number written as an id ("17850" for 17850); NULL when
 * absent (required: MX_EINVAL). Borrowed from obj (numbers: from buf). */
int mx__serve_get_id(const json_t *obj, const char *name, int required, char *buf, size_t size,
                    const char **out, mx_error *err);
/* A list of ids (strings or integers) mapped through map: known indices in
 * *ids (malloc'd, caller frees), unknown ones counted in *unknown. NULL
 * field: *ids = NULL, *n = 0, *present = 0. */
int mx__serve_get_id_list(const json_t *obj, const char *name, const mx_idmap *map, uint32_t **ids,
                         uint32_t *n, uint32_t *unknown, int *present, mx_error *err);

#endif
