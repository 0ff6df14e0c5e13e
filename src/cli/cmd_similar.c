/* merx similar: the most similar items (or users) of given ones. */
#include <stdlib.h>
#include <string.h>

#include "cli/ann_cli.h"
#include "cli/cli.h"
#include "cli/score_cli.h"
#include "util/util.h"

static const char *usage =
    "usage: merx similar --model MODEL.mxm (--item ID | --items FILE | --all\n"
    "                    | --user ID | --users FILE | --all-users) [--k 10]\n"
    "                    [--metric cosine|dot] [--candidates FILE] [--skip-unknown]\n"
    "                    [--ann FILE | --exact] [--ef 100] [--threads T] --out FILE.csv\n"
    "                    [--json]\n\n"
    "Write the K most similar items of each query item as CSV with columns\n"
    "item,rank,similar_item,score (or, for --user/--users/--all-users, the most similar\n"
    "users: user,rank,similar_user,score). The query itself is left out.\n\n"
    "  --metric cosine|dot  cosine of the factor vectors (default) or their inner product;\n"
    "                       EASE models use the learned weight B[q, i] (items only)\n"
    "  --candidates FILE    only these items (users) may be returned; unknown ids are\n"
    "                       counted and reported\n"
    "  --items / --users FILE  ids one per line (first column of a CSV); a first line\n"
    "                       that is not a known id is taken as a header\n"
    "  --skip-unknown       skip unknown query ids (counted) instead of failing\n"
    "  --ann FILE           answer from this nearest-neighbour index (merx index build);\n"
    "                       without it, MODEL.mxm.hnsw (MODEL.mxm.users.hnsw for users)\n"
    "                       is used when it exists and is current for the model and\n"
    "                       metric (a warning says when it is not); otherwise, or with\n"
    "                       --exact, every item is scored (exact)\n"
    "  --ef N               beam width of index searches: larger is closer to exact\n"
    "                       and slower (default 100, at least K)\n"
    "  --json               summary on stdout: queries, unknown_queries, k, rows,\n"
    "                       metric, search (exact or hnsw), index, seconds, out\n"
    "\nExample:\n"
    "  merx similar --model shop.mxm --item 85123A --k 5 --out similar.csv\n";

