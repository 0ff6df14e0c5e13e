/* GET /healthz and GET /metrics (Prometheus text exposition format 0.0.4):
 * requests by route and status, latency histograms, in-flight and queued
 * requests, the loaded generation (model path, fingerprint, load time) and
 * reloads. Counters are relaxed atomics bumped once per request. */
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"
#include "util/util.h"

const int mx__serve_statuses[MX_SERVE_N_STATUS] = {200, 400, 401, 404, 405, 413,
                                                  499, 500, 502, 503, 504, 0};
const double mx__serve_buckets[MX_SERVE_N_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

static const struct {
  void (*fn)(const void *, FILE *);
} ext_metrics[MX_SERVE_EXT_COUNT + 1] = {
#define MX_SERVE_EXT(NAME, keys, load, free_fn, metrics) {metrics},
#include "serve/ext.def"
#undef MX_SERVE_EXT
    {NULL}};

void mx__serve_metrics_count(mx_serve *s, int route, int status, double seconds, size_t bytes) {
  int si = MX_SERVE_N_STATUS - 1;
  for (int i = 0; i < MX_SERVE_N_STATUS - 1; i++)
    if (mx__serve_statuses[i] == status) si = i;
  int b = MX_SERVE_N_BUCKETS - 1;
  for (int i = 0; i < MX_SERVE_N_BUCKETS - 1; i++)
    if (seconds <= mx__serve_buckets[i]) {
      b = i;
      break;
    }
  mx_serve_metrics_t *m = &s->metrics;
  atomic_fetch_add_explicit(&m->requests[route][si], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->latency_us_sum[route], (uint64_t)(seconds * 1e6),
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&m->bytes_out, bytes, memory_order_relaxed);
}

int mx__serve_healthz(mx_serve *srv, mx_serve_gen *gen, const mx_serve_request *req,
                     mx_serve_reply *reply, mx_error *err) {
  (void)srv;
  (void)req;
  reply->body = json_pack("{s:s, s:I}", "status", "ok", "generation", (json_int_t)gen->number);
  return reply->body ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
}

/* A label value: backslash, quote and newline escaped. */
static void label(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '\\' || *s == '"') fputc('\\', f), fputc(*s, f);
    else if (*s == '\n') fputs("\\n", f);
    else fputc(*s, f);
  }
}

static const char *route_name(int r) {
  return r == MX_SERVE_ROUTE_OTHER ? "other" : mx__serve_routes[r].path;
}

int mx__serve_metrics(mx_serve *s, mx_serve_gen *gen, const mx_serve_request *req,
                     mx_serve_reply *reply, mx_error *err) {
  (void)req;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_serve_metrics_t *m = &s->metrics;
  fputs("# HELP merx_http_requests_total HTTP requests answered, by route and status.\n"
        "# TYPE merx_http_requests_total counter\n", f);
  for (int r = 0; r < MX_SERVE_N_ROUTES; r++)
    for (int i = 0; i < MX_SERVE_N_STATUS; i++) {
      uint64_t v = atomic_load_explicit(&m->requests[r][i], memory_order_relaxed);
      if (!v) continue;
      fprintf(f, "merx_http_requests_total{route=\"%s\",status=\"", route_name(r));
      if (mx__serve_statuses[i]) fprintf(f, "%d", mx__serve_statuses[i]);
      else fputs("other", f);
      fprintf(f, "\"} %llu\n", (unsigned long long)v);
    }
  fputs("# HELP merx_http_request_duration_seconds Time from the request's arrival to its reply.\n"
        "# TYPE merx_http_request_duration_seconds histogram\n", f);
  for (int r = 0; r < MX_SERVE_N_ROUTES; r++) {
    uint64_t cum = 0;
    for (int b = 0; b < MX_SERVE_N_BUCKETS; b++) {
      cum += atomic_load_explicit(&m->latency[r][b], memory_order_relaxed);
      fprintf(f, "merx_http_request_duration_seconds_bucket{route=\"%s\",le=\"", route_name(r));
      if (b < MX_SERVE_N_BUCKETS - 1) fprintf(f, "%g", mx__serve_buckets[b]);
      else fputs("+Inf", f);
      fprintf(f, "\"} %llu\n", (unsigned long long)cum);
    }
    fprintf(f, "merx_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_name(r),
            (double)atomic_load(&m->latency_us_sum[r]) * 1e-6);
    fprintf(f, "merx_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(r),
            (unsigned long long)cum);
  }
  fprintf(f,
          "# HELP merx_http_response_bytes_total Bytes of response bodies sent.\n"
          "# TYPE merx_http_response_bytes_total counter\n"
          "merx_http_response_bytes_total %llu\n"
          "# HELP merx_http_in_flight Requests received and not yet answered.\n"
          "# TYPE merx_http_in_flight gauge\n"
          "merx_http_in_flight %lld\n"
          "# HELP merx_http_queued Requests waiting for a handler thread.\n"
          "# TYPE merx_http_queued gauge\n"
          "merx_http_queued %lld\n"
          "# HELP merx_http_rejected_busy_total Requests refused with 503 because the queue was full.\n"
          "# TYPE merx_http_rejected_busy_total counter\n"
          "merx_http_rejected_busy_total %llu\n",
          (unsigned long long)atomic_load(&m->bytes_out), (long long)atomic_load(&m->in_flight),
          (long long)atomic_load(&m->queued), (unsigned long long)atomic_load(&m->rejected_busy));
  fprintf(f,
          "# HELP merx_reloads_total Reloads of the models, indexes and scripts, by result.\n"
          "# TYPE merx_reloads_total counter\n"
          "merx_reloads_total{result=\"ok\"} %llu\n"
          "merx_reloads_total{result=\"failed\"} %llu\n"
          "# HELP merx_reload_last_success 1 when the last (re)load succeeded, 0 when it failed "
          "(the previous generation is still served).\n"
          "# TYPE merx_reload_last_success gauge\n"
          "merx_reload_last_success %d\n"
          "# HELP merx_generation The generation being served (1 = first load).\n"
          "# TYPE merx_generation gauge\n"
          "merx_generation %llu\n"
          "# HELP merx_generation_loaded_timestamp_seconds When the served generation was loaded.\n"
          "# TYPE merx_generation_loaded_timestamp_seconds gauge\n"
          "merx_generation_loaded_timestamp_seconds %.3f\n"
          "# HELP merx_generation_load_seconds How long loading the served generation took.\n"
          "# TYPE merx_generation_load_seconds gauge\n"
          "merx_generation_load_seconds %.6f\n",
          (unsigned long long)atomic_load(&m->reloads_ok),
          (unsigned long long)atomic_load(&m->reloads_failed), atomic_load(&m->last_reload_ok),
          (unsigned long long)gen->number, gen->loaded_at, gen->load_seconds);
  if (gen->model) {
    fputs("# HELP merx_model_info The served model: path, kind, fingerprint of the file (value 1).\n"
          "# TYPE merx_model_info gauge\n"
          "merx_model_info{path=\"", f);
    label(f, gen->model_path);
    fprintf(f, "\",kind=\"%s\",fingerprint=\"%s\",users=\"%u\",items=\"%u\",factors=\"%u\"} 1\n",
            mx_model_kind_name(gen->model->kind), gen->model_fingerprint, gen->model->n_users,
            gen->model->n_items, gen->model->factors);
  }
  for (int i = 0; i < MX_SERVE_EXT_COUNT; i++)
    if (ext_metrics[i].fn) ext_metrics[i].fn(gen->ext[i], f);
  if (fclose(f) != 0 || !text) {
    free(text);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  reply->text = text;
  reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
  return MX_OK;
}
