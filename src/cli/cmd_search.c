/* merx search: semantic product search over embeddings made by merx embed,
 * optionally blended with a user's collaborative scores. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/ann_cli.h"
#include "cli/cli.h"
#include "cli/llm_opts.h"
#include "merx/model.h"
#include "merx/search.h"
#include "store/privacy.h"
#include "store/queries.h"
#include "store/store.h"
#include "util/util.h"

static const char *usage =
    "usage: merx search --index EMB.npy QUERY [QUERY ...] [--k 10]\n"
    "                   [--model MODEL.mxm --user ID [--alpha 0.25]] [--out FILE.csv] [--json]\n"
    "                   [--ann FILE | --exact] [--ef 100]\n"
    "                   [--config FILE] [--key-env VAR] [--timeout S] [--cache DIR | --no-cache]\n"
    "                   [--store DIR]\n\n"
    "Embed each query exactly as EMB.npy was embedded (EMB.meta.json says how: the\n"
    "built-in embedder, or the server and model) and print the K items of highest\n"
    "cosine similarity: CSV columns query,rank,item,score,text (text from EMB.texts,\n"
    "empty when that file is absent).\n\n"
    "With --model and --user, the score is (1 - alpha) * z(cosine) + alpha * z(c),\n"
    "where c is the user's collaborative score of the item and z() standardises a\n"
    "score over the indexed items (items the model does not know get z(c) = 0):\n"
    "alpha 0.5 weighs query and taste equally, below it the query dominates\n"
    "(default 0.25). Items the user bought in training are kept (a search is an\n"
    "explicit request).\n\n"
    "Without --model, a nearest-neighbour index of the embeddings (merx index build\n"
    "--embeddings EMB.npy) answers instead of the exact scan: --ann FILE, or EMB.hnsw\n"
    "when it exists and is current for EMB.npy (a warning says when it is not).\n"
    "--exact scans every item; --ef N is the index's beam width (default 100,\n"
    "larger: closer to exact, slower). The blend with --user always scans.\n\n"
    "--store DIR (default MERX_STORE): with the store's key, --user may be a real id\n"
    "for a model of pseudonyms; with `store_queries = yes` in DIR/store.conf each\n"
    "QUERY is kept in the store's ledger (time, user as a pseudonym, e-mail\n"
    "addresses and phone numbers redacted; PRIVACY.md). Without it nothing is kept.\n"
    "\nExamples:\n"
    "  merx search --index items.npy \"red metal lantern\" --k 5\n"
    "  merx search --index items.npy \"cake stand\" --model shop.mxm\n"
    "      --user 15100.0 --alpha 0.5\n";

int mx__cmd_search(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "search",
                         "index= k= model= user= alpha= out= json threads= store=" MX_CLI_LLM_SPEC MX_CLI_ANN_SPEC, argc,
                         argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "index"))) return rc;
  if (a.npos < 1) return mx__cli_usage("search", "give at least one QUERY");
  long k;
  double alpha;
  int threads;
  if ((rc = mx__args_int(&a, "k", 10, 1, 100000, &k))) return rc;
  if ((rc = mx__args_double(&a, "alpha", MX_SEARCH_BLEND_DEFAULT, 0, 1, &alpha))) return rc;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  if (mx__args_has(&a, "model") != mx__args_has(&a, "user"))
    return mx__cli_usage("search", "--model and --user go together");
  long ef;
  if ((rc = mx__args_int(&a, "ef", MX_CLI_ANN_DEFAULT_EF, 1, 100000, &ef))) return rc;
  if (mx__args_has(&a, "ann") && mx__args_has(&a, "exact"))
    return mx__cli_usage("search", "--ann and --exact exclude each other");
  if (mx__args_has(&a, "ann") && mx__args_has(&a, "user"))
    return mx__cli_usage("search", "--ann cannot rank the blend with --user (it scans every item)");
  const char *index = mx__args_get(&a, "index", NULL);

  mx_http_config cfg;
  if ((rc = mx__cli_llm_config(&a, NULL, &cfg))) return rc;
  mx_error err;
  mx_error_clear(&err);
  /* the store: its key (a real --user for a model of pseudonyms) and whether
   * queries are kept (minimum data: not unless configured) */
  const char *store = mx__args_get(&a, "store", mx__store_from_env());
  mx_store_policy policy = {0};
  mx_hmac_key key;
  int has_key = 0;
  if (store && (mx__store_policy_load(store, &policy, &err) != MX_OK ||
                mx__store_key(store, &key, &has_key, &err) != MX_OK))
    return mx__cli_fail("search", &err);
  float *q = NULL, *cf = NULL, *best = NULL;
  mx_embed_index *ix = NULL;
  mx_model *model = NULL;
  uint32_t *order = NULL;
  mx_ann *ann = NULL;
  const char *index_used = NULL;
  char beside[1200];
  if (mx_embed_index_load(index, &ix, &err)) goto fail;
  uint64_t n = ix->n, dim = ix->dim;
  if (!mx__args_has(&a, "user")) {
    mx__cli_ann_beside(index, 1, 0, beside, sizeof beside);
    if (n > UINT32_MAX ||
        mx__cli_ann_open(&a, "search", beside, ix->rows, (uint32_t)n, (uint32_t)dim, index, &ann,
                        &index_used, &err))
      goto fail;
    if (ann && mx_ann_get_metric(ann) != MX_ANN_COSINE) {
      if (mx__args_has(&a, "ann")) {
        mx_error_at(&err, MX_EINVAL, index_used, 0, 0, NULL,
                    "search ranks by cosine; the index was built for --metric %s",
                    mx_ann_metric_name(mx_ann_get_metric(ann)));
        goto fail;
      }
      fprintf(stderr, "merx search: warning: not using %s: it was built for --metric %s; exact "
              "scan\n", index_used, mx_ann_metric_name(mx_ann_get_metric(ann)));
      mx_ann_free(ann);
      ann = NULL;
      index_used = NULL;
    }
  }
  int remote = strcmp(ix->embedder, "openai") == 0;
  mx_builtin_embed_options bo = mx_builtin_embed_defaults();
  if (remote) {
    /* The server and model of the index; connection details may be overridden. */
    if (!mx__args_has(&a, "server")) snprintf(cfg.base_url, sizeof cfg.base_url, "%s", ix->base_url);
    snprintf(cfg.model, sizeof cfg.model, "%s", ix->model);
    cfg.dimensions = ix->dimensions;
    if (!mx__args_has(&a, "key-env") && ix->key_env[0] && !cfg.key_env[0])
      snprintf(cfg.key_env, sizeof cfg.key_env, "%s", ix->key_env);
  } else if (mx_builtin_embed_parse(ix->embedder, &bo, &err) != MX_OK) {
    goto fail;
  }
  uint32_t qd;
  size_t sent;
  size_t nq = (size_t)a.npos;
  if (mx__cli_embed_texts(remote, &bo, &cfg, a.pos, nq, threads, &q, &qd, &sent, &err)) goto fail;
  if (qd != dim) {
    mx_error_at(&err, MX_EFORMAT, index, 0, 0, NULL,
                "query vectors have dimension %u but the index has %llu", qd,
                (unsigned long long)dim);
    goto fail;
  }
  /* Collaborative part: the user's scores of the indexed items (NAN: unknown). */
  if (mx__args_has(&a, "model")) {
    const char *mp = mx__args_get(&a, "model", NULL), *user = mx__args_get(&a, "user", NULL);
    if (mx_model_load(mp, &model, &err)) goto fail;
    const mx_hmac_key *mk = model->pseudonym_key && has_key ? &key : NULL;
    if (mx__pseudonym_key_match(model->pseudonym_key, mk, mp, &err)) goto fail;
    int64_t u = mx__pseudonym_find(model->users, mk, user, strlen(user));
    if (u < 0) {
      mx_error_at(&err, MX_ENOTFOUND, mp, 0, 0, "user", "unknown user '%s'", user);
      goto fail;
    }
    cf = malloc(n * sizeof *cf);
    if (!cf) {
      mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    mx_search_taste(ix, model, (uint32_t)u, cf);
  }
  if (policy.store_queries) { /* kept before any result is printed: all or nothing */
    const char *user = mx__args_get(&a, "user", NULL);
    char pz[MX_PSEUDONYM_LEN + 1];
    if (user) user = mx__pseudonym_user(has_key ? &key : NULL, user, strlen(user), pz);
    mx_query_row *rows = calloc(nq, sizeof *rows);
    if (!rows) {
      mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < nq; i++) rows[i] = (mx_query_row){now, "search", user, NULL, "query", a.pos[i]};
    int src = mx__queries_store(store, rows, nq, &err);
    free(rows);
    if (src) goto fail;
  }
  order = malloc((size_t)k * sizeof *order);
  best = malloc((size_t)k * sizeof *best);
  if (!order || !best) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  mx_atomic_file af = {0};
  FILE *o = stdout;
  const char *outp = mx__args_get(&a, "out", NULL);
  int json = mx__args_has(&a, "json");
  if (outp) {
    if (mx__atomic_open(&af, outp, &err)) goto fail;
    o = af.f;
  }
  mx_json j;
  if (json && !outp) {
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "results");
    mx__json_array_begin(&j);
  } else {
    fputs("query,rank,item,score,text\n", o);
  }
  for (size_t qi = 0; qi < nq; qi++) {
    mx_search_query sq = {q + qi * dim, cf, alpha, NULL, (size_t)k};
    size_t got;
    if (ann) { /* the index's approximate answer instead of the exact scan */
      uint32_t cnt;
      if (mx_ann_search(ann, sq.vector, (uint32_t)k, (uint32_t)ef, NULL, UINT32_MAX, order, best,
                        &cnt, &err)) {
        if (outp) mx__atomic_abort(&af);
        goto fail;
      }
      got = cnt;
    } else if (mx_search_rank(ix, &sq, order, best, &got, &err)) {
      if (outp) mx__atomic_abort(&af);
      goto fail;
    }
    for (size_t r = 0; r < got; r++) {
      const char *id = mx_idmap_name(ix->ids, order[r]);
      const char *text = ix->texts[order[r]];
      if (json && !outp) {
        mx__json_object_begin(&j);
        mx__json_key(&j, "query"); mx__json_string(&j, a.pos[qi]);
        mx__json_key(&j, "rank"); mx__json_int(&j, (int64_t)r + 1);
        mx__json_key(&j, "item"); mx__json_string(&j, id);
        mx__json_key(&j, "score"); mx__json_double(&j, best[r]);
        mx__json_key(&j, "text"); mx__json_string(&j, text);
        mx__json_object_end(&j);
      } else {
        mx_csv_write_field(o, a.pos[qi], ',');
        fprintf(o, ",%zu,", r + 1);
        mx_csv_write_field(o, id, ',');
        fprintf(o, ",%.6f,", (double)best[r]);
        mx_csv_write_field(o, text, ',');
        fputc('\n', o);
      }
    }
  }
  if (json && !outp) {
    mx__json_array_end(&j);
    mx__json_key(&j, "items"); mx__json_int(&j, (int64_t)n);
    mx__json_key(&j, "sent"); mx__json_int(&j, (int64_t)sent);
    mx__json_key(&j, "search"); mx__json_string(&j, ann ? "hnsw" : "exact");
    mx__json_key(&j, "index");
    if (index_used) mx__json_string(&j, index_used);
    else mx__json_null(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  }
  if (outp && mx__atomic_commit(&af, &err)) goto fail;
  rc = MX_EXIT_OK;
  goto done;
fail:
  rc = mx__cli_fail("search", &err);
done:
  mx_embed_index_free(ix);
  free(cf);
  free(best);
  free(q);
  free(order);
  mx_model_free(model);
  mx_ann_free(ann);
  if (has_key) mx__hmac_key_clear(&key);
  return rc;
}
