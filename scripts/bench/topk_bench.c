/* Benchmark driver for scripts/bench/topk.sh (built as merx_bench_topk).
 *
 *   merx_bench_topk batch USERS ITEMS FACTORS K THREADS [SEEN_PER_USER]
 *       synthetic model; all-users top-K with exclusion, against plain
 *       cblas_sgemm over the same tile shapes and threads in the same run,
 *       and one large sgemm with OpenBLAS's own threads (the machine's peak).
 *   merx_bench_topk latency ITEMS FACTORS QUERIES K
 *       single-user top-K latency (p50, p99, max) over random users.
 *   merx_bench_topk model FILE.mxm K THREADS
 *       all-users top-K of a trained model file against the same sgemm.
 * Prints "key value" lines that the shell script turns into a table. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merx/score.h"
#include "util/util.h"

static void die(const char *what, const mx_error *err) {
  char buf[2048];
  fprintf(stderr, "merx_bench_topk: %s: %s\n", what, mx_error_format(err, buf, sizeof buf));
  exit(1);
}

static mx_model *synthetic(uint32_t nu, uint32_t ni, uint32_t k, uint32_t seen_per_user) {
  mx_model *m;
  mx_error err;
  if (mx_model_create(MX_MODEL_IALS, nu, ni, k, 0, &m, &err)) die("create", &err);
  mx_rng r;
  mx__rng_seed(&r, 42);
  float sc = 1.0f / sqrtf((float)k);
  for (size_t x = 0; x < (size_t)nu * k; x++) m->user_factors[x] = sc * (float)mx__rng_normal(&r);
  for (size_t x = 0; x < (size_t)ni * k; x++) m->item_factors[x] = sc * (float)mx__rng_normal(&r);
  uint64_t nnz = (uint64_t)nu * seen_per_user;
  m->seen.indices = malloc((nnz ? nnz : 1) * sizeof *m->seen.indices);
  m->seen.values = malloc((nnz ? nnz : 1) * sizeof *m->seen.values);
  for (uint32_t u = 0; u < nu; u++) {
    m->seen.indptr[u] = (uint64_t)u * seen_per_user;
    /* sorted distinct items: a random stride walk */
    uint32_t step = ni / (seen_per_user + 1), at = mx__rng_below(&r, step ? step : 1);
    for (uint32_t s = 0; s < seen_per_user; s++) {
      m->seen.indices[(uint64_t)u * seen_per_user + s] = at;
      m->seen.values[(uint64_t)u * seen_per_user + s] = 1;
      at += 1 + mx__rng_below(&r, step ? step : 1);
      if (at >= ni) at = ni - 1;
    }
  }
  m->seen.indptr[nu] = nnz;
  m->seen.nnz = nnz;
  return m;
}

/* Plain sgemm over the same tiles as the top-K engine, same threads. */
typedef struct {
  const mx_model *m;
  uint32_t tu, ti;
  _Atomic uint32_t next;
} gemm_ctx;

static int gemm_worker(void *v, int t, int n) {
  gemm_ctx *g = v;
  const mx_model *m = g->m;
  uint32_t k = m->factors;
  float *tile = mx_alloc_aligned((size_t)g->tu * g->ti * sizeof(float), 0);
  uint32_t nb = (m->n_users + g->tu - 1) / g->tu;
  for (;;) {
    uint32_t b = g->next++;
    if (b >= nb) break;
    uint32_t u0 = b * g->tu, mu = u0 + g->tu < m->n_users ? g->tu : m->n_users - u0;
    for (uint32_t c0 = 0; c0 < m->n_items; c0 += g->ti) {
      uint32_t w = c0 + g->ti < m->n_items ? g->ti : m->n_items - c0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mu, (int)w, (int)k, 1.0f,
                  m->user_factors + (size_t)u0 * k, (int)k, m->item_factors + (size_t)c0 * k,
                  (int)k, 0.0f, tile, (int)w);
    }
  }
  mx_free_aligned(tile);
  (void)t;
  (void)n;
  return 0;
}

/* Tile shape: the engine's default (128 x 1024) unless MX_BENCH_TU/TI set. */
static uint32_t env_u32(const char *name, uint32_t def) {
  const char *v = getenv(name);
  return v && *v ? (uint32_t)atol(v) : def;
}

static double plain_gemm_seconds(const mx_model *m, int threads) {
  gemm_ctx g = {.m = m, .tu = env_u32("MX_BENCH_TU", 128), .ti = env_u32("MX_BENCH_TI", 1024)};
  g.next = 0;
  mx__blas_begin(1);
  double t0 = mx__now_seconds();
  mx__parallel_run(threads, gemm_worker, &g);
  double s = mx__now_seconds() - t0;
  mx__blas_end();
  return s;
}

