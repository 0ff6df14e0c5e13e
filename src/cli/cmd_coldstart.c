/* merx coldstart: give items without interactions collaborative factors
 * mapped from their text embeddings (ridge regression), and measure how well
 * a model ranks such new items. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/llm_opts.h"
#include "merx/embed.h"
#include "merx/idlist.h"
#include "merx/model.h"
#include "util/util.h"

static const char *usage =
    "usage: merx coldstart map --model BASE.mxm --embeddings EMB.npy --out NEW.mxm\n"
    "                          [--reg 1.0] [--shrink N] [--json]\n"
    "       merx coldstart eval --model MODEL.mxm --test FILE --columns user=..,item=..\n"
    "                          --candidates ITEMS.txt [--k 10] [--json]\n\n"
    "map: learn a ridge-regression map from text embeddings (EMB.npy + EMB.ids, as\n"
    "written by merx embed) to the item factors of BASE, on the items that have both;\n"
    "then append every embedded item BASE does not know, with mapped factors, and\n"
    "write NEW.mxm (users, seen items and known items unchanged). --reg is the ridge\n"
    "penalty lambda. --shrink N also pulls the factors of known but sparse items\n"
    "towards their mapped ones: q = (n q + N q_text) / (n + N), n = the item's\n"
    "training users (a content prior, as in Agarwal & Chen's RLFM, KDD 2009).\n"
    "--json keys: items_fit, items_added, items_shrunk, r2_train, reg, seconds.\n\n"
    "eval: rank only the candidate items (one id per line) for each user of the test\n"
    "file who has a test item among them (training items excluded) and report\n"
    "precision@K, recall@K, ndcg@K, hit_rate@K and users.\n"
    "\nExamples:\n"
    "  merx coldstart map --model shop.mxm --embeddings items.npy\n"
    "      --out with_new_items.mxm\n"
    "  merx coldstart eval --model with_new_items.mxm --test test.csv\n"
    "      --columns user=CustomerID,item=StockCode\n"
    "      --candidates new_items.txt --k 10\n";

static int cold_map(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "coldstart map", "model= embeddings= out= reg= shrink= json", argc,
                         argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "embeddings")) ||
      (rc = mx__args_require(&a, "out")))
    return rc;
  double reg;
  if ((rc = mx__args_double(&a, "reg", 1.0, 1e-9, 1e12, &reg))) return rc;
  double shrink;
  if ((rc = mx__args_double(&a, "shrink", 0, 0, 1e9, &shrink))) return rc;
  const char *emb = mx__args_get(&a, "embeddings", NULL), *mp = mx__args_get(&a, "model", NULL);
  mx_error err;
  mx_error_clear(&err);
  double t0 = mx__now_seconds();
  mx_model *base = NULL, *out = NULL;
  float *x = NULL;
  char **ids = NULL;
  size_t nids = 0;
  uint64_t rows, d;
  mx_coldstart_stats st;
  char ids_path[1200];
  mx_embed_sidecar(emb, ".ids", ids_path, sizeof ids_path);
  if (mx_model_load(mp, &base, &err) || mx_npy_read(emb, &x, &rows, &d, &err) ||
      mx_embed_check(emb, x, rows, d, &err) || mx_id_lines_read(ids_path, 0, NULL, &ids, &nids, &err))
    goto fail;
  if (nids != rows) {
    mx_error_at(&err, MX_EFORMAT, ids_path, 0, 0, NULL, "%zu ids for %llu rows of %s", nids,
                (unsigned long long)rows, emb);
    goto fail;
  }
  if (base->factors == 0 || !base->item_factors) { /* named by its file here */
    mx_error_at(&err, MX_EINVAL, mp, 0, 0, NULL, "a %s model has no item factors to map to",
                mx_model_kind_name(base->kind));
    goto fail;
  }
  if (mx_coldstart_extend(base, x, rows, (uint32_t)d, (const char *const *)ids, reg, shrink, &out,
                          &st, &err))
    goto fail;
  if (mx_model_save(out, mx__args_get(&a, "out", NULL), &err)) goto fail;
  double secs = mx__now_seconds() - t0;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "items_fit"); mx__json_int(&j, (int64_t)st.fit);
    mx__json_key(&j, "items_added"); mx__json_int(&j, (int64_t)st.added);
    mx__json_key(&j, "items_shrunk"); mx__json_int(&j, (int64_t)st.shrunk);
    mx__json_key(&j, "r2_train"); mx__json_double(&j, st.r2_train);
    mx__json_key(&j, "reg"); mx__json_double(&j, reg);
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "fitted on %zu items (R^2 %.3f), added %zu new items -> %s (%.2f s)\n", st.fit,
            st.r2_train, st.added, mx__args_get(&a, "out", NULL), secs);
  }
  rc = MX_EXIT_OK;
  goto done;
