/* merx recommend: top-K items for one user, a list of users or every user. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/score_cli.h"
#include "store/privacy.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx recommend --model MODEL.mxm (--user ID | --users FILE | --all) [--k 10]\n"
    "                      [--candidates FILE] [--exclude-items FILE] [--include-seen]\n"
    "                      [--skip-unknown] [--store DIR]\n"
    "                      [--explain] [--explain-top N] [--threads T] --out FILE.csv [--json]\n\n"
    "Write the top-K items for each user as CSV with columns user,rank,item,score\n"
    "(rank 1 is the best; equal scores are ordered by the item's index in the model).\n"
    "Each user's training items are left out unless --include-seen.\n\n"
    "  --user ID          one user\n"
    "  --users FILE       user ids, one per line (first column of a CSV); a first line\n"
    "                     that is not a known user is taken as a header\n"
    "  --all              every user of the model, in model order (progress on stderr)\n"
    "  --k N              items per user (default 10); larger than the catalogue is\n"
    "                     reduced to the number of eligible items, with a warning\n"
    "  --candidates FILE  only these items (same format as --users), e.g. in stock;\n"
    "                     ids that are not items of the model are counted and reported\n"
    "  --exclude-items FILE  never recommend these items (same format; e.g. out of\n"
    "                     stock, or already sent); combined with --candidates\n"
    "  --include-seen     allow the user's training items\n"
    "  --skip-unknown     skip unknown user ids (counted) instead of failing\n"
    "  --store DIR        the store whose key made the model's pseudonyms (default\n"
    "                     $MERX_STORE; or MERX_STORE_KEY): with a model trained with\n"
    "                     --store, --user and --users take real ids and hash them\n"
    "                     (pseudonyms work as given); output rows carry pseudonyms\n"
    "  --explain          add a column 'explanation': the user's training items that\n"
    "                     contribute most (ALS/iALS: Hu et al. 2008 §5; EASE: B[j,i];\n"
    "                     other models: the most similar history items), as\n"
    "                     item:weight;item:weight\n"
    "  --explain-top N    history items per explanation (default 3)\n"
    "  --threads T        worker threads (default: all cores)\n"
    "  --json             print a summary object on stdout: users, unknown_users, k,\n"
    "                     rows, eligible_items, candidates, unknown_candidates, seconds, out\n"
    "\nExamples:\n"
    "  merx recommend --model shop.mxm --all --k 10 --explain --out recs.csv\n"
    "  merx recommend --model shop.mxm --user 15100.0 --k 5 --out -\n";

typedef struct {
  mx_progress *bar;
} progress_ctx;

static void on_progress(void *ctx, uint64_t done) {
  mx__progress_update(((progress_ctx *)ctx)->bar, done);
}

static int write_output(const char *out, const mx_model *m, const mx_topk_result *res,
                        const uint32_t *users, int explain, uint32_t top, uint64_t *rows,
                        mx_error *err) {
  uint32_t *ex_items = NULL, *ex_count = NULL, *pu = NULL, *pi = NULL;
  float *ex_w = NULL;
  size_t pairs = 0;
  for (uint32_t r = 0; r < res->n; r++) pairs += res->count[r];
  *rows = pairs;
  if (explain && pairs) {
    pu = malloc(pairs * sizeof *pu);
    pi = malloc(pairs * sizeof *pi);
    ex_items = malloc(pairs * top * sizeof *ex_items);
    ex_w = malloc(pairs * top * sizeof *ex_w);
    ex_count = malloc(pairs * sizeof *ex_count);
    if (!pu || !pi || !ex_items || !ex_w || !ex_count) {
      free(pu), free(pi), free(ex_items), free(ex_w), free(ex_count);
      return mx_error_set(err, MX_ENOMEM, "out of memory for explanations");
    }
    size_t p = 0;
    for (uint32_t r = 0; r < res->n; r++)
      for (uint32_t j = 0; j < res->count[r]; j++, p++) {
        pu[p] = users ? users[r] : r;
        pi[p] = res->ids[(size_t)r * res->k + j];
      }
    int rc = mx_explain(m, pu, pi, (uint32_t)pairs, top, ex_items, ex_w, ex_count, err);
    if (rc) {
      free(pu), free(pi), free(ex_items), free(ex_w), free(ex_count);
      return rc;
    }
  }
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, out, err);
  if (rc == MX_OK) {
    fputs(explain ? "user,rank,item,score,explanation\n" : "user,rank,item,score\n", af.f);
    if (!explain) {
      mx__write_topk_rows(af.f, res, users, m->users, m->items, 0);
    } else {
      size_t p = 0;
      for (uint32_t r = 0; r < res->n; r++) {
        const char *u = mx_idmap_name(m->users, users ? users[r] : r);
        for (uint32_t j = 0; j < res->count[r]; j++, p++) {
          mx_csv_write_field(af.f, u, ',');
          fprintf(af.f, ",%u,", j + 1);
          mx_csv_write_field(af.f, mx_idmap_name(m->items, res->ids[(size_t)r * res->k + j]), ',');
          fputc(',', af.f);
          mx__write_score(af.f, res->scores[(size_t)r * res->k + j]);
          fputc(',', af.f);
          /* item:weight;item:weight — quoted as one field when needed */
          char buf[4096];
          size_t len = 0;
          buf[0] = '\0';
          for (uint32_t x = 0; x < ex_count[p] && len < sizeof buf - 200; x++) {
            const char *name = mx_idmap_name(m->items, ex_items[p * top + x]);
            int w = snprintf(buf + len, sizeof buf - len, "%s%.*s:%.4g", x ? ";" : "", 150, name,
                             (double)ex_w[p * top + x]);
            if (w > 0) len += (size_t)w;
          }
          mx_csv_write_field(af.f, buf, ',');
          fputc('\n', af.f);
        }
      }
    }
    rc = mx__atomic_commit(&af, err);
  }
  free(pu), free(pi), free(ex_items), free(ex_w), free(ex_count);
  return rc;
}

