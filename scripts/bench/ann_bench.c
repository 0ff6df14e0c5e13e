/* Benchmark driver for scripts/bench/ann.sh (built as merx_bench_ann).
 *
 *   merx_bench_ann N DIM QUERIES K THREADS DATA METRIC M EFC EF[,EF...] [EXACT_SINGLE]
 *
 * DATA: clustered (sqrt(N) Gaussian centres, unit noise 0.7 per coordinate;
 * for METRIC dot the rows also get lengths from 0.2 to 2.2) or uniform
 * (isotropic Gaussian noise, the hard case). Queries are fresh draws from the
 * same distribution, not rows of the index.
 *
 * Measures, in one process:
 *  - the HNSW build (THREADS threads): seconds, file size, load seconds;
 *  - merx's exact path (src/core/score/topk.c through mx_topk_vectors, one
 *    thread, OpenBLAS at one thread): one query per call (sgemv-shaped, what a
 *    service does per request; EXACT_SINGLE queries, default 50) and all
 *    QUERIES in one call (sgemm-shaped, batch throughput); the batch call's
 *    lists are the ground truth;
 *  - HNSW queries one at a time on one thread for each EF: queries/s,
 *    p50/p99 latency, recall@K against the exact lists.
 * Prints "key value" lines; ann.sh turns them into a table.
 *
 * Environment:
 *  - ANN_BENCH_INDEX=PATH keeps the index at PATH, and loads it from there
 *    instead of building when the file exists (same N, DIM, data: the
 *    vectors are drawn from a fixed seed);
 *  - ANN_BENCH_COUNT=S: instruction counts instead of timings, for a loaded
 *    machine, where CPU seconds carry the neighbours' cache traffic: run
 *    under `valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no`
 *    with ANN_BENCH_INDEX naming a built index; S exact one-query calls,
 *    then S index queries at each EF, each set collected alone and dumped
 *    as "exact" or "ef N" (CALLGRIND_DUMP_STATS_AT), so each dump's total is
 *    that set's instructions. Counts are repeatable; they do not see cache
 *    misses (the exact scan streams its matrix, the index walk jumps). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#include "merx/ann.h"
#include "merx/score.h"
#include "util/util.h"

static void die(const char *what, const mx_error *err) {
  char buf[2048];
  fprintf(stderr, "merx_bench_ann: %s: %s\n", what, mx_error_format(err, buf, sizeof buf));
  exit(1);
}

static void fill(float *v, uint32_t n, uint32_t d, const float *cent, uint32_t nc, int vary,
                 mx_rng *r) {
  for (uint32_t i = 0; i < n; i++) {
    const float *c = cent ? cent + (size_t)mx__rng_below(r, nc) * d : NULL;
    double s = vary ? 0.2 + 2.0 * mx__rng_uniform(r) : 1.0;
    for (uint32_t j = 0; j < d; j++)
      v[(size_t)i * d + j] = (float)(s * ((c ? c[j] : 0) + (c ? 0.7 : 1.0) * mx__rng_normal(r)));
  }
}

/* CPU seconds of this process (all threads) and of the calling thread: the
 * machine is shared, so wall time alone measures the neighbours too. */
