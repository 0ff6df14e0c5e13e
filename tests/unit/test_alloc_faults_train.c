/* Fault injection for training and models (as test_alloc_faults.c does for
 * ingest): make the N-th allocation fail, for every N, while training each
 * algorithm (1 and 2 threads; also with a test set, early stopping, warm
 * starts, the borrowed seen CSR), tuning, saving and loading .mxm files,
 * cloning, writing and reading .npy, folding in users, evaluating, top-K,
 * similar items/users, score matrices and pairs, explanations.
 * Each call must either end in MX_ENOMEM with a message, or succeed with
 * exactly the result of a clean run (an allocation whose failure is
 * tolerated must not change the answer), and leak nothing (LeakSanitizer in
 * the sanitizer build). The number of failure points of each area is
 * printed. OpenBLAS's own allocations are not intercepted. */
#include "testutil.h"
#include "faultalloc.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "merx/model.h"
#include "merx/score.h"
#include "util/util.h"

static mx_dataset *g_data;       /* explicit ratings 1..5 (implicit algos read them as counts) */
static const char *g_test_csv;   /* held-out rows in the same format */
static mx_model *g_ref;          /* clean result of the current sweep */
static mx_pairs g_test;          /* g_test_csv mapped to g_data's ids */
static mx_train_options g_opt;
static const char *g_path;

/* A clean failure: MX_ENOMEM with a message; anything else is passed on
 * unchanged so fa_sweep reports it. */
static int failed(int rc, const mx_error *err) {
  if (rc == MX_ENOMEM && err->message[0] == '\0') return MX_EINVAL;
  return rc;
}

static int same_floats(const float *a, const float *b, size_t n) {
  if (!a || !b) return a == b;
  return memcmp(a, b, n * sizeof(float)) == 0;
}

static int same_ids(const mx_idmap *a, const mx_idmap *b) {
  if (mx_idmap_size(a) != mx_idmap_size(b)) return 0;
  for (uint32_t i = 0; i < mx_idmap_size(a); i++)
    if (strcmp(mx_idmap_name(a, i), mx_idmap_name(b, i)) != 0) return 0;
  return 1;
}

static int same_model(const mx_model *a, const mx_model *b) {
  if (a->kind != b->kind || a->n_users != b->n_users || a->n_items != b->n_items ||
      a->factors != b->factors || a->global_mean != b->global_mean)
    return 0;
  size_t nu = a->n_users, ni = a->n_items, k = a->factors;
  if (!same_floats(a->user_factors, b->user_factors, nu * k) ||
      !same_floats(a->item_factors, b->item_factors, ni * k) ||
      !same_floats(a->user_bias, b->user_bias, nu) || !same_floats(a->item_bias, b->item_bias, ni) ||
      !same_floats(a->ease_b, b->ease_b, a->ease_b ? ni * ni : 0))
    return 0;
  if (!same_ids(a->users, b->users) || !same_ids(a->items, b->items)) return 0;
  if (a->seen.rows != b->seen.rows || a->seen.nnz != b->seen.nnz ||
      memcmp(a->seen.indptr, b->seen.indptr, (a->seen.rows + 1) * sizeof(uint64_t)) != 0 ||
      memcmp(a->seen.indices, b->seen.indices, a->seen.nnz * sizeof(uint32_t)) != 0)
    return 0;
  return 1;
}

/* ------------------------------------------------------------ training */

static int g_compare; /* 0 for runs that are not bit-reproducible (bpr on 2 threads) */

static int train_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_model *m = NULL;
  int rc = mx_model_train(g_data, &g_opt, &m, &err);
  if (rc != MX_OK) {
    if (m) return MX_EINVAL; /* *out must stay NULL on error */
    return failed(rc, &err);
  }
  if (!g_ref) {
    g_ref = m; /* the clean run: kept as the reference */
    return MX_OK;
  }
  if (g_compare && !same_model(m, g_ref)) rc = MX_EINVAL;
  mx_model_free(m);
  return rc;
}