/* One large sgemm with OpenBLAS threading: the peak rate of this machine. */
static double peak_gflops(uint32_t k, int threads) {
  uint32_t M = 4096, N = 4096;
  float *A = mx_alloc_aligned((size_t)M * k * sizeof(float), 1);
  float *B = mx_alloc_aligned((size_t)N * k * sizeof(float), 1);
  float *C = mx_alloc_aligned((size_t)M * N * sizeof(float), 0);
  for (size_t x = 0; x < (size_t)M * k; x++) A[x] = (float)(x % 7) * 0.1f;
  for (size_t x = 0; x < (size_t)N * k; x++) B[x] = (float)(x % 5) * 0.1f;
  mx__blas_begin(threads);
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = mx__now_seconds();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)k, 1.0f, A, (int)k,
                B, (int)k, 0.0f, C, (int)N);
    double s = mx__now_seconds() - t0;
    if (s < best) best = s;
  }
  mx__blas_end();
  mx_free_aligned(A);
  mx_free_aligned(B);
  mx_free_aligned(C);
  return 2.0 * M * N * k / best / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* CPU seconds of the whole process (all threads): on a shared machine this
 * leaves out the time spent waiting for a core, so ratios of CPU time are
 * steadier than ratios of wall time. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The machine is shared, so top-K and the plain sgemm run alternately,
 * MX_BENCH_REPS times (default 3); the ratio of each adjacent pair is taken
 * and the medians reported. */
static void batch_report(const mx_model *m, uint32_t K, int threads) {
  mx_error err;
  double flops = 2.0 * m->n_users * (double)m->n_items * m->factors;
  int reps = (int)env_u32("MX_BENCH_REPS", 3);
  if (reps < 1) reps = 1;
  if (reps > 64) reps = 64;
  double gs[64], ts[64], ratio[64];
  uint64_t sum = 0;
  mx_topk_options o = mx_topk_defaults();
  o.k = K;
  o.threads = threads;
  o.tile_users = env_u32("MX_BENCH_TU", 0);
  o.tile_items = env_u32("MX_BENCH_TI", 0);
  double gc[64], tc[64], cratio[64];
  for (int r = 0; r < reps; r++) {
    double c0 = cpu_now();
    gs[r] = plain_gemm_seconds(m, threads);
    gc[r] = cpu_now() - c0;
    mx_topk_result *res;
    c0 = cpu_now();
    double t0 = mx__now_seconds();
    if (mx_topk_batch(m, NULL, 0, &o, &res, &err)) die("topk", &err);
    ts[r] = mx__now_seconds() - t0;
    tc[r] = cpu_now() - c0;
    ratio[r] = gs[r] / ts[r];
    cratio[r] = gc[r] / tc[r];
    sum = 0;
    for (size_t x = 0; x < (size_t)res->n * res->k; x++) sum += res->ids[x];
    mx_topk_result_free(res);
  }
  double gm = median(gs, reps), tm = median(ts, reps), rm = median(ratio, reps);
  printf("shape %u users x %u items x %u factors, top-%u, %d threads, %d reps\n", m->n_users,
         m->n_items, m->factors, K, threads, reps);
  printf("sgemm_tiles_seconds %.3f\n", gm);
  printf("sgemm_tiles_gflops %.1f\n", flops / gm / 1e9);
  printf("topk_seconds %.3f\n", tm);
  printf("topk_gflops %.1f\n", flops / tm / 1e9);
  printf("topk_fraction_of_sgemm %.3f\n", rm);
  printf("sgemm_tiles_cpu_seconds %.3f\n", median(gc, reps));
  printf("topk_cpu_seconds %.3f\n", median(tc, reps));
  printf("topk_fraction_of_sgemm_cpu %.3f\n", median(cratio, reps));
  /* before the peak anchor, whose 4096 x 4096 output would dominate it */
  printf("topk_peak_rss_mib %.1f\n", (double)mx__peak_rss_bytes() / 1048576.0);
  printf("result_mib %.1f\n", (double)m->n_users * K * 8 / 1048576.0);
  printf("peak_sgemm_gflops %.1f\n", peak_gflops(m->factors, threads));
  printf("checksum %llu\n", (unsigned long long)sum);
}

/* The synthetic model with ids "u0".. / "i0".., saved as a .mxm (for the
 * serve benchmark, scripts/bench/serve.sh). */
