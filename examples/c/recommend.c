/* A complete libmerx program: read purchases, train an implicit-feedback model,
 * save it, and print the top 5 products for a customer. docs/c-api.md walks
 * through it; tests/cli/c_example.sh builds it against the built library.
 *
 *   cc recommend.c -o recommend $(pkg-config --cflags --libs merx)
 *   ./recommend examples/data/purchases.csv.gz out/shop.mxm 17850.0
 */
#include <merx/merx.h>
#include <stdio.h>
#include <string.h>

/* Print err as "file:line:column: field 'f': message" and return 1. */
static int fail(const char *what, const mx_error *err) {
  char buf[1024];
  fprintf(stderr, "%s: %s\n", what, mx_error_format(err, buf, sizeof buf));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PURCHASES.csv[.gz] MODEL.mxm [CUSTOMER]\n", argv[0]);
    return 2;
  }
  mx_error err;
  mx_error_clear(&err);

  /* 1. Ingest: which columns are the user and the item (no value column:
   *    every purchase line counts 1, repeated lines add up). */
  mx_ingest_options in = mx_ingest_defaults();
  static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};
  if (mx_columns_parse("user=CustomerID,item=StockCode", roles, &in.columns, &err) != MX_OK)
    return fail("columns", &err);
  mx_dataset *data = NULL;
  if (mx_dataset_load_csv(argv[1], &in, &data, &err) != MX_OK) return fail("read", &err);
  printf("%u customers, %u products, %llu pairs\n", mx_dataset_users(data),
         mx_dataset_items(data), (unsigned long long)mx_dataset_nnz(data));

  /* 2. Train implicit ALS (defaults tuned on held-out data; a few sweeps here). */
  mx_train_options t = mx_train_defaults(MX_MODEL_IALS);
  t.factors = 16;
  t.epochs = 5;
  t.seed = 7;
  t.threads = 1;
  mx_model *model = NULL;
  int rc = mx_model_train(data, &t, &model, &err);
  mx_dataset_free(data); /* the model keeps its own copy of ids and seen items */
  if (rc != MX_OK) return fail("train", &err);

  /* 3. Save (written to a temporary file and renamed: never half-written);
   *    `merx recommend --model MODEL.mxm` reads the same file. */
  if (mx_model_save(model, argv[2], &err) != MX_OK) {
    mx_model_free(model);
    return fail("save", &err);
  }

  /* 4. Top 5 for one customer (by id; default: the first one). Items the
   *    customer already bought are left out. */
  const char *who = argc > 3 ? argv[3] : mx_idmap_name(model->users, 0);
  int64_t u = mx_idmap_find(model->users, who, strlen(who));
  if (u < 0) {
    fprintf(stderr, "unknown customer '%s'\n", who);
    mx_model_free(model);
    return 1;
  }
  uint32_t user = (uint32_t)u;
  mx_topk_options k = mx_topk_defaults();
  k.k = 5;
  k.threads = 1;
  mx_topk_result *top = NULL;
  if (mx_topk_batch(model, &user, 1, &k, &top, &err) != MX_OK) {
    mx_model_free(model);
    return fail("top-k", &err);
  }
  printf("top %u for customer %s:\n", top->count[0], who);
  for (uint32_t r = 0; r < top->count[0]; r++)
    printf("  %u. %s  %.4f\n", r + 1, mx_idmap_name(model->items, top->ids[r]), top->scores[r]);

  mx_topk_result_free(top);
  mx_model_free(model);
  return 0;
}