static mx_train_options small_options(mx_model_kind algo, int threads) {
  mx_train_options o = mx_train_defaults(algo);
  o.factors = algo == MX_MODEL_EASE ? 0 : 4;
  o.threads = threads;
  o.report_loss = 1;
  switch (algo) {
  case MX_MODEL_MF: o.epochs = 3; break;
  case MX_MODEL_ALS: o.epochs = 2; break;
  case MX_MODEL_IALS: o.epochs = 2; o.reg = 1; break;
  case MX_MODEL_BPR: o.epochs = 2; break;
  case MX_MODEL_BPMF: o.epochs = 4; o.burn_in = 2; o.samples = 2; break;
  default: break;
  }
  return o;
}

static void sweep_train(mx_model_kind algo, int threads) {
  g_opt = small_options(algo, threads);
  g_compare = !(algo == MX_MODEL_BPR && threads > 1);
  g_ref = NULL;
  char what[64];
  snprintf(what, sizeof what, "train %s, %d thread%s", mx_model_kind_name(algo), threads,
           threads > 1 ? "s" : "");
  long points = fa_sweep(train_once, what);
  fprintf(stderr, "%s: %ld allocation-failure points tested\n", what, points);
  mx_model_free(g_ref);
  g_ref = NULL;
}

static void test_train_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_MF,  MX_MODEL_ALS,  MX_MODEL_IALS,
                                 MX_MODEL_BPR, MX_MODEL_EASE, MX_MODEL_BPMF};
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++)
    for (int threads = 1; threads <= 2; threads++) sweep_train(algos[a], threads);
}

/* The options the command line and the Lua layer also use: a test set
 * scored per epoch with early stopping (mf keeps a snapshot of the best
 * epoch), warm starts from a previous model, the borrowed seen CSR, exact
 * iALS solves, the iALS objective. */
static void test_train_variants_every_allocation(void **s) {
  (void)s;
  long points = 0;
  for (int threads = 1; threads <= 2; threads++) {
    mx_error err;
    mx_model *warm[3] = {NULL, NULL, NULL};
    const mx_model_kind algos[] = {MX_MODEL_MF, MX_MODEL_IALS, MX_MODEL_ALS};
    for (int a = 0; a < 3; a++) {
      mx_train_options o = small_options(algos[a], 1);
      o.seed = 7; /* a different start than the sweeps */
      assert_int_equal(mx_model_train(g_data, &o, &warm[a], &err), MX_OK);
    }
    for (int a = 0; a < 3; a++) {
      g_opt = small_options(algos[a], threads);
      g_opt.init = warm[a];
      g_opt.test = &g_test;
      if (algos[a] == MX_MODEL_MF) {
        g_opt.epochs = 6;
        g_opt.early_stop = 1;
      }
      if (algos[a] == MX_MODEL_IALS) {
        g_opt.cg_steps = 0;
        g_opt.borrow_seen = 1;
      }
      g_compare = 1;
      g_ref = NULL;
      points += fa_sweep(train_once, "train variants");
      mx_model_free(g_ref);
      g_ref = NULL;
    }
    for (int a = 0; a < 3; a++) mx_model_free(warm[a]);
  }
  fprintf(stderr, "train variants (test set, early stop, warm start, borrowed seen, exact "
                  "iALS): %ld allocation-failure points tested\n", points);
}

/* ----------------------------------------------------------------- tune */

static mx_train_options g_tuned;
static double g_tuned_best;
static int g_tuned_have;

static int tune_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_train_options o = g_opt;
  double best = 0;
  int rc = mx_train_tune(g_data, &o, 0.2, &best, &err);
  if (rc != MX_OK) return failed(rc, &err);
  if (!g_tuned_have) {
    g_tuned = o;
    g_tuned_best = best;
    g_tuned_have = 1;
    return MX_OK;
  }
  return best == g_tuned_best && o.reg == g_tuned.reg && o.alpha == g_tuned.alpha &&
                 o.lr == g_tuned.lr
             ? MX_OK
             : MX_EINVAL;
}

