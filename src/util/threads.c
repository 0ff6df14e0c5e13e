/* Threads: core count, mx__parallel_run, and the BLAS thread brackets. */
#include "util/util.h"

#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- threads */
int mx__cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int mx__threads_resolve(int requested) { return requested > 0 ? requested : mx__cpu_count(); }

typedef struct {
  mx_thread_fn fn;
  void *ctx;
  int t, n, rc;
} worker_arg;

/* Set on both sides of an mx__parallel_run region (the workers and the
 * calling thread running share 0): mx__blas_begin/end do nothing there. */
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

int mx__parallel_run(int nthreads, mx_thread_fn fn, void *ctx) {
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

void mx__blas_begin(int n) {
  if (in_parallel) return;
  pthread_mutex_lock(&blas_lock);
  if (blas_depth++ == 0) blas_saved = openblas_get_num_threads();
  openblas_set_num_threads(n);
  pthread_mutex_unlock(&blas_lock);
}

void mx__blas_end(void) {
  if (in_parallel) return;
  pthread_mutex_lock(&blas_lock);
  if (blas_depth > 0 && --blas_depth == 0) openblas_set_num_threads(blas_saved);
  pthread_mutex_unlock(&blas_lock);
}
