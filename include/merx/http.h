/* merx — HTTP services: an OpenAI-compatible client (embeddings, chat) and
 * JSON webhooks, over libcurl.
 *
 * Works with any server that speaks the OpenAI REST shapes (vLLM, llama.cpp's
 * server, Ollama, hosted APIs):
 *   POST {base_url}/embeddings        {"model", "input": [texts], "dimensions"?}
 *   POST {base_url}/chat/completions  {"model", "messages": [{role, content}]}
 *
 * Transport rules (src/net/http.c):
 *   - one libcurl multi handle per client: connections are reused across
 *     requests, and a batch of requests runs concurrently (cfg.concurrency);
 *   - connect and total timeouts per attempt;
 *   - 429, 5xx and transport failures (refused, reset, timed out) are retried
 *     at most cfg.max_retries times, waiting base·2^attempt seconds with "equal
 *     jitter" (half fixed, half random), or what the server's Retry-After says
 *     (capped at cfg.backoff_max);
 *   - a webhook (a request with `once` set, as mx_http_post_json sends) is
 *     never sent twice: only failures before anything was sent (DNS, connect)
 *     are retried, never a timeout, a reset or an HTTP status, and it always
 *     opens a fresh connection (so libcurl's own resend on a stale reused
 *     connection cannot happen);
 *   - TLS peer and host verification are always on; only http and https;
 *     redirects are not followed (so the key is never sent elsewhere);
 *   - the API key is read from the environment variable NAMED by cfg.key_env;
 *     it is only placed in the Authorization header of requests to URLs under
 *     cfg.base_url (never of a webhook), never in errors or logs; a webhook
 *     host gets only its own cfg.credentials entry, if any;
 *   - a response larger than cfg.max_response bytes is refused (MX_ELIMIT).
 * Errors are MX_ENET (transport, HTTP status, bad JSON from the server),
 * MX_EFORMAT (a well-formed reply with the wrong shape or dimension),
 * MX_ELIMIT, MX_EINVAL (configuration). */
#ifndef MERX_HTTP_H
#define MERX_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MX_HTTP_MAX_HOSTS 16

/* A webhook host's own credential: header `header` gets "scheme secret"
 * (just "secret" when scheme is empty), the secret read from the environment
 * variable named key_env when a request to that host is made. */
typedef struct mx_http_credential {
  char host[256];    /* one of allow_hosts (case-insensitive) */
  char header[64];   /* default "Authorization" */
  char scheme[32];   /* default "Bearer" for Authorization, "" for other headers */
  char key_env[128]; /* required */
} mx_http_credential;

typedef struct mx_http_config {
  char base_url[512];     /* e.g. "http://127.0.0.1:8080/v1"; "" = no server configured */
  char model[128];        /* embedding model name */
  char chat_model[128];   /* chat model name ("" = same as model) */
  char key_env[128];      /* name of the environment variable holding the API key ("" = none) */
  uint32_t batch_size;    /* texts per embeddings request (default 64) */
  uint32_t dimensions;    /* expected embedding dimension; 0 = whatever the server returns */
  double connect_timeout; /* seconds per attempt (default 5) */
  double timeout;         /* seconds per attempt, whole transfer (default 60) */
  int max_retries;        /* retries after the first attempt (default 4) */
  double backoff_base;    /* seconds (default 0.5) */
  double backoff_max;     /* cap on one wait, also on Retry-After (default 30) */
  int concurrency;        /* requests in flight at once (default 4) */
  size_t max_response;    /* bytes (default 64 MiB) */
  char cache_dir[512];    /* embedding cache directory ("" = no cache) */
  int n_allow_hosts;      /* hosts merx.http.post_json may call */
  char allow_hosts[MX_HTTP_MAX_HOSTS][256];
  int n_credentials;      /* webhook hosts with their own credential */
  mx_http_credential credentials[MX_HTTP_MAX_HOSTS];
  int allow_insecure;     /* 1: secrets may go over plain http to non-loopback hosts */
} mx_http_config;

/* Defaults (no server, no key, no cache, no allowed hosts). */
MX_API mx_http_config mx_http_config_defaults(void);

/* Read a JSON config file into cfg (keys as the field names above, plus
 * "allow_hosts": ["host", ...], "allow_insecure": true|false and
 * "webhook_credentials": {"host": {"key_env": "VAR", "header": "X-Token",
 * "scheme": ""}, ...}; unknown keys are errors naming the key). Fields absent
 * from the file keep their value. */
MX_API int mx_http_config_load(mx_http_config *cfg, const char *path, mx_error *err);

