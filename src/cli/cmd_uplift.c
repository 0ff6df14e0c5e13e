/* merx uplift: train an uplift model on a randomised campaign and score
 * customers with their incremental response (merx/uplift.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/uplift_cli.h"
#include "merx/model.h"
#include "merx/uplift.h"
#include "util/util.h"

static const char *usage_top =
    "usage: merx uplift train --data FILE --columns treatment=..,outcome=..[,user=..]\n"
    "                         [--treatment ARM] [--control ARM] [--features a,b,c]\n"
    "                         [--categorical a,b] [--embeddings MODEL.mxm] [--learner t|transformed]\n"
    "                         [--test-share 0.3] [--seed S] [--reg R] [--bootstrap B]\n"
    "                         --out MODEL.mxu [--html FILE] [--json]\n"
    "       merx uplift score --model MODEL.mxu --data FILE [--columns user=..]\n"
    "                         [--embeddings MODEL.mxm] --out SCORES.csv [--json]\n"
    "       merx uplift eval --data FILE --columns treatment=..,outcome=..[,score=..]\n"
    "                         [--model MODEL.mxu] [--treatment ARM] [--control ARM]\n"
    "                         [--bootstrap B] [--seed S] [--html FILE] [--json]\n"
    "\nExamples:\n"
    "  merx uplift train --data examples/data/hillstrom_sample.csv.gz\n"
    "      --columns treatment=segment,outcome=visit\n"
    "      --treatment \"Mens E-Mail\" --control \"No E-Mail\" --features recency,history\n"
    "      --out mens.mxu\n"
    "  merx uplift score --model mens.mxu --data examples/data/hillstrom_sample.csv.gz --out persuadable.csv\n";

static const char *usage_eval =
    "usage: merx uplift eval --data FILE --columns treatment=..,outcome=..[,score=..][,user=..]\n"
    "                         [--model MODEL.mxu [--embeddings MODEL.mxm]] [--treatment ARM]\n"
    "                         [--control ARM] [--bootstrap B] [--seed S] [--html FILE] [--json]\n\n"
    "Evaluate uplift scores on a randomised campaign: the scores in column score=, or\n"
    "those of --model (e.g. a model trained on last month's campaign, evaluated on this\n"
    "month's). Prints the Qini coefficient and AUUC against random targeting with 95%\n"
    "bootstrap intervals (default 200 replicates, --seed 1); --json keys as for train.\n"
    "\nExample:\n"
    "  merx uplift eval --data examples/data/hillstrom_sample.csv.gz\n"
    "      --columns treatment=segment,outcome=visit\n"
    "      --treatment \"Mens E-Mail\" --control \"No E-Mail\" --model mens.mxu\n";

static const char *usage_train =
    "usage: merx uplift train --data FILE --columns treatment=..,outcome=..[,user=..]\n"
    "                         [--treatment ARM] [--control ARM] [--features a,b,c]\n"
    "                         [--categorical a,b] [--embeddings MODEL.mxm] [--learner t|transformed]\n"
    "                         [--test-share 0.3] [--seed S] [--reg R] [--bootstrap B]\n"
    "                         --out MODEL.mxu [--html FILE] [--json]\n\n"
    "Learn each customer's incremental response to a treatment from a randomised\n"
    "campaign: one row per customer with its arm (treatment column), its outcome (0/1:\n"
    "logistic models; any number: ridge models) and features. Rows of other arms are\n"
    "left out (multi-arm data: compare one arm with the control).\n\n"
    "  --treatment ARM    the treated arm; --control ARM the control arm. With two arms\n"
    "                     naming one is enough; arms '1' and '0' need neither\n"
    "  --features a,b,c   feature columns (default: every column but the roles; name\n"
    "                     them to keep other outcomes out). A column is numeric when its\n"
    "                     first value is a number (standardised), else categorical\n"
    "                     (one-hot); --categorical a,b reads numeric codes as categories\n"
    "  --embeddings M     add the user factors of an embedding model (needs user=)\n"
    "  --learner L        t: two models, uplift = treated - control prediction (default);\n"
    "                     transformed: ridge regression on Y (T - e) / (e (1 - e))\n"
    "  --test-share S     held out per arm (seeded, default 0.3; 0: no evaluation): the\n"
    "                     model is fitted on the rest and evaluated there\n"
    "  --seed S           split and bootstrap seed (default 1)\n"
    "  --reg R            L2 strength on standardised features (default 1)\n"
    "  --bootstrap B      bootstrap replicates for the intervals (default 200; 0: none)\n"
    "  --html FILE        report with the Qini and uplift curves (self-contained SVG)\n"
    "  --sep C            field separator (default: detected)\n\n"
    "Prints the held-out Qini coefficient (area between the Qini curve and random\n"
    "targeting) and AUUC (area under the uplift curve; random targeting: ate / 2), with\n"
    "95% bootstrap intervals.\n"
    "\nExample:\n"
    "  merx uplift train --data examples/data/hillstrom_sample.csv.gz\n"
    "      --columns treatment=segment,outcome=visit\n"
    "      --treatment \"Mens E-Mail\" --control \"No E-Mail\"\n"
    "      --features recency,history,mens,womens,newbie,zip_code,channel\n"
    "      --out mens.mxu\n";

static const char *usage_score =
    "usage: merx uplift score --model MODEL.mxu --data FILE [--columns user=..]\n"
    "                         [--embeddings MODEL.mxm] --out SCORES.csv [--json]\n\n"
    "Score every row of FILE (it needs the model's feature columns). Output columns:\n"
    "user,uplift then, for a T-learner, p_treated,p_control (0/1 outcome) or\n"
    "y_treated,y_control (numeric outcome). user is the user column (user= here or\n"
    "at training), else the 1-based row number. The file feeds `merx allocate\n"
    "--columns user=user,value=uplift,...` and scripts (merx.data.read).\n"
    "\nExample:\n"
    "  merx uplift score --model mens.mxu --data examples/data/hillstrom_sample.csv.gz --out persuadable.csv\n";

/* Split "a,b,c" into a new array of strings (a copy of s holds them). */
static int split_list(const char *s, char **copy, const char ***items, int *n) {
  *items = NULL;
  *n = 0;
  *copy = mx__strdup(s ? s : "");
  if (!*copy) return -1;
  int cap = 1;
  for (const char *p = *copy; *p; p++) cap += *p == ',';
  *items = calloc((size_t)cap, sizeof **items);
  if (!*items) return -1;
  char *save = NULL;
  for (char *tok = strtok_r(*copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (*tok) (*items)[(*n)++] = tok;
  return 0;
}

static int read_sep(const mx_args *a, mx_csv_options *csv) {
  const char *sep = mx__args_get(a, "sep", NULL);
  if (!sep) return 0;
  if (strcmp(sep, "tab") == 0 || strcmp(sep, "\\t") == 0) csv->sep = '\t';
  else if (strlen(sep) == 1) csv->sep = sep[0];
  else return mx__cli_usage(a->cmd, "--sep: expected one character or 'tab', got '%s'", sep);
  return 0;
}

/* Name the data file in errors that come without one. */
static int fail_in(const char *cmd, mx_error *err, const char *path) {
  if (!err->file[0] && path && err->code != MX_ENOMEM)
    snprintf(err->file, sizeof err->file, "%s", path);
  return mx__cli_fail(cmd, err);
}

static void json_interval(mx_json *j, const char *key, double v, double lo, double hi) {
  char k[64];
  mx__json_key(j, key);
  mx__json_double(j, v);
  snprintf(k, sizeof k, "%s_lo95", key);
  mx__json_key(j, k);
  mx__json_double(j, lo);
  snprintf(k, sizeof k, "%s_hi95", key);
  mx__json_key(j, k);
  mx__json_double(j, hi);
}

static int uplift_train(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "uplift train",
                         "data= columns= treatment= control= features= categorical= embeddings= "
                         "learner= test-share= seed= reg= bootstrap= out= html= json sep=",
                         argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_train) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "columns")) ||
      (rc = mx__args_require(&a, "out")))
    return rc;
  mx_uplift_options o = mx_uplift_defaults();
  static const char *const roles[] = {"user", "treatment", "outcome", NULL};
  mx_columns cols;
  mx_error err;
  mx_error_clear(&err);
  if (mx_columns_parse(mx__args_get(&a, "columns", ""), roles, &cols, &err))
    return mx__cli_usage(a.cmd, "--columns: %s", err.message);
  for (int r = 0; r < cols.count; r++) {
    if (!strcmp(cols.role[r], "user")) o.user = cols.name[r];
    if (!strcmp(cols.role[r], "treatment")) o.treatment = cols.name[r];
    if (!strcmp(cols.role[r], "outcome")) o.outcome = cols.name[r];
  }
  if (!o.treatment || !o.outcome)
    return mx__cli_usage(a.cmd, "--columns needs treatment=COLUMN and outcome=COLUMN");
  const char *ln = mx__args_get(&a, "learner", "t");
  int learner = mx_uplift_learner_parse(ln);
  if (learner < 0)
    return mx__cli_usage(a.cmd, "--learner: unknown learner '%s' (known: t, transformed)", ln);
  o.learner = (mx_uplift_learner)learner;
  o.treated_arm = mx__args_get(&a, "treatment", NULL);
  o.control_arm = mx__args_get(&a, "control", NULL);
  double dv;
  long lv;
  if ((rc = mx__args_double(&a, "test-share", o.test_share, 0, 0.9, &o.test_share))) return rc;
  if ((rc = mx__args_double(&a, "reg", o.reg, 0, 1e12, &o.reg))) return rc;
  if ((rc = mx__args_double(&a, "seed", (double)o.seed, 0, 9007199254740992.0, &dv))) return rc;
  o.seed = (uint64_t)dv;
  if ((rc = mx__args_int(&a, "bootstrap", o.bootstrap, 0, 100000, &lv))) return rc;
  o.bootstrap = (int)lv;
  mx_uplift_read_options ro;
  memset(&ro, 0, sizeof ro);
  ro.csv = mx_csv_defaults();
  if ((rc = read_sep(&a, &ro.csv))) return rc;

  const char *data = mx__args_get(&a, "data", NULL), *out = mx__args_get(&a, "out", NULL);
  const char *html = mx__args_get(&a, "html", NULL);
  char *fcopy = NULL, *ccopy = NULL;
  const char **feats = NULL, **cats = NULL, **read_cols = NULL, **cat_cols = NULL;
  int nfeat = 0, ncat = 0;
  mx_uplift_table *t = NULL;
  mx_uplift_model *m = NULL;
  mx_model *emb = NULL;
  mx_uplift_report rep;
  int status = MX_EXIT_FAIL;
  if (split_list(mx__args_get(&a, "features", NULL), &fcopy, &feats, &nfeat) ||
      split_list(mx__args_get(&a, "categorical", NULL), &ccopy, &cats, &ncat)) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    status = mx__cli_fail(a.cmd, &err);
    goto done;
  }
  if (mx__args_has(&a, "features") && nfeat == 0) {
    status = mx__cli_usage(a.cmd, "--features: no column named");
    goto done;
  }
  read_cols = calloc((size_t)nfeat + 3, sizeof *read_cols);
  cat_cols = calloc((size_t)ncat + 2, sizeof *cat_cols);
  if (!read_cols || !cat_cols) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    status = mx__cli_fail(a.cmd, &err);
    goto done;
  }
  /* the roles and features only (other columns may be wide text); arms and
   * user ids are names even when they look like numbers */
  int nread = 0, ncc = 0;
  read_cols[nread++] = o.treatment;
  read_cols[nread++] = o.outcome;
  if (o.user) read_cols[nread++] = o.user;
  for (int q = 0; q < nfeat; q++) {
    int dup = 0;
    for (int r = 0; r < nread; r++) dup |= strcmp(read_cols[r], feats[q]) == 0;
    if (!dup) read_cols[nread++] = feats[q]; /* a role named as a feature: the learner says so */
  }
  cat_cols[ncc++] = o.treatment;
  if (o.user) cat_cols[ncc++] = o.user;
  for (int q = 0; q < ncat; q++) cat_cols[ncc++] = cats[q];
  ro.columns = nfeat ? read_cols : NULL;
  ro.n_columns = nfeat ? nread : 0;
  ro.categorical = cat_cols;
  ro.n_categorical = ncc;
  o.features = nfeat ? feats : NULL;
  o.n_features = nfeat;
  if (mx__args_has(&a, "embeddings")) {
    if (!o.user) {
      status = mx__cli_usage(a.cmd, "--embeddings needs the user column (--columns user=..)");
      goto done;
    }
    if (mx_model_load(mx__args_get(&a, "embeddings", NULL), &emb, &err)) {
      status = mx__cli_fail(a.cmd, &err);
      goto done;
    }
    o.embeddings = emb;
  }
  double t0 = mx__now_seconds();
  if (mx_uplift_table_read_csv(data, &ro, &t, &err)) {
    status = fail_in(a.cmd, &err, data);
    goto done;
  }
  for (int q = 0; q < ncat; q++)
    if (mx_uplift_table_find(t, cats[q]) < 0) {
      mx_error_at(&err, MX_ENOTFOUND, data, 1, 0, cats[q], "--categorical: no column '%s'%s",
                  cats[q], nfeat ? " among the features" : "");
      status = mx__cli_fail(a.cmd, &err);
      goto done;
    }
  if (mx_uplift_train(t, &o, &m, &rep, &err)) {
    status = fail_in(a.cmd, &err, data);
    goto done;
  }
  if (mx_uplift_save(m, out, &err)) {
    status = mx__cli_fail(a.cmd, &err);
    goto done;
  }
  if (html && mx__uplift_report_html(html, m, &rep, data, &err)) {
    status = mx__cli_fail(a.cmd, &err);
    goto done;
  }
  double secs = mx__now_seconds() - t0;
  const mx_uplift_eval *e = &rep.test;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "learner"); mx__json_string(&j, mx_uplift_learner_name(m->learner));
    mx__json_key(&j, "outcome"); mx__json_string(&j, m->outcome);
    mx__json_key(&j, "outcome_kind"); mx__json_string(&j, m->binary ? "binary" : "continuous");
    mx__json_key(&j, "treatment_arm"); mx__json_string(&j, m->treated_arm);
    mx__json_key(&j, "control_arm"); mx__json_string(&j, m->control_arm);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)rep.rows);
    mx__json_key(&j, "rows_other_arms"); mx__json_int(&j, (int64_t)rep.rows_other_arms);
    mx__json_key(&j, "train"); mx__json_object_begin(&j);
    mx__json_key(&j, "treated"); mx__json_int(&j, (int64_t)rep.train_treated);
    mx__json_key(&j, "control"); mx__json_int(&j, (int64_t)rep.train_control);
    mx__json_object_end(&j);
    mx__json_key(&j, "test"); mx__json_object_begin(&j);
    mx__json_key(&j, "treated"); mx__json_int(&j, (int64_t)rep.test_treated);
    mx__json_key(&j, "control"); mx__json_int(&j, (int64_t)rep.test_control);
    mx__json_object_end(&j);
    mx__json_key(&j, "features"); mx__json_array_begin(&j);
    for (uint32_t q = 0; q < m->n_features; q++) mx__json_string(&j, m->features[q].name);
    mx__json_array_end(&j);
    mx__json_key(&j, "width"); mx__json_int(&j, m->width);
    mx__json_key(&j, "propensity"); mx__json_double(&j, m->propensity);
    if (m->embed_dims) {
      mx__json_key(&j, "embedding_unknown_users"); mx__json_int(&j, (int64_t)rep.embed_unknown);
    }
    if (rep.evaluated) {
      mx__json_key(&j, "ate"); mx__json_double(&j, e->ate);
      json_interval(&j, "qini", e->qini, e->qini_lo, e->qini_hi);
      json_interval(&j, "auuc", e->auuc, e->auuc_lo, e->auuc_hi);
      mx__json_key(&j, "random_area"); mx__json_double(&j, e->random_area);
      mx__json_key(&j, "auuc_gain_lo95"); mx__json_double(&j, e->gain_lo);
      mx__json_key(&j, "auuc_gain_hi95"); mx__json_double(&j, e->gain_hi);
      mx__json_key(&j, "bootstrap"); mx__json_int(&j, e->bootstrap);
    }
    mx__json_key(&j, "seed"); mx__json_int(&j, (int64_t)m->seed);
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("uplift %s-learner (%s outcome '%s'): '%s' vs control '%s'\n",
           m->learner == MX_UPLIFT_T_LEARNER ? "T" : "transformed-outcome",
           m->binary ? "0/1" : "numeric", m->outcome, m->treated_arm, m->control_arm);
    printf("rows %zu (train %zu treated, %zu control; test %zu, %zu)", rep.rows,
           rep.train_treated, rep.train_control, rep.test_treated, rep.test_control);
    if (rep.rows_other_arms) printf(", %zu rows of other arms left out", rep.rows_other_arms);
    printf("\n%u features, %u model columns\n", m->n_features, m->width);
    if (rep.evaluated) {
      printf("held out: ate %.6g  qini %.6g [%.6g, %.6g]  auuc %.6g [%.6g, %.6g]  random %.6g\n",
             e->ate, e->qini, e->qini_lo, e->qini_hi, e->auuc, e->auuc_lo, e->auuc_hi,
             e->random_area);
      if (e->bootstrap)
        printf("%s\n", e->qini_lo > 0 ? "the model beats random targeting (qini interval above 0)"
                                      : "not shown better than random targeting (qini interval reaches 0)");
    }
    printf("-> %s (%.2f s)\n", out, secs);
  }
  status = MX_EXIT_OK;