static void save_synthetic(uint32_t nu, uint32_t ni, uint32_t k, uint32_t seen, const char *out) {
  mx_model *m = synthetic(nu, ni, k, seen);
  mx_error err;
  mx_error_clear(&err);
  char id[32];
  for (uint32_t u = 0; u < nu; u++) {
    int n = snprintf(id, sizeof id, "u%u", u);
    if (mx_idmap_intern(m->users, id, (size_t)n) < 0) die("ids", &err);
  }
  for (uint32_t i = 0; i < ni; i++) {
    int n = snprintf(id, sizeof id, "i%u", i);
    if (mx_idmap_intern(m->items, id, (size_t)n) < 0) die("ids", &err);
  }
  if (mx_model_save(m, out, &err)) die("save", &err);
  mx_model_free(m);
}

/* approx USERS ITEMS FACTORS K BATCH: the same users scored in batches of
 * BATCH (as merx serve's micro-batches) by the exact scan and by the bf16
 * first pass; CPU per user of each, the recall of the exact lists, rows the
 * bound sent back to the exact scan, and the largest score difference. */
static void approx_report(uint32_t nu, uint32_t ni, uint32_t dim, uint32_t K, uint32_t batch) {
  mx_model *m = synthetic(nu, ni, dim, 20);
  mx_item_bf16 *ap = mx_item_bf16_build(m);
  if (!ap) {
    fprintf(stderr, "merx_bench_topk: bf16 copy failed\n");
    exit(1);
  }
  uint32_t n = nu < 4096 ? nu : 4096;
  n -= n % batch;
  mx_topk_result *ex[4096], *aq[4096];
  double t_ex = 0, t_ap = 0;
  uint64_t fallback = 0;
  for (int pass = 0; pass < 2; pass++) {
    mx_topk_options o = mx_topk_defaults();
    o.k = K;
    o.threads = 1;
    o.approx = pass ? ap : NULL;
    double t0 = cpu_now();
    for (uint32_t b = 0; b < n / batch; b++) {
      uint32_t users[1024];
      for (uint32_t j = 0; j < batch; j++) users[j] = (b * batch + j) * 7919u % nu;
      mx_error err;
      if (mx_topk_batch(m, users, batch, &o, pass ? &aq[b] : &ex[b], &err)) die("topk", &err);
      if (pass) fallback += aq[b]->exact_rows;
    }
    *(pass ? &t_ap : &t_ex) = cpu_now() - t0;
  }
  uint64_t hit = 0, tot = 0;
  double maxdiff = 0;
  for (uint32_t b = 0; b < n / batch; b++) {
    for (uint32_t j = 0; j < batch; j++)
      for (uint32_t x = 0; x < ex[b]->count[j]; x++) {
        tot++;
        for (uint32_t y = 0; y < aq[b]->count[j]; y++)
          if (aq[b]->ids[(size_t)j * K + y] == ex[b]->ids[(size_t)j * K + x]) {
            hit++;
            double d = fabs(aq[b]->scores[(size_t)j * K + y] - ex[b]->scores[(size_t)j * K + x]);
            if (d > maxdiff) maxdiff = d;
          }
      }
    mx_topk_result_free(ex[b]);
    mx_topk_result_free(aq[b]);
  }
  printf("native_bf16 %d\nusers %u\nbatch %u\n", mx_item_bf16_native(), n, batch);
  printf("exact_ms_per_user %.4f\napprox_ms_per_user %.4f\n", t_ex * 1e3 / n, t_ap * 1e3 / n);
  printf("recall %.6f\nrows_rescanned_exactly %llu\nmax_score_diff %.3g\n", (double)hit / tot,
         (unsigned long long)fallback, maxdiff);
  mx_item_bf16_free(ap);
  mx_model_free(m);
}