static void test_tune_every_allocation(void **s) {
  (void)s;
  /* als: a grid of 3 trainings scored by RMSE. tune.c's own allocations
   * (the validation slice, the pairs of each score) do not depend on the
   * algorithm; training, the ranking metrics of implicit models and the
   * other grids' trainers are swept above and below, and a sweep over the
   * ease grid (5 trainings) would double the time of this test. */
  g_opt = small_options(MX_MODEL_ALS, 1);
  g_tuned_have = 0;
  long points = fa_sweep(tune_once, "tune");
  fprintf(stderr, "tune (als grid): %ld allocation-failure points tested\n", points);
}

/* A trained reference model of each kind for the sweeps below. */
static mx_model *trained(mx_model_kind algo) {
  mx_train_options o = small_options(algo, 1);
  mx_error err;
  mx_model *m = NULL;
  assert_int_equal(mx_model_train(g_data, &o, &m, &err), MX_OK);
  return m;
}

/* ------------------------------------------------------- save, load, clone */

static int save_once(void) {
  mx_error err;
  mx_error_clear(&err);
  remove(g_path);
  int rc = mx_model_save(g_ref, g_path, &err);
  if (rc != MX_OK) {
    FILE *f = fopen(g_path, "rb"); /* a failed save leaves no file */
    if (f) {
      fclose(f);
      return MX_EINVAL;
    }
    return failed(rc, &err);
  }
  return MX_OK;
}

static int load_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_model *m = NULL;
  int rc = mx_model_load(g_path, &m, &err);
  if (rc != MX_OK) return m ? MX_EINVAL : failed(rc, &err);
  if (!same_model(m, g_ref)) rc = MX_EINVAL;
  mx_model *c = NULL;
  if (rc == MX_OK) {
    rc = mx_model_clone(m, &c, &err);
    if (rc == MX_OK) {
      if (!same_model(c, g_ref)) rc = MX_EINVAL;
      mx_model_free(c);
    } else {
      rc = c ? MX_EINVAL : failed(rc, &err);
    }
  }
  mx_model_free(m);
  return rc;
}

/* No temporary file of a failed atomic write may stay behind. */
static int files_in_tmpdir(void) {
  DIR *dir = opendir(tu_tmpdir());
  assert_non_null(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(dir);
  return n;
}

static void test_model_io_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_MF, MX_MODEL_IALS, MX_MODEL_BPR, MX_MODEL_EASE,
                                 MX_MODEL_BPMF};
  long save_points = 0, load_points = 0;
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    g_ref = trained(algos[a]);
    g_path = tu_path("faults.mxm");
    int before = files_in_tmpdir();
    save_points += fa_sweep(save_once, "model save");
    assert_int_equal(files_in_tmpdir(), before + 1);
    load_points += fa_sweep(load_once, "model load + clone");
    remove(g_path);
    mx_model_free(g_ref);
    g_ref = NULL;
  }
  fprintf(stderr, "model save: %ld allocation-failure points tested\n", save_points);
  fprintf(stderr, "model load + clone: %ld allocation-failure points tested\n", load_points);
}

/* ------------------------------------------------------------------ npy */

static int npy_once(void) {
  mx_error err;
  mx_error_clear(&err);
  remove(g_path);
  int rc = mx_npy_write(g_path, g_ref->item_factors, g_ref->n_items, g_ref->factors, &err);
  if (rc != MX_OK) return failed(rc, &err);
  float *data = NULL;
  uint64_t rows = 0, cols = 0;
  rc = mx_npy_read(g_path, &data, &rows, &cols, &err);
  if (rc != MX_OK) return data ? MX_EINVAL : failed(rc, &err);
  if (rows != g_ref->n_items || cols != g_ref->factors ||
      !same_floats(data, g_ref->item_factors, rows * cols))
    rc = MX_EINVAL;
  mx_free_aligned(data);
  return rc;
}

static void test_npy_every_allocation(void **s) {
  (void)s;
  g_ref = trained(MX_MODEL_IALS);
  g_path = tu_path("faults.npy");
  int before = files_in_tmpdir();
  long points = fa_sweep(npy_once, "npy write + read");
  assert_int_equal(files_in_tmpdir(), before + 1);
  remove(g_path);
  fprintf(stderr, "npy write + read: %ld allocation-failure points tested\n", points);
  mx_model_free(g_ref);
  g_ref = NULL;
}

/* -------------------------------------------------------------- fold-in */

static float g_fold_x[16], g_fold_bias;
static int g_fold_ref;