/* Overlay the environment: MERX_LLM_URL, MERX_LLM_MODEL, MERX_LLM_CHAT_MODEL,
 * MERX_LLM_KEY_ENV, MERX_LLM_DIMENSIONS, MERX_LLM_BATCH, MERX_LLM_TIMEOUT,
 * MERX_LLM_CACHE. A malformed number is an error naming the variable. */
MX_API int mx_http_config_from_env(mx_http_config *cfg, mx_error *err);

/* Check ranges, that the key variable (when named) is set and that every
 * webhook credential's host is in allow_hosts. */
MX_API int mx_http_config_check(const mx_http_config *cfg, mx_error *err);

/* ------------------------------------------------------------ client */

typedef struct mx_http_client mx_http_client;

/* Create a client (copies cfg). Free with mx_http_client_free. */
MX_API int mx_http_client_create(const mx_http_config *cfg, mx_http_client **out, mx_error *err);
MX_API void mx_http_client_free(mx_http_client *c);
MX_API const mx_http_config *mx_http_client_config(const mx_http_client *c);

/* Bound every later call on c by its caller's limits: no call lasts past
 * `seconds` from now (0 = no bound; each attempt's timeout is cut to the
 * time left, and a retry that cannot start in time is not made), and a call
 * ends within about 0.1 s once stop(ud) returns non-zero (stop NULL = never).
 * Such a call fails with MX_EINTERRUPTED, saying which limit ended it. */
MX_API void mx_http_client_set_limit(mx_http_client *c, double seconds, int (*stop)(void *ud),
                                     void *ud);

/* One POST of a JSON body. The caller fills url and body (borrowed for the
 * call); perform fills the rest. response is owned by the request: release it
 * with mx_http_request_clear. */
typedef struct mx_http_request {
  const char *url;
  const char *body;
  size_t body_len;
  int once;          /* 1: a webhook, never resent once it may have reached the server */
  const char *const *headers; /* more "Name: value" lines, NULL-terminated (borrowed); NULL = none */
  long status;       /* last HTTP status (0: no response) */
  int attempts;      /* attempts made */
  char *response;    /* NUL-terminated body of the final 2xx response */
  size_t response_len;
  int rc;            /* MX_OK or the request's error code */
  mx_error err;      /* the request's error */
} mx_http_request;

/* Run n requests concurrently (at most cfg.concurrency in flight), each with
 * its own retries. Returns MX_OK when every request got a 2xx answer;
 * otherwise the first failed request's code, with its message in err (each
 * request keeps its own rc/err). */
MX_API int mx_http_perform(mx_http_client *c, mx_http_request *reqs, size_t n, mx_error *err);
MX_API void mx_http_request_clear(mx_http_request *r);

/* POST body (JSON text) to url when url's host is in cfg.allow_hosts
 * (otherwise MX_EINVAL naming the host), as a webhook: sent at most once (see
 * the transport rules). idempotency_key (may be NULL) is sent as the
 * `Idempotency-Key` header so the receiver can drop a delivery it has already
 * seen. *status gets the HTTP status; *response (may be NULL) receives the
 * body, owned by the caller (free). */
MX_API int mx_http_post_json(mx_http_client *c, const char *url, const char *body,
                             const char *idempotency_key, long *status, char **response,
                             mx_error *err);

/* 1 when url parses and its host (case-insensitive) is in the allow list. */
MX_API int mx_http_host_allowed(const mx_http_config *cfg, const char *url, char *host,
                                size_t host_size);

/* ------------------------------------------------ OpenAI-compatible API */

/* Embed n texts: *out receives n x *dim floats, row-major, owned by the caller
 * (free). Requests of cfg.batch_size texts run concurrently. With a cache
 * directory, texts already cached (keyed by model, dimensions and text) are
 * not sent, and every fully validated answer is cached; a failed or malformed
 * batch caches nothing. The whole call fails when any batch fails. *sent (may
 * be NULL) gets the number of texts sent to the server. */
MX_API int mx_openai_embed(mx_http_client *c, const char *const *texts, size_t n, float **out,
                           uint32_t *dim, size_t *sent, mx_error *err);

typedef struct mx_chat_message {
  const char *role; /* "system", "user", "assistant" */
  const char *content;
} mx_chat_message;

/* One chat completion. *reply (owned by the caller, free) is the first
 * choice's message content. temperature < 0 and max_tokens <= 0 leave the
 * server's defaults. */
MX_API int mx_openai_chat(mx_http_client *c, const mx_chat_message *messages, size_t n,
                          double temperature, int max_tokens, char **reply, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