done:
  free(fcopy);
  free(ccopy);
  free(feats);
  free(cats);
  free(read_cols);
  free(cat_cols);
  mx_uplift_table_free(t);
  mx_uplift_free(m);
  mx_model_free(emb);
  return status;
}

static int uplift_score(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "uplift score", "model= data= columns= embeddings= out= json sep=",
                         argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_score) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "data")) ||
      (rc = mx__args_require(&a, "out")))
    return rc;
  mx_error err;
  mx_error_clear(&err);
  static const char *const roles[] = {"user", NULL};
  mx_columns cols;
  if (mx_columns_parse(mx__args_get(&a, "columns", ""), roles, &cols, &err))
    return mx__cli_usage(a.cmd, "--columns: %s", err.message);
  mx_uplift_read_options ro;
  memset(&ro, 0, sizeof ro);
  ro.csv = mx_csv_defaults();
  if ((rc = read_sep(&a, &ro.csv))) return rc;
  const char *data = mx__args_get(&a, "data", NULL), *out = mx__args_get(&a, "out", NULL);
  mx_uplift_model *m = NULL;
  mx_model *emb = NULL;
  mx_uplift_table *t = NULL;
  const char **read_cols = NULL, **cat_cols = NULL;
  double *up = NULL, *p1 = NULL, *p0 = NULL;
  int status = MX_EXIT_FAIL;
  mx_atomic_file af = {0};
  if (mx_uplift_load(mx__args_get(&a, "model", NULL), &m, &err)) goto fail;
  const char *user = cols.count ? cols.name[0] : m->user;
  read_cols = calloc(m->n_features + 1, sizeof *read_cols);
  cat_cols = calloc(m->n_features + 1, sizeof *cat_cols);
  if (!read_cols || !cat_cols) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  int nread = 0, ncat = 0;
  if (user) read_cols[nread++] = cat_cols[ncat++] = user;
  for (uint32_t q = 0; q < m->n_features; q++) {
    const mx_uplift_feature *f = &m->features[q];
    if (f->kind == MX_UPLIFT_EMBEDDING || (user && strcmp(f->name, user) == 0)) continue;
    read_cols[nread++] = f->name;
    if (f->kind == MX_UPLIFT_CATEGORICAL) cat_cols[ncat++] = f->name;
  }
  ro.columns = read_cols;
  ro.n_columns = nread;
  ro.categorical = cat_cols;
  ro.n_categorical = ncat;
  if (m->embed_dims) {
    if (!mx__args_has(&a, "embeddings")) {
      status = mx__cli_usage(a.cmd, "the model uses %u user factors: give --embeddings MODEL.mxm "
                                   "(the model it was trained with)", m->embed_dims);
      goto done;
    }
    if (mx_model_load(mx__args_get(&a, "embeddings", NULL), &emb, &err)) goto fail;
  }
  if (mx_uplift_table_read_csv(data, &ro, &t, &err)) goto fail_data;
  size_t n = mx_uplift_table_rows(t);
  int both = m->learner == MX_UPLIFT_T_LEARNER;
  up = malloc(n * sizeof *up);
  p1 = malloc(n * sizeof *p1);
  p0 = malloc(n * sizeof *p0);
  if (!up || !p1 || !p0) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  size_t unknown = 0;
  if (mx_uplift_score(m, t, emb, up, p1, p0, &unknown, &err)) goto fail_data;
  if (mx__atomic_open(&af, out, &err)) goto fail;
  fputs(both ? m->binary ? "user,uplift,p_treated,p_control\n" : "user,uplift,y_treated,y_control\n"
             : "user,uplift\n",
        af.f);
  int uc = user ? mx_uplift_table_find(t, user) : -1;
  char buf[48];
  for (size_t i = 0; i < n; i++) {
    if (uc >= 0) mx_csv_write_field(af.f, mx_uplift_table_text(t, uc, i, buf, sizeof buf), ',');
    else fprintf(af.f, "%zu", i + 1);
    fprintf(af.f, ",%.9g", up[i]);
    if (both) fprintf(af.f, ",%.9g,%.9g", p1[i], p0[i]);
    fputc('\n', af.f);
  }
  if (mx__atomic_commit(&af, &err)) {
    memset(&af, 0, sizeof af); /* released by the commit */
    goto fail;
  }
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)n);
    mx__json_key(&j, "learner"); mx__json_string(&j, mx_uplift_learner_name(m->learner));
    if (m->embed_dims) {
      mx__json_key(&j, "embedding_unknown_users"); mx__json_int(&j, (int64_t)unknown);
    }
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("scored %zu rows with the %s uplift model -> %s\n", n,
           mx_uplift_learner_name(m->learner), out);
    if (unknown) printf("%zu rows have a user the embedding model lacks (mean factors used)\n", unknown);
  }
  status = MX_EXIT_OK;
  goto done;
