/* mx_coldstart_extend, what `merx coldstart map` writes: the new rows get
 * the mapped factors of the fitted map (checked against fit + apply done
 * here), known items keep theirs, shrink pulls a known item towards its
 * mapped factors by n / (n + N), and a model without item factors is
 * refused. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/dataset.h"
#include "merx/embed.h"
#include "merx/model.h"

#define NU 12
#define NI 8
#define D 3

static mx_model *train(int kind) {
  mx_dataset_builder *b = mx_dataset_builder_create();
  char u[16], i[16];
  for (int a = 0; a < NU; a++)
    for (int c = 0; c < NI; c++) {
      if ((a * 7 + c * 3) % 4 == 0) continue;
      snprintf(u, sizeof u, "u%d", a);
      snprintf(i, sizeof i, "i%d", c);
      assert_int_equal(mx_dataset_builder_add(b, u, strlen(u), i, strlen(i), 1, 0), MX_OK);
    }
  mx_dataset *ds;
  mx_error err;
  assert_int_equal(mx_dataset_builder_finish(b, 0, 0, &ds, &err), MX_OK);
  mx_train_options to = mx_train_defaults(kind);
  to.factors = 4;
  to.epochs = 3;
  to.threads = 1;
  mx_model *m;
  if (mx_model_train(ds, &to, &m, &err) != MX_OK) fail_msg("%s", err.message);
  mx_dataset_free(ds);
  return m;
}

static void test_extend_matches_fit_and_apply(void **state) {
  (void)state;
  mx_model *base = train(MX_MODEL_IALS);
  uint32_t k = base->factors;
  /* rows: the 8 known items, then 2 new ones */
  const char *ids[NI + 2];
  char names[NI + 2][8];
  float x[(NI + 2) * D];
  for (int r = 0; r < NI + 2; r++) {
    snprintf(names[r], sizeof names[r], r < NI ? "i%d" : "new%d", r);
    ids[r] = names[r];
    for (int c = 0; c < D; c++) x[r * D + c] = (float)((r * 5 + c * 3) % 7) - 3.0f;
  }
  mx_model *ext;
  mx_coldstart_stats st;
  mx_error err;
  assert_int_equal(mx_coldstart_extend(base, x, NI + 2, D, ids, 0.5, 0, &ext, &st, &err), MX_OK);
  assert_int_equal(st.fit, NI);
  assert_int_equal(st.added, 2);
  assert_int_equal(st.shrunk, 0);
  assert_int_equal(ext->n_items, NI + 2);
  /* the reference: the map fitted on the known rows, applied to the new */
  float qf[NI * 8];
  for (int r = 0; r < NI; r++) {
    int64_t it = mx_idmap_find(base->items, ids[r], strlen(ids[r]));
    memcpy(qf + r * k, base->item_factors + (size_t)it * k, k * sizeof *qf);
  }
  mx_coldstart *cs;
  assert_int_equal(mx_coldstart_fit(x, qf, NI, D, k, 0.5, &cs, &err), MX_OK);
  NEAR(st.r2_train, cs->r2_train, 0);
  float qn[2 * 8];
  mx_coldstart_apply(cs, x + NI * D, 2, qn);
  for (int r = 0; r < 2; r++) {
    int64_t it = mx_idmap_find(ext->items, ids[NI + r], strlen(ids[NI + r]));
    assert_true(it >= NI);
    for (uint32_t c = 0; c < k; c++) NEAR(ext->item_factors[(size_t)it * k + c], qn[r * k + c], 0);
  }
  /* known items unchanged without shrink */
  assert_memory_equal(ext->item_factors, base->item_factors, (size_t)NI * k * sizeof(float));
  mx_model_free(ext);

  /* shrink N = 2: q = w q + (1 - w) q_text, w = n / (n + 2) */
  assert_int_equal(mx_coldstart_extend(base, x, NI + 2, D, ids, 0.5, 2, &ext, &st, &err), MX_OK);
  assert_int_equal(st.shrunk, NI);
  int64_t i0 = mx_idmap_find(base->items, "i0", 2);
  double n = 0;
  for (uint64_t q = 0; q < base->seen.indptr[base->seen.rows]; q++) n += base->seen.indices[q] == i0;
  assert_true(n > 0);
  double w = n / (n + 2);
  float qt[8];
  mx_coldstart_apply(cs, x, 1, qt); /* row 0 is i0 */
  for (uint32_t c = 0; c < k; c++)
    NEAR(ext->item_factors[(size_t)i0 * k + c],
         w * base->item_factors[(size_t)i0 * k + c] + (1 - w) * qt[c], 1e-6);
  mx_model_free(ext);
  mx_coldstart_free(cs);
  mx_model_free(base);
}

static void test_refuses_a_model_without_item_factors(void **state) {
  (void)state;
  mx_model *ease = train(MX_MODEL_EASE);
  const char *ids[1] = {"new"};
  float x[D] = {1, 2, 3};
  mx_model *ext = NULL;
  mx_coldstart_stats st;
  mx_error err;
  assert_int_equal(mx_coldstart_extend(ease, x, 1, D, ids, 1, 0, &ext, &st, &err), MX_EINVAL);
  assert_null(ext);
  assert_non_null(strstr(err.message, "no item factors to map to"));
  mx_model_free(ease);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_extend_matches_fit_and_apply),
                                     cmocka_unit_test(test_refuses_a_model_without_item_factors)};
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