fail:
  rc = mx__cli_fail("coldstart map", &err);
done:
  mx_model_free(base);
  mx_model_free(out);
  mx_free_aligned(x);
  mx_id_lines_free(ids, nids);
  return rc;
}

static const char *const roles[] = {"user", "item", NULL};

static int cold_eval(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "coldstart eval", "model= test= candidates= k= json" MX_CLI_INPUT_SPEC,
                         argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "test")) ||
      (rc = mx__args_require(&a, "candidates")))
    return rc;
  long k;
  if ((rc = mx__args_int(&a, "k", 10, 1, 100000, &k))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  mx_error err;
  mx_error_clear(&err);
  mx_model *m = NULL;
  char **cand = NULL;
  size_t ncand = 0;
  uint32_t *ci = NULL;
  mx_pairs test;
  memset(&test, 0, sizeof test);
  const char *mp = mx__args_get(&a, "model", NULL);
  if (mx_model_load(mp, &m, &err) ||
      mx_id_lines_read(mx__args_get(&a, "candidates", NULL), 0, NULL, &cand, &ncand, &err) ||
      mx_pairs_read(mx__args_get(&a, "test", NULL), &opt, m->users, m->items, &test, &err))
    goto fail;
  ci = malloc((ncand ? ncand : 1) * sizeof *ci);
  if (!ci) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  size_t nc = 0, unknown = 0;
  for (size_t i = 0; i < ncand; i++) {
    int64_t it = mx_idmap_find(m->items, cand[i], strlen(cand[i]));
    if (it < 0) unknown++;
    else ci[nc++] = (uint32_t)it;
  }
  if (nc == 0) {
    mx_error_at(&err, MX_EEMPTY, mx__args_get(&a, "candidates", NULL), 0, 0, NULL,
                "none of the %zu candidate items is in the model", ncand);
    goto fail;
  }
  mx_rank_metrics r;
  if (mx_rank_candidates_eval(m, ci, nc, &test, (size_t)k, &r, &err)) goto fail;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    char key[64];
    snprintf(key, sizeof key, "precision@%ld", k); mx__json_key(&j, key); mx__json_double(&j, r.precision);
    snprintf(key, sizeof key, "recall@%ld", k); mx__json_key(&j, key); mx__json_double(&j, r.recall);
    snprintf(key, sizeof key, "ndcg@%ld", k); mx__json_key(&j, key); mx__json_double(&j, r.ndcg);
    snprintf(key, sizeof key, "hit_rate@%ld", k); mx__json_key(&j, key); mx__json_double(&j, r.hit_rate);
    mx__json_key(&j, "users"); mx__json_int(&j, (int64_t)r.users);
    mx__json_key(&j, "pairs"); mx__json_int(&j, (int64_t)r.pairs);
    mx__json_key(&j, "candidates"); mx__json_int(&j, (int64_t)nc);
    mx__json_key(&j, "candidates_unknown"); mx__json_int(&j, (int64_t)unknown);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("candidates     %zu (%zu not in the model)\n", nc, unknown);
    printf("users          %zu (%zu test pairs)\n", r.users, r.pairs);
    printf("precision@%-4ld %.4f\nrecall@%-7ld %.4f\nndcg@%-9ld %.4f\nhit_rate@%-5ld %.4f\n", k,
           r.precision, k, r.recall, k, r.ndcg, k, r.hit_rate);
  }
  rc = MX_EXIT_OK;
  goto done;
fail:
  rc = mx__cli_fail("coldstart eval", &err);
done:
  mx_model_free(m);
  mx_pairs_free(&test);
  mx_id_lines_free(cand, ncand);
  free(ci);
  return rc;
}

int mx__cmd_coldstart(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
    fputs(usage, argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (strcmp(argv[2], "map") == 0) return cold_map(argc, argv);
  if (strcmp(argv[2], "eval") == 0) return cold_eval(argc, argv);
  return mx__cli_unknown_subcommand("coldstart", argv[2], "map eval");
}