int mx__cmd_recommend(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "recommend",
                         "model= user= users= all k= candidates= exclude-items= include-seen skip-unknown store= explain "
                         "explain-top= threads= out= json",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "out"))) return rc;
  int sources = mx__args_has(&a, "user") + mx__args_has(&a, "users") + mx__args_has(&a, "all");
  if (sources != 1) return mx__cli_usage("recommend", "give exactly one of --user, --users, --all");
  long k, top;
  int threads;
  if ((rc = mx__args_int(&a, "k", 10, 1, 100000000, &k))) return rc;
  if ((rc = mx__args_int(&a, "explain-top", 3, 1, 1000, &top))) return rc;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  int skip = mx__args_has(&a, "skip-unknown"), json = mx__args_has(&a, "json");
  const char *out = mx__args_get(&a, "out", NULL);

  mx_error err;
  mx_error_clear(&err);
  double t0 = mx__now_seconds();
  mx_model *m = NULL;
  uint32_t *users = NULL, n_users = 0, *cand = NULL, n_cand = 0, *excl = NULL, n_excl = 0;
  uint64_t *mask = NULL;
  uint64_t unknown_users = 0, rows = 0;
  mx_id_list_stats cst = {0};
  mx_topk_result *res = NULL;
  mx_hmac_key key;
  const mx_hmac_key *ukey = NULL; /* the store key, for a model of pseudonyms */
  if ((rc = mx_model_load(mx__args_get(&a, "model", NULL), &m, &err))) goto fail;
  /* A model of pseudonyms takes real ids hashed with its store's key. With
   * another key every real id would be "unknown": refuse; without one,
   * pseudonyms work as given and a real id is refused when it comes. */
  const char *mpath = mx__args_get(&a, "model", NULL);
  if (m->pseudonym_key) {
    int has = 0;
    if ((rc = mx__store_key(mx__args_get(&a, "store", mx__store_from_env()), &key, &has, &err)))
      goto fail;
    if (has && (rc = mx__pseudonym_key_match(m->pseudonym_key, &key, mpath, &err))) goto fail;
    if (has) ukey = &key;
  }

  if (mx__args_has(&a, "user")) {
    const char *id = mx__args_get(&a, "user", "");
    int64_t u = mx__pseudonym_find(m->users, ukey, id, strlen(id));
    if (u < 0 && m->pseudonym_key && !ukey && !mx__pseudonym_shaped(id, strlen(id))) {
      rc = mx__pseudonym_key_match(m->pseudonym_key, NULL, mpath, &err);
      goto fail;
    }
    if (u < 0 && !skip) {
      rc = mx_error_set(&err, MX_ENOTFOUND,
                        "unknown user '%s' (not in the model's %u users; --skip-unknown to "
                        "continue)", id, m->n_users);
      goto fail;
    }
    users = malloc(sizeof *users);
    if (!users) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if (u >= 0) users[n_users++] = (uint32_t)u;
    else unknown_users = 1;
  } else if (mx__args_has(&a, "users")) {
    mx_id_list_stats ust;
    if ((rc = mx__id_list_read_keyed(mx__args_get(&a, "users", NULL), m->users, m->pseudonym_key,
                                    ukey, "user", !skip, &users, &n_users, &ust, &err)))
      goto fail;
    unknown_users = ust.unknown;
  }
  if (unknown_users && !json)
    fprintf(stderr, "merx recommend: skipped %llu unknown user id(s)\n",
            (unsigned long long)unknown_users);

  mx_topk_options o = mx_topk_defaults();
  o.k = (uint32_t)k;
  o.include_seen = mx__args_has(&a, "include-seen");
  o.threads = threads;
  const char *cpath = mx__args_get(&a, "candidates", NULL);
  if (cpath) {
    if ((rc = mx_id_list_read(cpath, m->items, "item", 0, &cand, &n_cand, &cst, &err))) goto fail;
    if (cst.unknown)
      fprintf(stderr,
              "merx recommend: %s: %llu of %llu candidate ids are not items of the model "
              "(first: '%s' at line %ld); ignored\n",
              cpath, (unsigned long long)cst.unknown, (unsigned long long)cst.rows,
              cst.first_unknown, cst.first_unknown_line);
    if (n_cand == 0) {
      if (cst.rows)
        rc = mx_error_at(&err, MX_EEMPTY, cpath, 0, 0, NULL,
                         "none of the %llu candidate ids is an item of the model",
                         (unsigned long long)cst.rows);
      else
        rc = mx_error_at(&err, MX_EEMPTY, cpath, 0, 0, NULL, "the candidate set is empty");
      goto fail;
    }
    o.candidates = cand;
    o.n_candidates = n_cand;
  }
  const char *xpath = mx__args_get(&a, "exclude-items", NULL);
  if (xpath) {
    /* an item bitset: every item allowed except the listed ones */
    mx_id_list_stats xst;
    if ((rc = mx_id_list_read(xpath, m->items, "item", 0, &excl, &n_excl, &xst, &err))) goto fail;
    if (xst.unknown)
      fprintf(stderr, "merx recommend: %s: %llu of %llu ids are not items of the model; ignored\n",
              xpath, (unsigned long long)xst.unknown, (unsigned long long)xst.rows);
    uint64_t words = mx_bitset_words(m->n_items);
    mask = malloc((words ? words : 1) * sizeof *mask);
    if (!mask) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    memset(mask, 0xff, words * sizeof *mask);
    for (uint32_t x = 0; x < n_excl; x++) mask[excl[x] >> 6] &= ~((uint64_t)1 << (excl[x] & 63));
    o.item_mask = mask;
  }
  mx_progress bar;
  progress_ctx pc = {&bar};
  uint32_t total = users ? n_users : m->n_users;
  if (!users && !json) {
    mx__progress_start(&bar, "recommend", total);
    o.progress = on_progress;
    o.progress_ctx = &pc;
  }
  if (users && n_users == 0) {
    res = calloc(1, sizeof *res); /* nothing to score: an empty output */
    if (!res) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    res->k = o.k;
  } else if ((rc = mx_topk_batch(m, users, n_users, &o, &res, &err))) {
    goto fail;
  }
  if (!users && !json) mx__progress_finish(&bar);
  if ((uint32_t)k > res->eligible && res->n > 0)
    fprintf(stderr,
            "merx recommend: --k %ld is larger than the %u eligible items; at most %u per user\n",
            k, res->eligible, res->eligible);
  if ((rc = write_output(out, m, res, users, mx__args_has(&a, "explain"), (uint32_t)top, &rows,
                         &err)))
    goto fail;
  uint32_t empty = 0;
  for (uint32_t r = 0; r < res->n; r++) empty += res->count[r] == 0;
  if (empty)
    fprintf(stderr,
            "merx recommend: %u of %u users got no items (every eligible item already seen, or "
            "non-finite model scores)\n", empty, res->n);
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "users"); mx__json_int(&j, total);
    mx__json_key(&j, "unknown_users"); mx__json_int(&j, (int64_t)unknown_users);
    mx__json_key(&j, "k"); mx__json_int(&j, k);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)rows);
    mx__json_key(&j, "eligible_items"); mx__json_int(&j, res->n ? res->eligible : 0);
    mx__json_key(&j, "candidates"); mx__json_int(&j, cpath ? (int64_t)n_cand : m->n_items);
    mx__json_key(&j, "unknown_candidates"); mx__json_int(&j, (int64_t)cst.unknown);
    mx__json_key(&j, "include_seen"); mx__json_bool(&j, o.include_seen);
    mx__json_key(&j, "seconds"); mx__json_double(&j, mx__now_seconds() - t0);
    mx__cli_json_blas(&j);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "wrote %llu rows for %u users to %s in %.3f s\n", (unsigned long long)rows,
            total, out, mx__now_seconds() - t0);
  }
  mx_topk_result_free(res);
  free(users);
  free(cand);
  free(excl);
  free(mask);
  mx_model_free(m);
  mx__hmac_key_clear(&key);
  return MX_EXIT_OK;
fail:
  mx_topk_result_free(res);
  free(users);
  free(cand);
  free(excl);
  free(mask);
  mx_model_free(m);
  mx__hmac_key_clear(&key);
  return mx__cli_fail("recommend", &err);
}
