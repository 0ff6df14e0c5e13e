/* Hashing, random numbers, aligned memory, threads, clocks and small string
 * helpers. */
#include "util/util.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- hashing: a 64-bit multiply-xorshift over 8-byte words (in the spirit
 * of wyhash/komihash); stable because it reads bytes explicitly in little-
 * endian order. */
static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

static inline uint64_t load_le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
         (uint64_t)p[7] << 56;
}

uint64_t mx_hash64(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (len + 1));
  while (len >= 8) {
    h = mix64(h ^ load_le64(p)) * 0xbf58476d1ce4e5b9ULL;
    p += 8;
    len -= 8;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < len; i++) tail |= (uint64_t)p[i] << (8 * i);
  h = mix64(h ^ tail ^ ((uint64_t)len << 56));
  return h;
}

/* ---- rng */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void mx_rng_seed(mx_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mx_rng_next(mx_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double mx_rng_uniform(mx_rng *r) { return (double)(mx_rng_next(r) >> 11) * 0x1.0p-53; }

uint32_t mx_rng_below(mx_rng *r, uint32_t n) {
  /* Lemire's multiply-shift with rejection. */
  uint64_t m = (uint64_t)(uint32_t)(mx_rng_next(r) >> 32) * n;
  uint32_t l = (uint32_t)m;
  if (l < n) {
    uint32_t t = (uint32_t)(-n) % n;
    while (l < t) {
      m = (uint64_t)(uint32_t)(mx_rng_next(r) >> 32) * n;
      l = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

double mx_rng_normal(mx_rng *r) {
  /* Box-Muller; one value per call keeps the stream simple and reproducible. */
  double u1 = mx_rng_uniform(r);
  double u2 = mx_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- memory */
void *mx_alloc_aligned(size_t size, int zero) {
  void *p = NULL;
  size_t rounded = (size + 63) & ~(size_t)63;
  if (rounded == 0) rounded = 64;
  if (posix_memalign(&p, 64, rounded) != 0) return NULL;
  if (zero) memset(p, 0, rounded);
  return p;
}

void mx_free_aligned(void *p) { free(p); }

/* ---- threads */
int mx_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int mx_threads_resolve(int requested) { return requested > 0 ? requested : mx_cpu_count(); }

typedef struct {
  mx_thread_fn fn;
  void *ctx;
  int t, n, rc;
} worker_arg;

/* Set on both sides of an mx_parallel_run region (the workers and the
 * calling thread running share 0): mx_blas_begin/end do nothing there. */
static _Thread_local int in_parallel;

static void *worker_main(void *p) {
  worker_arg *a = p;
  in_parallel = 1;
  a->rc = a->fn(a->ctx, a->t, a->n);
  return NULL;
}

static int run_shares(int nthreads, mx_thread_fn fn, void *ctx) {
  if (nthreads <= 1) return fn(ctx, 0, 1);
  worker_arg *args = calloc((size_t)nthreads, sizeof *args);
  pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
  if (!args || !tids) {
    /* No memory for the bookkeeping: run every share on this thread, with
     * the partition the caller planned for (fn(ctx, 0, 1) alone would skip
     * work of callers that index blocks by t, e.g. mf's schedule). */
    free(args);
    free(tids);
    int rc = 0;
    for (int t = 0; t < nthreads; t++) {
      int r = fn(ctx, t, nthreads);
      if (!rc) rc = r;
    }
    return rc;
  }
  int started = 1;
  for (int t = 0; t < nthreads; t++) {
    args[t] = (worker_arg){fn, ctx, t, nthreads, 0};
  }
  for (int t = 1; t < nthreads; t++) {
    if (pthread_create(&tids[t], NULL, worker_main, &args[t]) != 0) break;
    started++;
  }
  if (started < nthreads) {
    /* Could not start every thread: the partition assumed nthreads, so run
     * the missing shares on this thread after our own. */
    for (int t = started; t < nthreads; t++) args[t].rc = fn(ctx, t, nthreads);
  }
  args[0].rc = fn(ctx, 0, nthreads);
  for (int t = 1; t < started; t++) pthread_join(tids[t], NULL);
  int rc = 0;
  for (int t = 0; t < nthreads && !rc; t++) rc = args[t].rc;
  free(args);
  free(tids);
  return rc;
}

int mx_parallel_run(int nthreads, mx_thread_fn fn, void *ctx) {
  int was = in_parallel;
  in_parallel = 1;
  int rc = run_shares(nthreads, fn, ctx);
  in_parallel = was;
  return rc;
}

/* BLAS threads: the rule is in util.h. Brackets nest and count across
 * threads, so concurrent library calls restore the program's setting once,
 * when the last of them ends, whatever order they end in. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_depth, blas_saved;

void mx_blas_begin(int n) {
  if (in_parallel) return;
  pthread_mutex_lock(&blas_lock);
  if (blas_depth++ == 0) blas_saved = openblas_get_num_threads();
  openblas_set_num_threads(n);
  pthread_mutex_unlock(&blas_lock);
}

void mx_blas_end(void) {
  if (in_parallel) return;
  pthread_mutex_lock(&blas_lock);
  if (blas_depth > 0 && --blas_depth == 0) openblas_set_num_threads(blas_saved);
  pthread_mutex_unlock(&blas_lock);
}

/* ---- clocks */
double mx_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t mx_peak_rss_bytes(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024u;
}

/* ---- strings */
char *mx_strdup(const char *s) {
  if (!s) return NULL;
  return mx_strndup(s, strlen(s));
}

char *mx_strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* zlib prefixes its messages with the path, which the error names already. */
static const char *without_path(const char *msg, const char *path) {
  size_t n = strlen(path);
  return strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : msg;
}

int mx_read_file(const char *path, char **data, size_t *len, mx_error *err) {
  *data = NULL;
  if (len) *len = 0;
  gzFile gz = gzopen(path, "rb");
  if (!gz) {
    int e = errno;
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s",
                       e ? strerror(e) : "out of memory");
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    gzclose(gz);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (;;) {
    if (cap - n < (1 << 15)) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        gzclose(gz);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
      buf = nb;
      cap *= 2;
    }
    int r = gzread(gz, buf + n, (unsigned)(cap - n));
    if (r < 0) {
      int e = errno, ez;
      const char *msg = gzerror(gz, &ez);
      msg = without_path(msg, path);
      int rc = ez == Z_ERRNO
                   ? mx_error_at(err, MX_EIO, path, 0, 0, NULL, "read failed: %s", strerror(e))
                   : mx_error_at(err, MX_EIO, path, 0, 0, NULL, "corrupt compressed file (%s)", msg);
      free(buf);
      gzclose(gz);
      return rc;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  int ez = 0;
  const char *zmsg = without_path(gzerror(gz, &ez), path);
  if (ez != Z_OK && ez != Z_BUF_ERROR ? 1 : (ez == Z_BUF_ERROR)) {
    int rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "truncated or corrupt compressed file: %s",
                         zmsg);
    free(buf);
    gzclose(gz);
    return rc;
  }
  gzclose(gz);
  buf[n] = '\0';
  *data = buf;
  if (len) *len = n;
  return MX_OK;
}