fail_data:
  status = fail_in(a.cmd, &err, data);
  goto done;
fail:
  mx__atomic_abort(&af);
  status = mx__cli_fail(a.cmd, &err);
done:
  free(read_cols);
  free(cat_cols);
  free(up);
  free(p1);
  free(p0);
  mx_uplift_table_free(t);
  mx_uplift_free(m);
  mx_model_free(emb);
  return status;
}

static int uplift_eval(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "uplift eval",
                         "data= columns= model= embeddings= treatment= control= bootstrap= seed= "
                         "html= json sep=",
                         argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_eval) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "columns"))) return rc;
  static const char *const roles[] = {"user", "treatment", "outcome", "score", NULL};
  mx_columns cols;
  mx_error err;
  mx_error_clear(&err);
  if (mx_columns_parse(mx__args_get(&a, "columns", ""), roles, &cols, &err))
    return mx__cli_usage(a.cmd, "--columns: %s", err.message);
  const char *treatment = NULL, *outcome = NULL, *score = NULL, *user = NULL;
  for (int r = 0; r < cols.count; r++) {
    if (!strcmp(cols.role[r], "treatment")) treatment = cols.name[r];
    if (!strcmp(cols.role[r], "outcome")) outcome = cols.name[r];
    if (!strcmp(cols.role[r], "score")) score = cols.name[r];
    if (!strcmp(cols.role[r], "user")) user = cols.name[r];
  }
  if (!treatment || !outcome)
    return mx__cli_usage(a.cmd, "--columns needs treatment=COLUMN and outcome=COLUMN");
  if (!score == !mx__args_has(&a, "model"))
    return mx__cli_usage(a.cmd, "give the scores either as a column (--columns score=..) or by --model");
  long lv;
  double dv;
  if ((rc = mx__args_int(&a, "bootstrap", 200, 0, 100000, &lv))) return rc;
  if ((rc = mx__args_double(&a, "seed", 1, 0, 9007199254740992.0, &dv))) return rc;
  mx_uplift_read_options ro;
  memset(&ro, 0, sizeof ro);
  ro.csv = mx_csv_defaults();
  if ((rc = read_sep(&a, &ro.csv))) return rc;
  const char *data = mx__args_get(&a, "data", NULL), *html = mx__args_get(&a, "html", NULL);
  mx_uplift_model *m = NULL;
  mx_model *emb = NULL;
  mx_uplift_table *t = NULL;
  double *s = NULL, *y = NULL;
  unsigned char *flag = NULL, *tt = NULL;
  int status = MX_EXIT_FAIL;
  const char *cat[2] = {treatment, user};
  if (mx__args_has(&a, "model")) {
    if (mx_uplift_load(mx__args_get(&a, "model", NULL), &m, &err)) goto fail;
    if (m->embed_dims && !mx__args_has(&a, "embeddings")) {
      status = mx__cli_usage(a.cmd, "the model uses %u user factors: give --embeddings MODEL.mxm "
                                   "(the model it was trained with)", m->embed_dims);
      goto done;
    }
    if (m->embed_dims && mx_model_load(mx__args_get(&a, "embeddings", NULL), &emb, &err)) goto fail;
  }
  /* every column: the model's features and the roles */
  ro.categorical = cat;
  ro.n_categorical = user ? 2 : 1;
  if (mx_uplift_table_read_csv(data, &ro, &t, &err)) goto fail_data;
  size_t n = mx_uplift_table_rows(t);
  s = malloc(n * sizeof *s);
  y = malloc(n * sizeof *y);
  flag = malloc(n);
  tt = malloc(n);
  if (!s || !y || !flag || !tt) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  const char *tr_name, *ct_name;
  if (mx_uplift_table_arms(t, treatment, mx__args_get(&a, "treatment", NULL),
                           mx__args_get(&a, "control", NULL), flag, &tr_name, &ct_name, &err))
    goto fail_data;
  int yc = mx_uplift_table_find(t, outcome), sc = score ? mx_uplift_table_find(t, score) : -1;
  if (yc < 0 || mx_uplift_table_is_categorical(t, yc)) {
    mx_error_at(&err, yc < 0 ? MX_ENOTFOUND : MX_EINVAL, data, 1, 0, outcome,
                yc < 0 ? "no column '%s'" : "outcome column '%s' is not numeric", outcome);
    goto fail;
  }
  if (score && (sc < 0 || mx_uplift_table_is_categorical(t, sc))) {
    mx_error_at(&err, sc < 0 ? MX_ENOTFOUND : MX_EINVAL, data, 1, 0, score,
                sc < 0 ? "no column '%s'" : "score column '%s' is not numeric", score);
    goto fail;
  }
  if (m) {
    if (mx_uplift_score(m, t, emb, s, NULL, NULL, NULL, &err)) goto fail_data;
  } else {
    for (size_t i = 0; i < n; i++) s[i] = mx_uplift_table_number(t, sc, i);
  }
  size_t k = 0, binary = 1;
  for (size_t i = 0; i < n; i++) {
    if (flag[i] == 2) continue;
    double v = mx_uplift_table_number(t, yc, i);
    binary &= v == 0 || v == 1;
    s[k] = s[i], y[k] = v, tt[k] = flag[i];
    k++;
  }
  mx_uplift_report rep;
  memset(&rep, 0, sizeof rep);
  if (mx_uplift_evaluate(s, tt, y, k, (int)lv, (uint64_t)dv, &rep.test, &err)) goto fail_data;
  rep.evaluated = 1;
  rep.rows = k;
  rep.rows_other_arms = n - k;
  rep.test_treated = rep.test.n_treated;
  rep.test_control = rep.test.n_control;
  if (html) {
    mx_uplift_model shown;
    memset(&shown, 0, sizeof shown);
    shown.learner = m ? m->learner : (mx_uplift_learner)0;
    shown.binary = (int)binary;
    shown.outcome = (char *)outcome;
    shown.treated_arm = (char *)tr_name;
    shown.control_arm = (char *)ct_name;
    if (mx__uplift_report_html(html, &shown, &rep, data, &err)) goto fail;
  }
  const mx_uplift_eval *e = &rep.test;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "treatment_arm"); mx__json_string(&j, tr_name);
    mx__json_key(&j, "control_arm"); mx__json_string(&j, ct_name);
    mx__json_key(&j, "treated"); mx__json_int(&j, (int64_t)e->n_treated);
    mx__json_key(&j, "control"); mx__json_int(&j, (int64_t)e->n_control);
    mx__json_key(&j, "rows_other_arms"); mx__json_int(&j, (int64_t)rep.rows_other_arms);
    mx__json_key(&j, "ate"); mx__json_double(&j, e->ate);
    json_interval(&j, "qini", e->qini, e->qini_lo, e->qini_hi);
    json_interval(&j, "auuc", e->auuc, e->auuc_lo, e->auuc_hi);
    mx__json_key(&j, "random_area"); mx__json_double(&j, e->random_area);
    mx__json_key(&j, "auuc_gain_lo95"); mx__json_double(&j, e->gain_lo);
    mx__json_key(&j, "auuc_gain_hi95"); mx__json_double(&j, e->gain_hi);
    mx__json_key(&j, "bootstrap"); mx__json_int(&j, e->bootstrap);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("'%s' vs control '%s': %zu treated, %zu control rows\n", tr_name, ct_name, e->n_treated,
           e->n_control);
    printf("ate %.6g  qini %.6g [%.6g, %.6g]  auuc %.6g [%.6g, %.6g]  random %.6g\n", e->ate,
           e->qini, e->qini_lo, e->qini_hi, e->auuc, e->auuc_lo, e->auuc_hi, e->random_area);
  }
  status = MX_EXIT_OK;
  goto done;
fail_data:
  status = fail_in(a.cmd, &err, data);
  goto done;
fail:
  status = mx__cli_fail(a.cmd, &err);
done:
  free(s);
  free(y);
  free(flag);
  free(tt);
  mx_uplift_table_free(t);
  mx_uplift_free(m);
  mx_model_free(emb);
  return status;
}

int mx__cmd_uplift(int argc, char **argv) {
  if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
    fputs(usage_top, argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (!strcmp(argv[2], "train")) return uplift_train(argc, argv);
  if (!strcmp(argv[2], "score")) return uplift_score(argc, argv);
  if (!strcmp(argv[2], "eval")) return uplift_eval(argc, argv);
  return mx__cli_unknown_subcommand("uplift", argv[2], "train score eval");
}
