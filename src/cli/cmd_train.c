/* merx train: fit an embedding model on an interaction file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "merx/model.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx train --data FILE [--columns ROLE=NAME,...] --algo ALGO --out MODEL.mxm\n"
    "                  [--factors K] [--epochs N] [--reg R] [--lr ETA] [--alpha A]\n"
    "                  [--seed S] [--threads T] [--test FILE] [--init MODEL.mxm] [--json]\n\n"
    "Algorithms:\n"
    "  mf    biased matrix factorisation by SGD (explicit ratings; needs a value column)\n"
    "  als   explicit ALS with biases, weighted-lambda regularisation\n"
    "  bpmf  Bayesian MF by Gibbs sampling (explicit; most accurate; default on ratings)\n"
    "  ials  implicit ALS, confidence 1 + alpha*r, conjugate-gradient solves\n"
    "  bpr   BPR-MF, pairwise ranking by SGD (implicit)\n"
    "  ease  EASE item-item model, closed form (implicit; up to 60000 items)\n"
    "Default algo: bpmf when a value column is selected and no event column, else ials\n"
    "(said on stderr).\n\n"
    "Options (defaults depend on the algorithm; see docs/cli/train.md):\n"
    "  --factors K        latent dimensions\n"
    "  --epochs N         SGD epochs, ALS sweeps or Gibbs samples\n"
    "  --reg R            L2 regularisation (ease: added to the diagonal of X'X)\n"
    "  --reg-bias R       L2 on biases (mf)\n"
    "  --lr ETA           SGD learning rate (mf, bpr); --lr-decay D per epoch\n"
    "  --alpha A          iALS confidence slope; --confidence log uses 1+A*log(1+r/eps);\n"
    "                     bpmf: precision of the rating noise (default 2)\n"
    "  --eps E            scale for log confidence (default 1)\n"
    "  --cg-steps N       iALS conjugate-gradient steps per solve (0: exact Cholesky)\n"
    "  --burn-in N        bpmf: Gibbs samples discarded before averaging\n"
    "  --samples N        bpmf: samples kept in the model (K*N stored factors; default 48)\n"
    "  --test FILE        held-out interactions (same columns); explicit models report\n"
    "                     test RMSE/MAE after each epoch and at the end\n"
    "  --early-stop       mf: stop when test RMSE rises and keep the best epoch\n"
    "  --init-std S       spread of the random initial factors (std S/sqrt(K))\n"
    "  --tune             choose reg (and alpha or lr) on a 10% validation slice of the\n"
    "                     training data (a small grid around the given values), then train\n"
    "  --half-life DAYS   recency (ials, bpr, ease; needs a time column): a pair whose\n"
    "                     latest event is AGE days old weighs 2^(-AGE/DAYS)\n"
    "  --now TIME         the time ages are measured from (ISO 8601 or epoch seconds;\n"
    "                     default: the newest event in the data)\n"
    "  --recent-popular DAYS  blend in the items most bought in the last DAYS (ials,\n"
    "                     bpr; needs a time column), weight H/(H+n) for a user with n items\n"
    "  --recent-popular-users H  the H of that weight (default 5: half at 5 items)\n"
    "  --init MODEL       warm start: factors of users/items known to MODEL\n"
    "  --seed S           random seed (default 42); same seed + threads = same model\n"
    "  --threads T        worker threads (default: all cores)\n"
    "  --verbose          one line per epoch on stderr even when it is not a terminal\n"
    "  --json             print a JSON summary on stdout\n"
    "  --store DIR        a store with a key (default $MERX_STORE): user ids are\n"
    "                     replaced by their pseudonyms as they are read (PRIVACY.md)\n"
    "Input options: --sep C, --no-header, --columns user=..,item=..,value=..,time=..,event=..,\n"
    "  --event-weights view=1,cart=4,purchase=10\n"
    "\nExample:\n"
    "  merx train --data examples/data/purchases.csv.gz\n"
    "      --columns user=CustomerID,item=StockCode --algo ials --out shop.mxm\n"
    "  merx train --data examples/data/purchases.csv.gz\n"
    "      --columns user=CustomerID,item=StockCode,time=InvoiceDate --algo ials\n"
    "      --half-life 60 --recent-popular 30 --out recent.mxm\n";

static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};

typedef struct progress_ctx {
  int verbose;
  int epochs_run;
  double last_cpu;
} progress_ctx;

static int on_epoch(void *vctx, const mx_epoch_report *r) {
  progress_ctx *c = vctx;
  c->epochs_run = r->epoch;
  if (!c->verbose) return 0;
  fprintf(stderr, "epoch %d/%d", r->epoch, r->epochs);
  if (isfinite(r->loss)) fprintf(stderr, "  loss %.6g", r->loss);
  if (isfinite(r->test_rmse)) fprintf(stderr, "  test_rmse %.4f  test_mae %.4f", r->test_rmse, r->test_mae);
  fprintf(stderr, "  %.2fs", r->seconds);
  if (isfinite(r->cpu_seconds) && c->last_cpu > 0)
    fprintf(stderr, "  (epoch cpu %.2fs)", r->cpu_seconds - c->last_cpu);
  fputc('\n', stderr);
  c->last_cpu = r->cpu_seconds;
  return 0;
}

int mx__cmd_train(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "train",
                         "data= algo= out= factors= epochs= reg= reg-bias= lr= lr-decay= alpha= "
                         "confidence= eps= cg-steps= burn-in= seed= threads= test= early-stop "
                         "init= init-std= samples= tune json verbose store= half-life= now= "
                         "recent-popular= recent-popular-users=" MX_CLI_INPUT_SPEC,
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "out"))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  /* Without --algo: ratings (a value column) get explicit MF; event data
   * (views, carts, purchases) is implicit feedback, where MF would fit the
   * event weights as ratings and rank every item alike, so it gets iALS. */
  int has_value = 0, has_event = 0;
  for (int r = 0; r < opt.columns.count; r++) {
    if (!strcmp(opt.columns.role[r], "value")) has_value = 1;
    if (!strcmp(opt.columns.role[r], "event")) has_event = 1;
  }
  const char *algo_name = mx__args_get(&a, "algo", NULL);
  if (!algo_name) {
    algo_name = has_value && !has_event ? "bpmf" : "ials";
    fprintf(stderr, "merx train: no --algo given: %s (%s)\n", algo_name,
            has_event ? "implicit: the data has an event column"
            : has_value ? "explicit: a value column is selected"
                        : "implicit: no value column");
  }
  int kind = mx_model_kind_parse(algo_name);
  if (kind < 0 || kind == MX_MODEL_IMPORTED)
    return mx__cli_usage("train", "--algo: unknown algorithm '%s' (known: mf, als, bpmf, ials, "
                        "bpr, ease)", algo_name);
  mx_train_options o = mx_train_defaults((mx_model_kind)kind);
  long lv;
  double dv;
  if ((rc = mx__args_int(&a, "factors", o.factors, 1, 4096, &lv))) return rc;
  o.factors = (uint32_t)lv;
  if ((rc = mx__args_int(&a, "epochs", o.epochs, 1, 1000000, &lv))) return rc;
  o.epochs = (int)lv;
  if ((rc = mx__args_int(&a, "cg-steps", o.cg_steps, 0, 1000, &lv))) return rc;
  o.cg_steps = (int)lv;
  if ((rc = mx__args_int(&a, "burn-in", o.burn_in, 0, 1000000, &lv))) return rc;
  o.burn_in = (int)lv;
  if ((rc = mx__args_int(&a, "samples", o.samples, 1, 10000, &lv))) return rc;
  o.samples = (int)lv; /* 0 (unset): the library default */
  if ((rc = mx__args_double(&a, "reg", o.reg, 0, 1e12, &o.reg))) return rc;
  if ((rc = mx__args_double(&a, "reg-bias", o.reg_bias, 0, 1e12, &o.reg_bias))) return rc;
  if ((rc = mx__args_double(&a, "lr", o.lr, 1e-12, 1e3, &o.lr))) return rc;
  if ((rc = mx__args_double(&a, "lr-decay", o.lr_decay, 1e-6, 1, &o.lr_decay))) return rc;
  if ((rc = mx__args_double(&a, "alpha", o.alpha, 0, 1e12, &o.alpha))) return rc;
  if ((rc = mx__args_double(&a, "init-std", o.init_std, 0, 100, &o.init_std))) return rc;
  if ((rc = mx__args_double(&a, "eps", o.eps, 1e-12, 1e12, &o.eps))) return rc;
  if ((rc = mx__args_double(&a, "seed", (double)o.seed, 0, 9007199254740992.0, &dv))) return rc;
  o.seed = (uint64_t)dv;
  const char *conf = mx__args_get(&a, "confidence", "linear");
  if (!strcmp(conf, "log")) o.log_confidence = 1;
  else if (strcmp(conf, "linear") != 0)
    return mx__cli_usage("train", "--confidence: expected 'linear' or 'log', got '%s'", conf);
  if ((rc = mx__args_double(&a, "half-life", 0, 1e-6, 1e6, &o.half_life_days))) return rc;
  if ((rc = mx__args_double(&a, "recent-popular", 0, 1e-6, 1e6, &o.recent_popular_days))) return rc;
  if ((rc = mx__args_double(&a, "recent-popular-users", o.recent_popular_users, 0, 1e9,
                           &o.recent_popular_users)))
    return rc;
  if (mx__args_has(&a, "now")) {
    const char *now = mx__args_get(&a, "now", NULL);
    if (mx_parse_time(now, &o.now_seconds) != MX_OK)
      return mx__cli_usage("train", "--now: not a timestamp (ISO 8601 date/datetime or epoch "
                          "seconds): '%s'", now);
    o.now_set = 1;
  }
  if ((mx__args_has(&a, "now") || mx__args_has(&a, "recent-popular-users")) &&
      !(o.half_life_days > 0) && !(o.recent_popular_days > 0))
    return mx__cli_usage("train", "--now and --recent-popular-users go with --half-life or "
                        "--recent-popular");
  if ((rc = mx__cli_threads(&a, &o.threads))) return rc;
  o.early_stop = mx__args_has(&a, "early-stop");
  if (o.early_stop && !mx__args_has(&a, "test"))
    return mx__cli_usage("train", "--early-stop needs --test FILE");
  int json = mx__args_has(&a, "json");
  progress_ctx pc = {mx__args_has(&a, "verbose") || isatty(2), 0, 0};
  o.on_epoch = on_epoch;
  o.borrow_seen = 1; /* the model is saved and freed before the data */
  o.report_loss = isatty(2); /* the objective costs a pass: only for a person watching */
  o.ctx = &pc;

  mx_pseudonymiser *pseudo = NULL;
  if ((rc = mx__cli_ingest_pseudonyms(&a, &opt, &pseudo))) return rc;
  mx_error err;
  mx_error_clear(&err);
  double t0 = mx__now_seconds();
  mx_dataset *d = NULL;
  mx_model *init = NULL, *m = NULL;
  mx_pairs test = {0};
  int have_test = 0;
  const char *out = mx__args_get(&a, "out", NULL);
  if (mx_dataset_load_csv(mx__args_get(&a, "data", NULL), &opt, &d, &err) != MX_OK) goto fail;
  if (mx__args_has(&a, "init")) {
    if (mx_model_load(mx__args_get(&a, "init", NULL), &init, &err) != MX_OK) goto fail;
    if (init->factors != o.factors || !init->user_factors) {
      mx_error_at(&err, MX_EINVAL, mx__args_get(&a, "init", NULL), 0, 0, NULL,
                  "--init model has %u factors, training uses %u", init->factors, o.factors);
      goto fail;
    }
    o.init = init;
  }
  /* the test file's real ids: the dataset's pseudonyms, each hashed once */
  mx_pseudonym_lookup lookup = {d->users, pseudo, 0};
  if (pseudo) {
    opt.user_rewrite = mx__pseudonym_lookup_rewrite;
    opt.user_rewrite_ctx = &lookup;
  }
  if (mx__args_has(&a, "test")) {
    if (mx_pairs_read(mx__args_get(&a, "test", NULL), &opt, d->users, d->items, &test, &err) !=
        MX_OK)
      goto fail;
    have_test = 1;
    o.test = &test;
  }
  double tuned = NAN;
  if (mx__args_has(&a, "tune")) {
    if (mx_train_tune(d, &o, 0.1, &tuned, &err) != MX_OK) goto fail;
    if (pc.verbose)
      fprintf(stderr, "tuned on a validation slice: reg %g, alpha %g, lr %g (validation %s %.4f)\n",
              o.reg, o.alpha, o.lr, o.algo == MX_MODEL_MF || o.algo == MX_MODEL_ALS ||
              o.algo == MX_MODEL_BPMF ? "rmse" : "ndcg@10", tuned);
  }
  if (mx_model_train(d, &o, &m, &err) != MX_OK) goto fail;
  /* the model says its user ids are pseudonyms, and of which key, so
   * recommend and serve hash a real id (or refuse) instead of not finding it */
  if (pseudo) m->pseudonym_key = mx__hmac_key_check(mx__pseudonymiser_key(pseudo));
  else m->pseudonym_key = d->pseudonym_key; /* a .mxd of pseudonyms (merx data pack --store) */
  if (mx_model_save(m, out, &err) != MX_OK) goto fail;
  double secs = mx__now_seconds() - t0;
  double rmse = NAN, mae = NAN;
  if (have_test && !m->implicit) mx_model_rmse(m, &test, &rmse, &mae);
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "algo"); mx__json_string(&j, mx_model_kind_name(m->kind));
    mx__json_key(&j, "users"); mx__json_int(&j, m->n_users);
    mx__json_key(&j, "items"); mx__json_int(&j, m->n_items);
    mx__json_key(&j, "interactions"); mx__json_int(&j, (int64_t)mx_dataset_nnz(d));
    mx__json_key(&j, "factors"); mx__json_int(&j, m->factors);
    mx__json_key(&j, "epochs"); mx__json_int(&j, pc.epochs_run); /* fewer with --early-stop */
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__cli_json_blas(&j);
    if (have_test && !m->implicit) {
      mx__json_key(&j, "test_rmse"); mx__json_double(&j, rmse);
      mx__json_key(&j, "test_mae"); mx__json_double(&j, mae);
      mx__json_key(&j, "test_n"); mx__json_int(&j, (int64_t)test.n);
      mx__json_key(&j, "test_unknown"); mx__json_int(&j, (int64_t)test.unknown);
    }
    if (isfinite(tuned)) {
      mx__json_key(&j, "tuned");
      mx__json_object_begin(&j);
      mx__json_key(&j, "reg"); mx__json_double(&j, o.reg);
      mx__json_key(&j, "alpha"); mx__json_double(&j, o.alpha);
      mx__json_key(&j, "lr"); mx__json_double(&j, o.lr);
      mx__json_key(&j, "validation"); mx__json_double(&j, tuned);
      mx__json_object_end(&j);
    }
    if (o.half_life_days > 0 || o.recent_popular_days > 0) {
      char when[40];
      if (o.half_life_days > 0) { mx__json_key(&j, "half_life_days"); mx__json_double(&j, o.half_life_days); }
      if (o.recent_popular_days > 0) {
        mx__json_key(&j, "recent_popular_days"); mx__json_double(&j, o.recent_popular_days);
        mx__json_key(&j, "recent_popular_users"); mx__json_double(&j, o.recent_popular_users);
      }
      mx__json_key(&j, "now");
      mx__json_string(&j, mx_format_time(o.now_set ? o.now_seconds : d->time_max, 0, when, sizeof when));
    }
    mx__json_key(&j, "pseudonymised"); mx__json_bool(&j, pseudo != NULL);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("trained %s: %u users, %u items, %llu interactions, %u factors in %.3f s -> %s\n",
           mx_model_kind_name(m->kind), m->n_users, m->n_items,
           (unsigned long long)mx_dataset_nnz(d), m->factors, secs, out);
    if (pseudo) printf("user ids are pseudonyms (the store key)\n");
    if (have_test && !m->implicit)
      printf("test_rmse %.4f  test_mae %.4f  (n %zu, unknown %zu)\n", rmse, mae, test.n,
             test.unknown);
  }
  mx_pairs_free(&test);
  mx_model_free(m);
  mx_model_free(init);
  mx_dataset_free(d);
  mx__pseudonymiser_free(pseudo);
  return MX_EXIT_OK;
fail:
  mx_pairs_free(&test);
  mx_model_free(m);
  mx_model_free(init);
  mx_dataset_free(d);
  mx__pseudonymiser_free(pseudo);
  return mx__cli_fail("train", &err);
}