static double cpu_process(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
static double cpu_thread(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 11) {
    fprintf(stderr, "usage: merx_bench_ann N DIM QUERIES K THREADS clustered|uniform "
                    "cosine|dot M EFC EF[,EF...] [EXACT_SINGLE]\n");
    return 2;
  }
  uint32_t n = (uint32_t)atol(argv[1]), d = (uint32_t)atol(argv[2]);
  uint32_t nq = (uint32_t)atol(argv[3]), k = (uint32_t)atol(argv[4]);
  int threads = atoi(argv[5]);
  int clustered = strcmp(argv[6], "clustered") == 0;
  int dot = strcmp(argv[7], "dot") == 0;
  uint32_t M = (uint32_t)atol(argv[8]), efc = (uint32_t)atol(argv[9]);
  const char *efs = argv[10];
  uint32_t single = argc > 11 ? (uint32_t)atol(argv[11]) : 50;
  if (single > nq) single = nq;
  mx_error err;

  mx_rng r;
  mx__rng_seed(&r, 2026);
  uint32_t nc = (uint32_t)sqrt((double)n);
  float *cent = NULL;
  if (clustered) {
    cent = malloc((size_t)nc * d * sizeof *cent);
    for (size_t x = 0; x < (size_t)nc * d; x++) cent[x] = (float)mx__rng_normal(&r);
  }
  float *v = mx_alloc_aligned((size_t)n * d * sizeof *v, 0);
  float *q = mx_alloc_aligned((size_t)nq * d * sizeof *q, 0);
  fill(v, n, d, cent, nc, dot && clustered, &r);
  fill(q, nq, d, cent, nc, 0, &r);
  free(cent);

  /* ---- build, save, load (or load a kept index) */
  const char *keep = getenv("ANN_BENCH_INDEX");
  uint32_t count_n = getenv("ANN_BENCH_COUNT") ? (uint32_t)atol(getenv("ANN_BENCH_COUNT")) : 0;
  if (count_n > nq) count_n = nq;
  char path[256];
  if (keep && *keep) snprintf(path, sizeof path, "%s", keep);
  else
    snprintf(path, sizeof path, "%s/merx_bench_ann.%d.hnsw",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
  int reuse = keep && *keep && access(path, R_OK) == 0;
  if (count_n && !reuse) {
    fprintf(stderr, "merx_bench_ann: ANN_BENCH_COUNT needs ANN_BENCH_INDEX naming a built index\n");
    return 2;
  }
  double t0, c0;
  if (!reuse) {
    mx_ann_options o = mx_ann_defaults();
    o.M = M;
    o.ef_construction = efc;
    o.metric = dot ? MX_ANN_DOT : MX_ANN_COSINE;
    o.threads = threads;
    o.source = "synthetic";
    mx_ann *built;
    t0 = mx__now_seconds();
    c0 = cpu_process();
    if (mx_ann_build(v, n, d, &o, &built, &err)) die("build", &err);
    double build_s = mx__now_seconds() - t0, build_cpu = cpu_process() - c0;
    if (mx_ann_save(built, path, &err)) die("save", &err);
    mx_ann_free(built);
    printf("build_cpu_seconds %.2f\nbuild_seconds %.2f\nbuild_threads %d\n", build_cpu, build_s,
           mx__threads_resolve(threads));
  } else {
    printf("build_cpu_seconds -\nbuild_seconds -\nbuild_threads -\nreused_index %s\n", path);
  }
  mx_ann *ix;
  t0 = mx__now_seconds();
  if (mx_ann_load(path, v, n, d, "synthetic", &ix, &err)) die("load", &err);
  double load_s = mx__now_seconds() - t0;
  if (!keep || !*keep) unlink(path);
  mx_ann_info info;
  mx_ann_get_info(ix, &info);
  printf("index_mib %.1f\nvectors_mib %.1f\n"
         "load_seconds %.3f\nmax_level %d\nlinks_per_node %.2f\n",
         info.bytes / 1048576.0, (double)n * d * 4 / 1048576.0, load_s, info.max_level,
         (double)info.links / n);

  /* ---- exact: merx's top-K engine on the same vectors (cosine: unit rows) */
  mx_model *m;
  if (mx_model_create(MX_MODEL_IMPORTED, 1, n, d, 0, &m, &err)) die("model", &err);
  for (uint32_t i = 0; i < n; i++) {
    const float *x = v + (size_t)i * d;
    float *y = m->item_factors + (size_t)i * d;
    double s = 0;
    for (uint32_t j = 0; j < d; j++) s += (double)x[j] * x[j];
    float inv = dot ? 1.0f : (s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f);
    for (uint32_t j = 0; j < d; j++) y[j] = x[j] * inv;
  }
  mx_topk_options to = mx_topk_defaults();
  to.k = k;
  to.threads = 1;
  to.include_seen = 1;
  mx_topk_result *truth, *one;
  if (count_n) {
#ifdef HAVE_CALLGRIND
    uint32_t *cids = malloc(k * sizeof *cids), ccnt;
    float *csc = malloc(k * sizeof *csc);
    mx__blas_begin(1);
    /* one untimed call of each first: lazy set-up (BLAS, dispatch) is not a query */
    if (mx_topk_vectors(m, q, NULL, NULL, 1, &to, &one, &err)) die("exact", &err);
    mx_topk_result_free(one);
    if (mx_ann_search(ix, q, k, 10, NULL, UINT32_MAX, cids, csc, &ccnt, &err)) die("search", &err);
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_TOGGLE_COLLECT;
    for (uint32_t i = 0; i < count_n; i++) {
      if (mx_topk_vectors(m, q + (size_t)i * d, NULL, NULL, 1, &to, &one, &err)) die("exact", &err);
      mx_topk_result_free(one);
    }
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("exact");
    char clist[256], label[32];
    snprintf(clist, sizeof clist, "%s", efs);
    for (char *tok = strtok(clist, ","); tok; tok = strtok(NULL, ",")) {
      uint32_t ef = (uint32_t)atol(tok);
      CALLGRIND_TOGGLE_COLLECT;
      for (uint32_t i = 0; i < count_n; i++)
        if (mx_ann_search(ix, q + (size_t)i * d, k, ef, NULL, UINT32_MAX, cids, csc, &ccnt, &err))
          die("search", &err);
      CALLGRIND_TOGGLE_COLLECT;
      snprintf(label, sizeof label, "ef %u", ef);
      CALLGRIND_DUMP_STATS_AT(label);
    }
    mx__blas_end();
    printf("count_queries %u\n", count_n);
    free(cids);
    free(csc);
    mx_model_free(m);
    mx_ann_free(ix);
    mx_free_aligned(v);
    mx_free_aligned(q);
    return 0;
#else
    fprintf(stderr, "merx_bench_ann: built without valgrind/callgrind.h (install valgrind)\n");
    return 2;
#endif
  }
  mx__blas_begin(1);
  t0 = mx__now_seconds();
  c0 = cpu_thread();
  if (mx_topk_vectors(m, q, NULL, NULL, nq, &to, &truth, &err)) die("exact batch", &err);
  double batch_s = mx__now_seconds() - t0, batch_cpu = cpu_thread() - c0;
  t0 = mx__now_seconds();
  c0 = cpu_thread();
  for (uint32_t i = 0; i < single; i++) {
    if (mx_topk_vectors(m, q + (size_t)i * d, NULL, NULL, 1, &to, &one, &err)) die("exact", &err);
    mx_topk_result_free(one);
  }
  double single_s = mx__now_seconds() - t0, single_cpu = cpu_thread() - c0;
  mx__blas_end();
  /* queries per CPU-second of the one thread doing them */
  double exact_single_qps = single / single_cpu, exact_batch_qps = nq / batch_cpu;
  printf("exact_single_qps %.1f\nexact_batch_qps %.1f\nexact_single_wall_qps %.1f\n"
         "exact_batch_wall_qps %.1f\n", exact_single_qps, exact_batch_qps, single / single_s,
         nq / batch_s);

  /* ---- HNSW, one query at a time, one thread */
  uint32_t *ids = malloc(k * sizeof *ids), cnt;
  float *sc = malloc(k * sizeof *sc);
  double *lat = malloc(nq * sizeof *lat);
  char list[256];
  snprintf(list, sizeof list, "%s", efs);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    uint32_t ef = (uint32_t)atol(tok);
    uint64_t hit = 0;
    double all0 = mx__now_seconds(), cpu0 = cpu_thread();
    for (uint32_t i = 0; i < nq; i++) {
      double a = mx__now_seconds();
      if (mx_ann_search(ix, q + (size_t)i * d, k, ef, NULL, UINT32_MAX, ids, sc, &cnt, &err))
        die("search", &err);
      lat[i] = mx__now_seconds() - a;
      const uint32_t *t = truth->ids + (size_t)i * truth->k;
      for (uint32_t x = 0; x < cnt; x++)
        for (uint32_t y = 0; y < truth->count[i]; y++) hit += ids[x] == t[y];
    }
    double all = mx__now_seconds() - all0, cpu = cpu_thread() - cpu0;
    qsort(lat, nq, sizeof *lat, cmp_double);
    double qps = nq / cpu;
    printf("ef %u recall %.4f qps %.0f wall_qps %.0f p50_ms %.3f p99_ms %.3f speedup_single %.1f "
           "speedup_batch %.1f\n",
           ef, (double)hit / ((double)nq * k), qps, nq / all, lat[nq / 2] * 1e3,
           lat[(size_t)(nq * 0.99)] * 1e3, qps / exact_single_qps, qps / exact_batch_qps);
    fflush(stdout);
  }
  printf("peak_rss_mib %.0f\n", mx__peak_rss_bytes() / 1048576.0);
  free(ids);
  free(sc);
  free(lat);
  mx_topk_result_free(truth);
  mx_model_free(m);
  mx_ann_free(ix);
  mx_free_aligned(v);
  mx_free_aligned(q);
  return 0;
}
