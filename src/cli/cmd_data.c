/* merx data stats: a summary of an interaction file; merx data pack: the
 * dataset built once and written as a .mxd that every --data takes. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx data stats --data FILE [--columns ROLE=NAME,...] [--no-header] [--sep C]\n"
    "                       [--event-weights view=1,cart=4,...] [--top N] [--store DIR] [--json]\n\n"
    "Summarise an interaction file: users, items, distinct (user, item) pairs, density,\n"
    "value and time ranges, and the most popular items. Roles: user, item, value, time,\n"
    "event. Without --columns the first two columns are user and item. Rows with an\n"
    "empty user or item id are skipped and counted. With --store DIR (default\n"
    "$MERX_STORE) holding a key, user ids are pseudonymised as they are read.\n"
    "\nExample:\n"
    "  merx data stats --data examples/data/purchases.csv.gz\n"
    "      --columns user=CustomerID,item=StockCode --top 5\n";

int mx__cmd_data_promotions(int argc, char **argv); /* data_promotions.c */

static const char *pack_usage =
    "usage: merx data pack --data FILE [--columns ROLE=NAME,...] [--no-header] [--sep C]\n"
    "                      [--event-weights view=1,cart=4,...] [--store DIR] --out FILE.mxd\n"
    "                      [--json]\n\n"
    "Parse an interaction file once and write the dataset it builds (ids, interactions,\n"
    "values, times) as a packed binary file. Every command that reads interactions\n"
    "with --data (train, data stats) takes the .mxd in place of the CSV and gives the\n"
    "same results, loading it in a fraction of the time; the column options are those\n"
    "given here. With --store DIR (default $MERX_STORE) holding a key, the file holds\n"
    "pseudonyms, as the CSV path would. --json prints users, items, interactions,\n"
    "bytes and seconds.\n"
    "\nExample:\n"
    "  merx data pack --data examples/data/purchases.csv.gz\n"
    "      --columns user=CustomerID,item=StockCode --out purchases.mxd\n";

static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};

typedef struct {
  uint32_t item;
  uint32_t users;
  double value;
} item_pop;

static int by_users_desc(const void *a, const void *b) {
  const item_pop *x = a, *y = b;
  if (x->users != y->users) return x->users > y->users ? -1 : 1;
  return x->item < y->item ? -1 : x->item > y->item;
}

static int data_stats(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "data stats", "data= top= json store=" MX_CLI_INPUT_SPEC, argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data"))) return rc;
  long top;
  if ((rc = mx__args_int(&a, "top", 10, 0, 1000000, &top))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  const char *path = mx__args_get(&a, "data", NULL);
  struct mx_pseudonymiser *pseudo = NULL; /* a keyed store: stats of pseudonyms */
  if ((rc = mx__cli_ingest_pseudonyms(&a, &opt, &pseudo))) return rc;

  mx_error err;
  mx_error_clear(&err);
  mx_dataset *d;
  double t0 = mx__now_seconds();
  rc = mx_dataset_load_csv(path, &opt, &d, &err);
  mx__pseudonymiser_free(pseudo);
  if (rc != MX_OK) return mx__cli_fail("data stats", &err);
  double secs = mx__now_seconds() - t0;

  uint32_t nu = mx_dataset_users(d), ni = mx_dataset_items(d);
  uint64_t nnz = mx_dataset_nnz(d);
  double density = (double)nnz / ((double)nu * (double)ni);
  item_pop *pop = malloc((ni ? ni : 1) * sizeof *pop);
  if (!pop) {
    mx_dataset_free(d);
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    return mx__cli_fail("data stats", &err);
  }
  for (uint32_t i = 0; i < ni; i++) {
    pop[i].item = i;
    pop[i].users = (uint32_t)(d->by_item.indptr[i + 1] - d->by_item.indptr[i]);
    double s = 0;
    for (uint64_t k = d->by_item.indptr[i]; k < d->by_item.indptr[i + 1]; k++)
      s += d->by_item.values[k];
    pop[i].value = s;
  }
  qsort(pop, ni, sizeof *pop, by_users_desc);
  if ((uint32_t)top > ni) top = ni;
  uint32_t min_u = UINT32_MAX, max_u = 0;
  for (uint32_t u = 0; u < nu; u++) {
    uint32_t n = (uint32_t)(d->by_user.indptr[u + 1] - d->by_user.indptr[u]);
    if (n < min_u) min_u = n;
    if (n > max_u) max_u = n;
  }
  char t1[32], t2[32];
  mx_format_time(d->time_min, 0, t1, sizeof t1);
  mx_format_time(d->time_max, 0, t2, sizeof t2);

  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "file"); mx__json_string(&j, path);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)d->rows_read);
    mx__json_key(&j, "rows_skipped"); mx__json_int(&j, (int64_t)d->rows_skipped);
    mx__json_key(&j, "users"); mx__json_int(&j, nu);
    mx__json_key(&j, "items"); mx__json_int(&j, ni);
    mx__json_key(&j, "interactions"); mx__json_int(&j, (int64_t)nnz);
    mx__json_key(&j, "density"); mx__json_double(&j, density);
    mx__json_key(&j, "items_per_user_min"); mx__json_int(&j, nu ? min_u : 0);
    mx__json_key(&j, "items_per_user_max"); mx__json_int(&j, max_u);
    mx__json_key(&j, "items_per_user_mean"); mx__json_double(&j, nu ? (double)nnz / nu : 0);
    if (d->has_value) {
      mx__json_key(&j, "value_min"); mx__json_double(&j, d->value_min);
      mx__json_key(&j, "value_max"); mx__json_double(&j, d->value_max);
      mx__json_key(&j, "value_mean"); mx__json_double(&j, nnz ? d->value_sum / (double)nnz : 0);
    }
    if (d->has_time) {
      mx__json_key(&j, "time_min"); mx__json_string(&j, t1);
      mx__json_key(&j, "time_max"); mx__json_string(&j, t2);
    }
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_key(&j, "top_items");
    mx__json_array_begin(&j);
    for (long k = 0; k < top; k++) {
      mx__json_object_begin(&j);
      mx__json_key(&j, "item"); mx__json_string(&j, mx_idmap_name(d->items, pop[k].item));
      mx__json_key(&j, "users"); mx__json_int(&j, pop[k].users);
      mx__json_key(&j, "value"); mx__json_double(&j, pop[k].value);
      mx__json_object_end(&j);
    }
    mx__json_array_end(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("file           %s\n", path);
    printf("rows           %llu (%llu skipped: empty user or item)\n",
           (unsigned long long)d->rows_read, (unsigned long long)d->rows_skipped);
    printf("users          %u\n", nu);
    printf("items          %u\n", ni);
    printf("interactions   %llu distinct (user, item) pairs\n", (unsigned long long)nnz);
    printf("density        %.6f%%\n", 100.0 * density);
    printf("items/user     min %u, mean %.2f, max %u\n", nu ? min_u : 0,
           nu ? (double)nnz / nu : 0.0, max_u);
    if (d->has_value)
      printf("value          min %g, mean %g, max %g (per pair, after aggregation)\n",
             d->value_min, nnz ? d->value_sum / (double)nnz : 0.0, d->value_max);
    if (d->has_time) printf("time           %s .. %s\n", t1, t2);
    if (top > 0) {
      printf("top items      (by number of users)\n");
      for (long k = 0; k < top; k++)
        printf("  %3ld. %-20s %8u users  %12.2f value\n", k + 1,
               mx_idmap_name(d->items, pop[k].item), pop[k].users, pop[k].value);
    }
    fprintf(stderr, "read in %.3f s\n", secs);
  }
  free(pop);
  mx_dataset_free(d);
  return MX_EXIT_OK;
}

