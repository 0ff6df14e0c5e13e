/* mx_search_taste, the collaborative half of `merx search --user`: a user's
 * model score for every indexed item the model knows, NAN for the others,
 * row by row of the index (whose order differs from the model's). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/dataset.h"
#include "merx/search.h"

static void test_taste_follows_the_index(void **state) {
  (void)state;
  mx_dataset_builder *b = mx_dataset_builder_create();
  char u[16], i[16];
  for (int a = 0; a < 10; a++)
    for (int c = 0; c < 6; c++) {
      if ((a + c) % 3 == 0) continue;
      snprintf(u, sizeof u, "u%d", a);
      snprintf(i, sizeof i, "i%d", c);
      assert_int_equal(mx_dataset_builder_add(b, u, strlen(u), i, strlen(i), 1, 0), MX_OK);
    }
  mx_dataset *ds;
  mx_error err;
  assert_int_equal(mx_dataset_builder_finish(b, 0, 0, &ds, &err), MX_OK);
  mx_train_options to = mx_train_defaults(MX_MODEL_IALS);
  to.factors = 3;
  to.epochs = 2;
  to.threads = 1;
  mx_model *m;
  assert_int_equal(mx_model_train(ds, &to, &m, &err), MX_OK);
  /* the index: two items the model knows in reverse order, one it does not */
  static const char *rows[] = {"i5", "unknown", "i0"};
  mx_embed_index ix;
  memset(&ix, 0, sizeof ix);
  ix.n = 3;
  ix.ids = mx_idmap_create();
  for (int r = 0; r < 3; r++) mx_idmap_intern(ix.ids, rows[r], strlen(rows[r]));
  int64_t user = mx_idmap_find(m->users, "u4", 2);
  assert_true(user >= 0);
  float taste[3];
  mx_search_taste(&ix, m, (uint32_t)user, taste);
  NEAR(taste[0], mx_model_predict(m, (uint32_t)user, (uint32_t)mx_idmap_find(m->items, "i5", 2)), 0);
  assert_true(isnan(taste[1]));
  NEAR(taste[2], mx_model_predict(m, (uint32_t)user, (uint32_t)mx_idmap_find(m->items, "i0", 2)), 0);
  mx_idmap_free(ix.ids);
  mx_model_free(m);
  mx_dataset_free(ds);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_taste_follows_the_index)};
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
