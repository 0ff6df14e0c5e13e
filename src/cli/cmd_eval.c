/* merx eval: score a model on held-out interactions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "merx/model.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx eval --model MODEL.mxm --test FILE [--columns ROLE=NAME,...] [--k 10]\n"
    "                 [--store DIR] [--threads T] [--json]\n\n"
    "Explicit models (mf, als, bpmf): rmse, mae and n over every test row.\n"
    "Implicit models (ials, bpr, ease, imported): for each user with test items, all items\n"
    "are ranked except the user's training items; reported are precision@K, recall@K,\n"
    "ndcg@K, map@K, hit_rate@K, auc (means over those users) and users.\n"
    "Test rows whose user or item the model never saw are counted in unknown: explicit\n"
    "models score them with the global mean plus the known bias; implicit models skip them.\n"
    "Input options: --sep C, --no-header, --columns user=..,item=..,value=..\n"
    "  --store DIR   the store whose key made a model's pseudonyms (default $MERX_STORE;\n"
    "                or MERX_STORE_KEY): the test file's real user ids are hashed with it\n"
    "\nExamples:\n"
    "  # on the output of merx split (see its --help)\n"
    "  merx train --data train.csv --columns user=CustomerID,item=StockCode --algo ease\n"
    "      --out ease.mxm\n"
    "  merx eval --model ease.mxm --test test.csv --columns user=CustomerID,item=StockCode\n";

static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};

int mx__cmd_eval(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "eval", "model= test= k= threads= store= json" MX_CLI_INPUT_SPEC, argc,
                         argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "test"))) return rc;
  long k;
  if ((rc = mx__args_int(&a, "k", 10, 1, 100000, &k))) return rc;
  int threads;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  mx_error err;
  mx_error_clear(&err);
  mx_model *m = NULL;
  mx_pseudonymiser *pseudo = NULL;
  mx_pairs test = {0};
  mx_eval_result r;
  double t0 = mx__now_seconds();
  if (mx_model_load(mx__args_get(&a, "model", NULL), &m, &err) != MX_OK) goto fail;
  int has_value = opt.n_events > 0;
  for (int q = 0; q < opt.columns.count; q++)
    has_value |= !strcmp(opt.columns.role[q], "value") || !strcmp(opt.columns.role[q], "event");
  if (!m->implicit && !has_value) {
    mx_error_at(&err, MX_EINVAL, mx__args_get(&a, "test", NULL), 0, 0, NULL,
                "a %s model predicts ratings: select the rating column (--columns ...,value=NAME)",
                mx_model_kind_name(m->kind));
    goto fail;
  }
  /* a model of pseudonyms: the test file's real ids are hashed with the key
   * (PRIVACY.md); without it they would all count as unknown */
  mx_pseudonym_lookup lookup = {m->users, NULL, 0};
  if (m->pseudonym_key) {
    if ((rc = mx__cli_pseudonymiser("eval", mx__args_get(&a, "store", mx__store_from_env()),
                                   &pseudo)))
      goto out;
    if (pseudo && mx__pseudonym_key_match(m->pseudonym_key, mx__pseudonymiser_key(pseudo),
                                         mx__args_get(&a, "model", NULL), &err) != MX_OK)
      goto fail;
    lookup.p = pseudo;
    opt.user_rewrite = mx__pseudonym_lookup_rewrite;
    opt.user_rewrite_ctx = &lookup;
  }
  if (mx_pairs_read(mx__args_get(&a, "test", NULL), &opt, m->users, m->items, &test, &err) != MX_OK)
    goto fail;
  if (lookup.needs_key) {
    mx__pseudonym_key_match(m->pseudonym_key, NULL, mx__args_get(&a, "model", NULL), &err);
    goto fail;
  }
  if (mx_model_evaluate(m, &test, (int)k, threads, &r, &err) != MX_OK) {
    /* keep the test file in the message: that is what the user must fix */
    if (!err.file[0]) snprintf(err.file, sizeof err.file, "%s", mx__args_get(&a, "test", NULL));
    goto fail;
  }
  double secs = mx__now_seconds() - t0;
  char key[64];
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "algo"); mx__json_string(&j, mx_model_kind_name(m->kind));
    if (!r.implicit) {
      mx__json_key(&j, "rmse"); mx__json_double(&j, r.rmse);
      mx__json_key(&j, "mae"); mx__json_double(&j, r.mae);
      mx__json_key(&j, "n"); mx__json_int(&j, (int64_t)r.n);
    } else {
      const char *names[] = {"precision", "recall", "ndcg", "map", "hit_rate"};
      double vals[] = {r.precision, r.recall, r.ndcg, r.map, r.hit_rate};
      for (int q = 0; q < 5; q++) {
        snprintf(key, sizeof key, "%s@%ld", names[q], k);
        mx__json_key(&j, key); mx__json_double(&j, vals[q]);
      }
      mx__json_key(&j, "auc"); mx__json_double(&j, r.auc);
      mx__json_key(&j, "users"); mx__json_int(&j, (int64_t)r.users);
      mx__json_key(&j, "k"); mx__json_int(&j, k);
      mx__json_key(&j, "test_pairs"); mx__json_int(&j, (int64_t)r.test_pairs);
      mx__json_key(&j, "seen_dropped"); mx__json_int(&j, (int64_t)r.seen_dropped);
    }
    mx__json_key(&j, "unknown"); mx__json_int(&j, (int64_t)r.unknown);
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__cli_json_blas(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else if (!r.implicit) {
    printf("rmse      %.4f\nmae       %.4f\nn         %zu\nunknown   %zu\n", r.rmse, r.mae, r.n,
           r.unknown);
  } else {
    printf("precision@%ld  %.4f\nrecall@%ld     %.4f\nndcg@%ld       %.4f\nmap@%ld        %.4f\n"
           "hit_rate@%ld   %.4f\nauc           %.4f\nusers         %zu\nunknown       %zu\n",
           k, r.precision, k, r.recall, k, r.ndcg, k, r.map, k, r.hit_rate, r.auc, r.users,
           r.unknown);
  }
  mx_pairs_free(&test);
  mx_model_free(m);
  mx__pseudonymiser_free(pseudo);
  return MX_EXIT_OK;
fail:
  rc = mx__cli_fail("eval", &err);
out:
  mx_pairs_free(&test);
  mx_model_free(m);
  mx__pseudonymiser_free(pseudo);
  return rc;
}
