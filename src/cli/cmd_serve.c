/* merx serve: the HTTP service (src/serve/). This file parses the flags,
 * starts the server and turns signals into its verbs: SIGHUP reloads,
 * SIGTERM/SIGINT stop gracefully; between signals it polls the watched files
 * (config, model, extension files) and reloads when one changed. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "serve/serve.h"
#include "util/util.h"

static const char *usage =
    "usage: merx serve [--config FILE.lua] [--model MODEL.mxm] [--listen HOST:PORT]\n"
    "                  [--token-file FILE] [--store DIR] [--threads N] [--watch SECONDS]\n"
    "                  [--drain SECONDS]\n\n"
    "Serve recommendations (and the other endpoints) over HTTP/1.1 with JSON:\n"
    "  GET  /healthz        {\"status\":\"ok\"} once everything is loaded (no token needed)\n"
    "  GET  /metrics        Prometheus text: requests, latency, model, reloads\n"
    "  POST /v1/recommend   {\"user\": ID, \"k\": 10} or {\"items\": [recent ids], \"k\": 10}\n"
    "  POST /v1/similar     {\"item\": ID, \"k\": 10}\n"
    "docs/cli/serve.md has every field, the config file's keys and\n"
    "the operations (reload, limits, shutdown).\n\n"
    "  --config FILE.lua   settings as a Lua table (sandboxed; strict keys)\n"
    "  --model FILE.mxm    the recommender model (overrides the config's 'model')\n"
    "  --listen HOST:PORT  default 127.0.0.1:8080; port 0 picks a free port. The\n"
    "                      address is printed on stderr: listening on http://HOST:PORT\n"
    "  --token-file FILE   require 'Authorization: Bearer TOKEN' (one token per line)\n"
    "  --store DIR         the deployment's store (for endpoints that log decisions)\n"
    "  --threads N         handler threads = requests served at once (default 32)\n"
    "  --watch SECONDS     how often to check watched files for changes (default 1;\n"
    "                      0: only on SIGHUP)\n"
    "  --drain SECONDS     on SIGTERM, how long in-flight requests may take (default 10)\n"
    "\nExamples:\n"
    "  merx serve --config examples/serve.lua\n"
    "  merx serve --model shop.mxm --listen 127.0.0.1:8080\n"
    "      --token-file tokens.txt\n";

/* Threads started before main (OpenBLAS's pool) do not have the signals
 * blocked, so the kernel may deliver SIGHUP/SIGTERM to one of them: these
 * handlers turn that into a flag the main loop reads, instead of the
 * default action (exit). Only async-signal-safe work here. */
static volatile sig_atomic_t got_hup, got_term;
static void on_signal(int sig) {
  if (sig == SIGHUP) got_hup = 1;
  else got_term = 1;
}

int mx__cmd_serve(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "serve",
                         "config= model= listen= token-file= store= threads= watch= drain=", argc,
                         argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx__cli_usage("serve", "unexpected argument '%s'", a.pos[0]);
  long threads;
  double watch, drain;
  if ((rc = mx__args_int(&a, "threads", 0, 1, 1024, &threads)) ||
      (rc = mx__args_double(&a, "watch", 1.0, 0, 3600, &watch)) ||
      (rc = mx__args_double(&a, "drain", 10.0, 0, 3600, &drain)))
    return rc;
  if (!mx__args_has(&a, "config") && !mx__args_has(&a, "model"))
    return mx__cli_usage("serve", "give --model or --config");
  mx_serve_options o;
  memset(&o, 0, sizeof o);
  o.config_path = mx__args_get(&a, "config", NULL);
  o.model_path = mx__args_get(&a, "model", NULL);
  o.listen = mx__args_get(&a, "listen", NULL);
  o.token_file = mx__args_get(&a, "token-file", NULL);
  o.store_dir = mx__args_get(&a, "store", NULL);
  o.threads = (int)threads;
  o.log = stderr;

  /* Signals are taken synchronously by this thread only: block them before
   * any server thread starts, so every thread inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* a client that disconnects mid-reply must not kill the process */
  signal(SIGPIPE, SIG_IGN);

  mx_error err;
  mx_error_clear(&err);
  mx_serve *srv = NULL;
  if ((rc = mx__serve_start(&o, &srv, &err))) return mx__cli_fail("serve", &err);
  fprintf(stderr, "listening on http://%s\n", mx__serve_address(srv));
  fflush(stderr);
  double next_poll = mx__now_seconds() + watch;
  for (;;) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&set, NULL, &ts);
    if (sig == SIGTERM || sig == SIGINT || got_term) break;
    if (sig == SIGHUP || got_hup) {
      got_hup = 0;
      mx__serve_log(srv, "SIGHUP: reloading");
      mx__serve_reload(srv, &err);
      next_poll = mx__now_seconds() + watch;
      continue;
    }
    if (watch > 0 && mx__now_seconds() >= next_poll) {
      mx__serve_poll_files(srv);
      next_poll = mx__now_seconds() + watch;
    }
  }
  mx__serve_log(srv, "stopping: finishing in-flight requests");
  mx__serve_stop(srv, drain);
  fprintf(stderr, "merx serve: stopped\n");
  return MX_EXIT_OK;
}