static int foldin_once(void) {
  mx_error err;
  mx_error_clear(&err);
  const mx_csr *R = &g_ref->seen;
  uint32_t u = 3;
  const uint32_t *items = R->indices + R->indptr[u];
  const float *values = R->values + R->indptr[u];
  size_t n = (size_t)(R->indptr[u + 1] - R->indptr[u]);
  float x[16], bias = 0;
  int rc = mx_model_fold_in(g_ref, items, values, n, x, &bias, &err);
  if (rc != MX_OK) return failed(rc, &err);
  if (!g_fold_ref) {
    memcpy(g_fold_x, x, sizeof x);
    g_fold_bias = bias;
    g_fold_ref = 1;
    return MX_OK;
  }
  return memcmp(x, g_fold_x, g_ref->factors * sizeof(float)) == 0 && bias == g_fold_bias
             ? MX_OK
             : MX_EINVAL;
}

static void test_foldin_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_MF, MX_MODEL_ALS, MX_MODEL_IALS, MX_MODEL_BPR};
  long points = 0;
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    g_ref = trained(algos[a]);
    g_fold_ref = 0;
    points += fa_sweep(foldin_once, "fold-in");
    mx_model_free(g_ref);
    g_ref = NULL;
  }
  fprintf(stderr, "fold-in: %ld allocation-failure points tested\n", points);
}

/* ----------------------------------------------------------- evaluation */

static int g_threads;
static mx_eval_result g_eval_ref;
static int g_eval_have;

static int eval_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_ingest_options o = mx_ingest_defaults();
  int rc = mx_columns_parse("user=u,item=i,value=v", NULL, &o.columns, &err);
  if (rc != MX_OK) return failed(rc, &err);
  mx_pairs p;
  rc = mx_pairs_read(g_test_csv, &o, g_ref->users, g_ref->items, &p, &err);
  if (rc != MX_OK) return p.n || p.user ? MX_EINVAL : failed(rc, &err);
  if (p.n != 120) rc = MX_EINVAL;
  mx_eval_result r;
  if (rc == MX_OK) {
    rc = mx_model_evaluate(g_ref, &p, 5, g_threads, &r, &err);
    if (rc != MX_OK) {
      rc = failed(rc, &err);
    } else if (!g_eval_have) {
      g_eval_ref = r;
      g_eval_have = 1;
    } else if (memcmp(&r, &g_eval_ref, sizeof r) != 0) {
      rc = MX_EINVAL;
    }
  }
  mx_pairs_free(&p);
  return rc;
}

static void test_eval_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_ALS, MX_MODEL_IALS, MX_MODEL_EASE};
  long points = 0;
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    g_ref = trained(algos[a]);
    for (g_threads = 1; g_threads <= 2; g_threads++) {
      memset(&g_eval_ref, 0, sizeof g_eval_ref);
      g_eval_have = 0;
      points += fa_sweep(eval_once, "evaluate");
    }
    mx_model_free(g_ref);
    g_ref = NULL;
  }
  fprintf(stderr, "pairs read + evaluate: %ld allocation-failure points tested\n", points);
}

/* ---------------------------------------------------------------- top-K */

static mx_topk_result *g_topk_ref;

static int same_topk(const mx_topk_result *a, const mx_topk_result *b) {
  size_t n = (size_t)a->n * a->k;
  return a->n == b->n && a->k == b->k && a->eligible == b->eligible &&
         memcmp(a->ids, b->ids, n * sizeof(uint32_t)) == 0 &&
         memcmp(a->scores, b->scores, n * sizeof(float)) == 0 &&
         memcmp(a->count, b->count, a->n * sizeof(uint32_t)) == 0;
}

/* The clean run's result becomes the reference; every later run that
 * succeeds must equal it. Takes r. */
static int against_ref(mx_topk_result *r) {
  if (!g_topk_ref) {
    g_topk_ref = r;
    return MX_OK;
  }
  int rc = same_topk(r, g_topk_ref) ? MX_OK : MX_EINVAL;
  mx_topk_result_free(r);
  return rc;
}