int main(int argc, char **argv) {
  if (argc >= 7 && strcmp(argv[1], "approx") == 0) {
    uint32_t b = (uint32_t)atol(argv[6]);
    approx_report((uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]), (uint32_t)atol(argv[4]),
                  (uint32_t)atol(argv[5]), b < 1 ? 1 : b > 1024 ? 1024 : b);
    return 0;
  }
  if (argc >= 6 && strcmp(argv[1], "save") == 0) {
    save_synthetic((uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]), (uint32_t)atol(argv[4]),
                   argc > 6 ? (uint32_t)atol(argv[6]) : 20, argv[5]);
    return 0;
  }
  if (argc >= 7 && strcmp(argv[1], "batch") == 0) {
    uint32_t nu = (uint32_t)atol(argv[2]), ni = (uint32_t)atol(argv[3]),
             k = (uint32_t)atol(argv[4]), K = (uint32_t)atol(argv[5]);
    int threads = atoi(argv[6]);
    uint32_t seen = argc > 7 ? (uint32_t)atol(argv[7]) : 20;
    mx_model *m = synthetic(nu, ni, k, seen);
    double model_mb = ((double)(nu + ni) * k * 4 + (double)nu * seen * 8) / 1048576.0;
    batch_report(m, K, threads);
    printf("model_mib %.1f\n", model_mb);
    printf("peak_rss_mib %.1f\n", (double)mx__peak_rss_bytes() / 1048576.0);
    mx_model_free(m);
    return 0;
  }
  if (argc >= 6 && strcmp(argv[1], "latency") == 0) {
    uint32_t ni = (uint32_t)atol(argv[2]), k = (uint32_t)atol(argv[3]),
             nq = (uint32_t)atol(argv[4]), K = (uint32_t)atol(argv[5]);
    uint32_t nu = 10000;
    mx_model *m = synthetic(nu, ni, k, 20);
    mx_topk_options o = mx_topk_defaults();
    o.k = K;
    o.threads = 1;
    mx_rng r;
    mx__rng_seed(&r, 7);
    double *lat = malloc(nq * sizeof *lat), *raw = malloc(nq * sizeof *raw);
    float *y = mx_alloc_aligned(4096 * sizeof(float), 0);
    mx_error err;
    /* Each query is timed twice, alternately: through mx_topk_batch, and as
     * the bare matrix-vector product over the same item tiles (no selection,
     * no allocation) — the anchor, under the same machine load. */
    for (uint32_t q = 0; q < nq; q++) {
      uint32_t u = mx__rng_below(&r, nu);
      for (int pass = 0; pass < 2; pass++) {
        int bare = (pass + (int)q) % 2;
        double t0 = mx__now_seconds();
        if (bare) {
          mx__blas_begin(1);
          for (uint32_t c0 = 0; c0 < ni; c0 += 4096) {
            uint32_t w = c0 + 4096 < ni ? 4096 : ni - c0;
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)w, (int)k, 1.0f,
                        m->item_factors + (size_t)c0 * k, (int)k,
                        m->user_factors + (size_t)u * k, 1, 0.0f, y, 1);
          }
          mx__blas_end();
          raw[q] = mx__now_seconds() - t0;
        } else {
          mx_topk_result *res;
          if (mx_topk_batch(m, &u, 1, &o, &res, &err)) die("topk", &err);
          lat[q] = mx__now_seconds() - t0;
          mx_topk_result_free(res);
        }
      }
    }
    qsort(lat, nq, sizeof *lat, cmp_double);
    qsort(raw, nq, sizeof *raw, cmp_double);
    printf("shape %u items x %u factors, top-%u, %u single-user queries, 1 thread\n", ni, k, K, nq);
    printf("sgemv_p50_ms %.3f\n", 1e3 * raw[nq / 2]);
    printf("sgemv_p99_ms %.3f\n", 1e3 * raw[(size_t)(nq * 0.99)]);
    free(raw);
    mx_free_aligned(y);
    printf("latency_p50_ms %.3f\n", 1e3 * lat[nq / 2]);
    printf("latency_p99_ms %.3f\n", 1e3 * lat[(size_t)(nq * 0.99)]);
    printf("latency_max_ms %.3f\n", 1e3 * lat[nq - 1]);
    printf("peak_rss_mib %.1f\n", (double)mx__peak_rss_bytes() / 1048576.0);
    free(lat);
    mx_model_free(m);
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "model") == 0) {
    mx_model *m;
    mx_error err;
    if (mx_model_load(argv[2], &m, &err)) die("load", &err);
    if (!m->factors) {
      fprintf(stderr, "merx_bench_topk: %s has no factors\n", argv[2]);
      return 1;
    }
    batch_report(m, (uint32_t)atol(argv[3]), atoi(argv[4]));
    printf("peak_rss_mib %.1f\n", (double)mx__peak_rss_bytes() / 1048576.0);
    mx_model_free(m);
    return 0;
  }
  fprintf(stderr,
          "usage: merx_bench_topk batch USERS ITEMS FACTORS K THREADS [SEEN]\n"
          "       merx_bench_topk approx USERS ITEMS FACTORS K BATCH\n"
          "       merx_bench_topk latency ITEMS FACTORS QUERIES K\n"
          "       merx_bench_topk model FILE.mxm K THREADS\n");
  return 2;
}
