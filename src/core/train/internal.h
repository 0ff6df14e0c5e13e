/* Shared by the trainers (mf.c, als.c, ials.c, bpr.c, ease.c, bpmf.c,
 * foldin.c): the model shell built from a dataset, initial factors, and
 * per-epoch reporting. Not public. */
#ifndef MERX_TRAIN_INTERNAL_H
#define MERX_TRAIN_INTERNAL_H

#include <math.h>
#include "merx/model.h"

/* Trainers fill m (created by mx_model_train with ids, seen, shape). */
int mx__mf_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);
int mx__als_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);
int mx__ials_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);
int mx__bpr_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);
int mx__ease_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);
int mx__bpmf_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err);

/* Recency (recency.c). check: the options' half-life and blend against the
 * algorithm and the data. view: a shallow copy of d whose by_user/by_item
 * values are decayed (ials: value x weight; ease, bpr: the weight), owned
 * until mx__recency_view_free. blend: m (trained, factors k) becomes k + 1
 * factors carrying the recently-popular term. */
int mx__recency_check(const mx_dataset *d, const mx_train_options *o, mx_error *err);
int mx__recency_view(const mx_dataset *d, const mx_train_options *o, mx_dataset *view,
                    mx_error *err);
void mx__recency_view_free(mx_dataset *view);
int mx__recent_popular_blend(const mx_dataset *d, const mx_train_options *o, mx_model *m,
                            mx_error *err);

/* bpmf: samples stored side by side (the model has factors * kept columns). */
int mx__bpmf_kept(const mx_train_options *o);

/* Gaussian initial factors N(0, (init_std)^2 / k), one stream per seed; then
 * rows of ids also present in o->init are copied from it (warm start). */
void mx__train_init_factors(const mx_train_options *o, mx_model *m);

/* Report epoch e (1-based) through o->on_epoch, with test RMSE for explicit
 * models when o->test is set. Returns non-zero when the callback asks to stop. */
int mx__train_report(const mx_train_options *o, const mx_model *m, int epoch, double loss,
                    double started, double *test_rmse);

/* Solve the symmetric positive definite system A x = b (n x n, column-major,
 * upper triangle used; A is overwritten by its Cholesky factor, b by x).
 * Returns 0, or the LAPACK info > 0 when A is not positive definite. */
int mx__spd_solve(float *A, float *b, int n);

/* iALS objective (Hu et al. eq. 3) of m on d; NaN when out of memory. */
double mx__ials_loss(const mx_dataset *d, const mx_train_options *o, const mx_model *m);

/* iALS confidence of a stored value. */
static inline float mx_ials_confidence(const mx_train_options *o, float r) {
  return o->log_confidence ? 1.0f + (float)o->alpha * logf(1.0f + r / (float)o->eps)
                           : 1.0f + (float)o->alpha * r;
}

/* Hot loops get x86-64-v4 (AVX-512) and x86-64-v3 (AVX2+FMA) clones chosen at
 * load time by CPU features (glibc ifunc; "arch=haswell" would match only that
 * CPU model), so a generic x86-64 build still runs wide kernels where the CPU
 * has them. The results are bit-identical across clones (ISO C mode: no FMA
 * contraction; the same accumulation order). The v4 clone paid on an AVX-512
 * AMD EPYC (Zen 5): bpr on examples/data 0.93 -> 0.70 CPU-s, mf on MovieLens
 * u1 0.18 -> 0.15 (one thread, same models byte for byte). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MERX_NO_CLONES)
#define MX_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MX_HOT
#endif

/* Dot product with 8 independent float accumulators, so the compiler can
 * vectorise it without -ffast-math. */
static inline float mx_dotf(const float *a, const float *b, uint32_t k) {
  float s[8] = {0};
  uint32_t f = 0;
  for (; f + 8 <= k; f += 8)
    for (int j = 0; j < 8; j++) s[j] += a[f + j] * b[f + j];
  float t = 0;
  for (; f < k; f++) t += a[f] * b[f];
  return t + ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

#endif