static int topk_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_topk_options o = mx_topk_defaults();
  o.k = 5;
  o.threads = g_threads;
  o.tile_users = 7; /* several tiles and blocks, so threads share the work */
  o.tile_items = 9;
  mx_topk_result *r = NULL;
  int rc = mx_topk_batch(g_ref, NULL, 0, &o, &r, &err);
  if (rc != MX_OK) return r ? MX_EINVAL : failed(rc, &err);
  return against_ref(r);
}

static int similar_once(void) {
  mx_error err;
  mx_error_clear(&err);
  mx_topk_options o = mx_topk_defaults();
  o.k = 5;
  o.threads = g_threads;
  uint32_t items[] = {0, 1, 2, 3, 4, 5, 6, 7};
  mx_topk_result *r = NULL;
  int rc = mx_similar_items(g_ref, items, 8, MX_SIM_COSINE, &o, &r, &err);
  if (rc != MX_OK) return r ? MX_EINVAL : failed(rc, &err);
  return against_ref(r);
}

static void test_topk_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_MF, MX_MODEL_IALS, MX_MODEL_EASE};
  long topk_points = 0, similar_points = 0;
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    g_ref = trained(algos[a]);
    for (g_threads = 1; g_threads <= 2; g_threads++) {
      topk_points += fa_sweep(topk_once, "top-K");
      mx_topk_result_free(g_topk_ref);
      g_topk_ref = NULL;
      similar_points += fa_sweep(similar_once, "similar items");
      mx_topk_result_free(g_topk_ref);
      g_topk_ref = NULL;
    }
    mx_model_free(g_ref);
    g_ref = NULL;
  }
  fprintf(stderr, "top-K: %ld allocation-failure points tested\n", topk_points);
  fprintf(stderr, "similar items: %ld allocation-failure points tested\n", similar_points);
}

/* The other scoring calls, their outputs gathered into one buffer compared
 * with the clean run's: top-K for vectors that are not model rows (fold-in,
 * or an EASE history), similar users, the full score matrix, scores of
 * pairs, explanations. */
static unsigned char g_blob[1 << 16], g_blob_ref[1 << 16];
static size_t g_blob_n, g_blob_ref_n;

static void blob_add(const void *p, size_t n) {
  assert_true(g_blob_n + n <= sizeof g_blob);
  memcpy(g_blob + g_blob_n, p, n);
  g_blob_n += n;
}

static void blob_topk(const mx_topk_result *r) {
  blob_add(r->ids, (size_t)r->n * r->k * sizeof(uint32_t));
  blob_add(r->scores, (size_t)r->n * r->k * sizeof(float));
  blob_add(r->count, r->n * sizeof(uint32_t));
}

static int extras_once(void) {
  mx_error err;
  mx_error_clear(&err);
  const mx_model *m = g_ref;
  g_blob_n = 0;
  mx_topk_options o = mx_topk_defaults();
  o.k = 4;
  o.threads = g_threads;
  mx_topk_result *r = NULL;
  int rc;
  /* five users as outside vectors (history: their seen rows) */
  mx_csr hist = m->seen;
  hist.rows = 5;
  hist.nnz = m->seen.indptr[5];
  rc = mx_topk_vectors(m, m->factors ? m->user_factors : NULL, m->user_bias, &hist, 5, &o, &r,
                       &err);
  if (rc != MX_OK) return r ? MX_EINVAL : failed(rc, &err);
  blob_topk(r);
  mx_topk_result_free(r);
  r = NULL;
  uint32_t q[] = {0, 5, 9, 17};
  if (m->kind != MX_MODEL_EASE) {
    rc = mx_similar_users(m, q, 4, MX_SIM_DOT, &o, &r, &err);
    if (rc != MX_OK) return r ? MX_EINVAL : failed(rc, &err);
    blob_topk(r);
    mx_topk_result_free(r);
  }
  static float matrix[60 * 40];
  rc = mx_score_matrix(m, NULL, 0, NULL, 0, g_threads, matrix, &err);
  if (rc != MX_OK) return failed(rc, &err);
  blob_add(matrix, sizeof matrix);
  uint32_t pu[] = {0, 0, 1, 2}, pi[] = {0, 1, 2, 3};
  float ps[4];
  rc = mx_score_pairs(m, pu, pi, 4, ps, &err);
  if (rc != MX_OK) return failed(rc, &err);
  blob_add(ps, sizeof ps);
  uint32_t ei[4 * 3], ec[4];
  float ew[4 * 3];
  rc = mx_explain(m, pu, pi, 4, 3, ei, ew, ec, &err);
  if (rc != MX_OK) return failed(rc, &err);
  blob_add(ec, sizeof ec);
  for (int p = 0; p < 4; p++) {
    blob_add(ei + p * 3, ec[p] * sizeof(uint32_t));
    blob_add(ew + p * 3, ec[p] * sizeof(float));
  }
  if (!g_blob_ref_n) {
    memcpy(g_blob_ref, g_blob, g_blob_n);
    g_blob_ref_n = g_blob_n;
    return MX_OK;
  }
  return g_blob_n == g_blob_ref_n && memcmp(g_blob, g_blob_ref, g_blob_n) == 0 ? MX_OK : MX_EINVAL;
}