int mx__cmd_similar(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "similar",
                         "model= item= items= all user= users= all-users k= metric= candidates= "
                         "skip-unknown threads= out= json" MX_CLI_ANN_SPEC,
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "out"))) return rc;
  int of_items = mx__args_has(&a, "item") + mx__args_has(&a, "items") + mx__args_has(&a, "all");
  int of_users =
      mx__args_has(&a, "user") + mx__args_has(&a, "users") + mx__args_has(&a, "all-users");
  if (of_items + of_users != 1)
    return mx__cli_usage("similar",
                        "give exactly one of --item, --items, --all, --user, --users, --all-users");
  long k;
  int threads;
  if ((rc = mx__args_int(&a, "k", 10, 1, 100000000, &k))) return rc;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  const char *metric_s = mx__args_get(&a, "metric", "cosine");
  mx_similarity metric;
  if (strcmp(metric_s, "cosine") == 0) metric = MX_SIM_COSINE;
  else if (strcmp(metric_s, "dot") == 0) metric = MX_SIM_DOT;
  else return mx__cli_usage("similar", "--metric: expected cosine or dot, got '%s'", metric_s);
  long ef;
  if ((rc = mx__args_int(&a, "ef", MX_CLI_ANN_DEFAULT_EF, 1, 100000, &ef))) return rc;
  if (mx__args_has(&a, "ann") && mx__args_has(&a, "exact"))
    return mx__cli_usage("similar", "--ann and --exact exclude each other");
  int skip = mx__args_has(&a, "skip-unknown"), json = mx__args_has(&a, "json");
  const char *out = mx__args_get(&a, "out", NULL);
  const char *what = of_users ? "user" : "item";

  mx_error err;
  mx_error_clear(&err);
  double t0 = mx__now_seconds();
  mx_model *m = NULL;
  uint32_t *q = NULL, nq = 0, *cand = NULL, n_cand = 0;
  uint64_t unknown = 0, rows = 0;
  mx_topk_result *res = NULL;
  mx_ann *ix = NULL;
  const char *index_used = NULL;
  char beside[1200], name[1200];
  const char *model_path = mx__args_get(&a, "model", NULL);
  if ((rc = mx_model_load(model_path, &m, &err))) goto fail;
  const mx_idmap *map = of_users ? m->users : m->items;
  uint32_t n_all = of_users ? m->n_users : m->n_items;
  const char *one = mx__args_get(&a, of_users ? "user" : "item", NULL);
  const char *file = mx__args_get(&a, of_users ? "users" : "items", NULL);
  if (one) {
    int64_t x = mx_idmap_find(map, one, strlen(one));
    if (x < 0 && !skip) {
      rc = mx_error_set(&err, MX_ENOTFOUND, "unknown %s '%s' (not in the model's %u %ss)", what,
                        one, n_all, what);
      goto fail;
    }
    q = malloc(sizeof *q);
    if (!q) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if (x >= 0) q[nq++] = (uint32_t)x;
    else unknown = 1;
  } else if (file) {
    mx_id_list_stats st;
    if ((rc = mx_id_list_read(file, map, what, !skip, &q, &nq, &st, &err))) goto fail;
    unknown = st.unknown;
  } else {
    q = malloc(((size_t)n_all + 1) * sizeof *q);
    if (!q) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    for (uint32_t i = 0; i < n_all; i++) q[i] = i;
    nq = n_all;
  }
  if (unknown && !json)
    fprintf(stderr, "merx similar: skipped %llu unknown %s id(s)\n", (unsigned long long)unknown,
            what);
  mx_topk_options o = mx_topk_defaults();
  o.k = (uint32_t)k;
  o.threads = threads;
  const char *cpath = mx__args_get(&a, "candidates", NULL);
  if (cpath) {
    mx_id_list_stats cst;
    if ((rc = mx_id_list_read(cpath, map, what, 0, &cand, &n_cand, &cst, &err))) goto fail;
    if (cst.unknown)
      fprintf(stderr, "merx similar: %s: %llu of %llu candidate ids are unknown (first: '%s' at "
              "line %ld); ignored\n", cpath, (unsigned long long)cst.unknown,
              (unsigned long long)cst.rows, cst.first_unknown, cst.first_unknown_line);
    if (n_cand == 0) {
      rc = mx_error_at(&err, MX_EEMPTY, cpath, 0, 0, NULL, "the candidate set is empty");
      goto fail;
    }
    o.candidates = cand;
    o.n_candidates = n_cand;
  }
  const float *vec = of_users ? m->user_factors : m->item_factors;
  if (vec && m->factors) {
    mx__cli_ann_beside(model_path, 0, of_users, beside, sizeof beside);
    snprintf(name, sizeof name, "%s (%ss)", model_path, what);
    if ((rc = mx__cli_ann_open(&a, "similar", beside, vec, n_all, m->factors, name, &ix,
                              &index_used, &err)))
      goto fail;
    mx_ann_metric want = metric == MX_SIM_DOT ? MX_ANN_DOT : MX_ANN_COSINE;
    if (ix && mx_ann_get_metric(ix) != want) {
      if (mx__args_has(&a, "ann")) {
        rc = mx_error_at(&err, MX_EINVAL, index_used, 0, 0, NULL,
                         "the index was built for --metric %s, not %s",
                         mx_ann_metric_name(mx_ann_get_metric(ix)), metric_s);
        goto fail;
      }
      fprintf(stderr, "merx similar: warning: not using %s: it was built for --metric %s; exact "
              "scan\n", index_used, mx_ann_metric_name(mx_ann_get_metric(ix)));
      mx_ann_free(ix);
      ix = NULL;
      index_used = NULL;
    }
  } else if (mx__args_has(&a, "ann")) {
    rc = mx_error_at(&err, MX_EINVAL, model_path, 0, 0, NULL,
                     "an EASE model has no vectors for a nearest-neighbour index");
    goto fail;
  }
  if (nq > 0) {
    if (ix)
      rc = mx_ann_similar(m, ix, of_users, q, nq, metric, (uint32_t)ef, &o, &res, &err);
    else
      rc = of_users ? mx_similar_users(m, q, nq, metric, &o, &res, &err)
                    : mx_similar_items(m, q, nq, metric, &o, &res, &err);
    if (rc) goto fail;
    if ((uint32_t)k > res->eligible)
      fprintf(stderr, "merx similar: --k %ld is larger than the %u eligible %ss\n", k,
              res->eligible, what);
  }
  mx_atomic_file af;
  if ((rc = mx__atomic_open(&af, out, &err))) goto fail;
  fprintf(af.f, "%s,rank,similar_%s,score\n", what, what);
  if (res) {
    mx__write_topk_rows(af.f, res, q, map, map, 0);
    for (uint32_t r = 0; r < res->n; r++) rows += res->count[r];
  }
  if ((rc = mx__atomic_commit(&af, &err))) goto fail;
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "queries"); mx__json_int(&j, nq);
    mx__json_key(&j, "unknown_queries"); mx__json_int(&j, (int64_t)unknown);
    mx__json_key(&j, "k"); mx__json_int(&j, k);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)rows);
    mx__json_key(&j, "metric"); mx__json_string(&j, m->kind == MX_MODEL_EASE ? "ease" : metric_s);
    mx__json_key(&j, "search"); mx__json_string(&j, ix ? "hnsw" : "exact");
    mx__json_key(&j, "index");
    if (index_used) mx__json_string(&j, index_used);
    else mx__json_null(&j);
    mx__json_key(&j, "seconds"); mx__json_double(&j, mx__now_seconds() - t0);
    mx__cli_json_blas(&j);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "wrote %llu rows for %u %ss to %s", (unsigned long long)rows, nq, what, out);
    if (ix) fprintf(stderr, " (index %s, ef %ld)", index_used, ef);
    fputc('\n', stderr);
  }
  mx_topk_result_free(res);
  free(q);
  free(cand);
  mx_ann_free(ix);
  mx_model_free(m);
  return MX_EXIT_OK;
fail:
  mx_topk_result_free(res);
  free(q);
  free(cand);
  mx_ann_free(ix);
  mx_model_free(m);
  return mx__cli_fail("similar", &err);
}