static int data_pack(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "data pack", "data= out= json store=" MX_CLI_INPUT_SPEC, argc, argv,
                         3);
  if (rc) return rc;
  if (mx__cli_help(&a, pack_usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "out"))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  const char *path = mx__args_get(&a, "data", NULL), *out = mx__args_get(&a, "out", NULL);
  struct mx_pseudonymiser *pseudo = NULL;
  if ((rc = mx__cli_ingest_pseudonyms(&a, &opt, &pseudo))) return rc;
  mx_error err;
  mx_error_clear(&err);
  mx_dataset *d;
  double t0 = mx__now_seconds();
  rc = mx_dataset_load_csv(path, &opt, &d, &err);
  mx__pseudonymiser_free(pseudo);
  if (rc != MX_OK) return mx__cli_fail("data pack", &err);
  /* a keyed load made pseudonyms (of a CSV, or of a plain .mxd) */
  rc = mx_dataset_save(d, opt.user_rewrite ? opt.user_rewrite_check : d->pseudonym_key, out, &err);
  double secs = mx__now_seconds() - t0;
  if (rc != MX_OK) {
    mx_dataset_free(d);
    return mx__cli_fail("data pack", &err);
  }
  struct stat st;
  long long bytes = strcmp(out, "-") != 0 && stat(out, &st) == 0 ? (long long)st.st_size : -1;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_key(&j, "users"); mx__json_int(&j, mx_dataset_users(d));
    mx__json_key(&j, "items"); mx__json_int(&j, mx_dataset_items(d));
    mx__json_key(&j, "interactions"); mx__json_int(&j, (int64_t)mx_dataset_nnz(d));
    mx__json_key(&j, "bytes"); mx__json_int(&j, bytes);
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else if (strcmp(out, "-") != 0) {
    fprintf(stderr, "packed %u users, %u items, %llu interactions into %s (%lld bytes) in %.3f s\n",
            mx_dataset_users(d), mx_dataset_items(d), (unsigned long long)mx_dataset_nnz(d), out,
            bytes, secs);
  }
  mx_dataset_free(d);
  return MX_EXIT_OK;
}

int mx__cmd_data(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
    fputs("usage: merx data stats --data FILE [options]   (merx data stats --help)\n"
          "       merx data promotions --store DIR --data FILE --horizon H --out FILE\n"
          "                                                (merx data promotions --help)\n"
          "       merx data pack --data FILE [options] --out FILE.mxd   (merx data pack --help)\n"
          "\nExample:\n"
          "  merx data stats --data examples/data/purchases.csv.gz\n"
          "      --columns user=CustomerID,item=StockCode --top 5\n",
          argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (strcmp(argv[2], "stats") == 0) return data_stats(argc, argv);
  if (strcmp(argv[2], "promotions") == 0) return mx__cmd_data_promotions(argc, argv);
  if (strcmp(argv[2], "pack") == 0) return data_pack(argc, argv);
  return mx__cli_unknown_subcommand("data", argv[2], "stats pack promotions");
}