static void test_scoring_extras_every_allocation(void **s) {
  (void)s;
  const mx_model_kind algos[] = {MX_MODEL_ALS, MX_MODEL_IALS, MX_MODEL_BPR, MX_MODEL_EASE};
  long points = 0;
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    g_ref = trained(algos[a]);
    for (g_threads = 1; g_threads <= 2; g_threads++) {
      g_blob_ref_n = 0;
      points += fa_sweep(extras_once, "scoring extras");
    }
    mx_model_free(g_ref);
    g_ref = NULL;
  }
  fprintf(stderr, "top-K of vectors, similar users, score matrix, score pairs, explain: %ld "
                  "allocation-failure points tested\n", points);
}

/* ---------------------------------------------------------------- setup */

static int setup(void **s) {
  (void)s;
  /* 60 users x 40 items, ratings 1..5 with a user and an item effect; 600
   * rows drawn deterministically (repeats aggregate), 120 more held out. */
  char *train = malloc(1 << 16), *test = malloc(1 << 15);
  assert_non_null(train);
  assert_non_null(test);
  size_t nt = (size_t)sprintf(train, "u,i,v\n"), ne = (size_t)sprintf(test, "u,i,v\n");
  uint64_t x = 12345;
  for (int q = 0; q < 720; q++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int u = (int)((x >> 33) % 60), i = (int)((x >> 17) % 40);
    int v = 1 + (u % 3 + i % 4 + (int)((x >> 50) % 2)) % 5;
    if (q < 600)
      nt += (size_t)sprintf(train + nt, "user%d,item%d,%d\n", u, i, v);
    else
      ne += (size_t)sprintf(test + ne, "user%d,item%d,%d\n", u, i, v);
  }
  const char *path = tu_write("faults_train.csv", train);
  g_test_csv = tu_write("faults_test.csv", test);
  free(train);
  free(test);
  mx_ingest_options o = mx_ingest_defaults();
  mx_error err;
  assert_int_equal(mx_columns_parse("user=u,item=i,value=v", NULL, &o.columns, &err), MX_OK);
  assert_int_equal(mx_dataset_load_csv(path, &o, &g_data, &err), MX_OK);
  assert_int_equal(mx_dataset_users(g_data), 60);
  assert_int_equal(mx_dataset_items(g_data), 40);
  assert_int_equal(mx_pairs_read(g_test_csv, &o, g_data->users, g_data->items, &g_test, &err),
                   MX_OK);
  assert_int_equal(g_test.n, 120);
  return 0;
}

static int teardown(void **s) {
  (void)s;
  mx_pairs_free(&g_test);
  mx_dataset_free(g_data);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_train_every_allocation),
      cmocka_unit_test(test_train_variants_every_allocation),
      cmocka_unit_test(test_tune_every_allocation),
      cmocka_unit_test(test_model_io_every_allocation),
      cmocka_unit_test(test_npy_every_allocation),
      cmocka_unit_test(test_foldin_every_allocation),
      cmocka_unit_test(test_eval_every_allocation),
      cmocka_unit_test(test_topk_every_allocation),
      cmocka_unit_test(test_scoring_extras_every_allocation),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
