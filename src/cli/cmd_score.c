/* merx score: model scores of given (user, item) pairs. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/score_cli.h"
#include "util/util.h"

static const char *usage =
    "usage: merx score --model MODEL.mxm --pairs FILE [--columns user=NAME,item=NAME]\n"
    "                  [--no-header] [--sep C] [--skip-unknown] --out FILE.csv [--json]\n\n"
    "Score every (user, item) row of FILE with the model and write user,item,score in\n"
    "the input order (explicit models: the predicted rating; implicit models: the\n"
    "ranking score). Without --columns the first two columns are user and item.\n"
    "An id the model does not know stops the command with file:line:column, unless\n"
    "--skip-unknown, which leaves the row out and counts it.\n"
    "  --json   summary on stdout: pairs, unknown, seconds, out\n"
    "\nExample:\n"
    "  merx score --model shop.mxm --pairs pairs.csv --columns user=CustomerID,item=StockCode --out scores.csv\n";

static const char *const roles[] = {"user", "item", NULL};

int mx__cmd_score(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "score", "model= pairs= columns= sep= no-header skip-unknown out= json",
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "pairs")) ||
      (rc = mx__args_require(&a, "out")))
    return rc;
  mx_csv_options copt = mx_csv_defaults();
  const char *sep = mx__args_get(&a, "sep", NULL);
  if (sep) {
    if (strcmp(sep, "tab") == 0) copt.sep = '\t';
    else if (strlen(sep) == 1) copt.sep = sep[0];
    else return mx__cli_usage("score", "--sep: expected one character or 'tab', got '%s'", sep);
  }
  copt.has_header = !mx__args_has(&a, "no-header");
  int skip = mx__args_has(&a, "skip-unknown"), json = mx__args_has(&a, "json");
  const char *path = mx__args_get(&a, "pairs", NULL), *out = mx__args_get(&a, "out", NULL);

  mx_error err;
  mx_error_clear(&err);
  mx_columns cols;
  if (mx_columns_parse(mx__args_get(&a, "columns", "user=1,item=2"), roles, &cols, &err))
    return mx__cli_usage("score", "--columns: %s", err.message);
  double t0 = mx__now_seconds();
  mx_model *m = NULL;
  mx_csv *csv = NULL;
  uint32_t *pu = NULL, *pi = NULL;
  float *sc = NULL;
  size_t n = 0, cap = 0;
  uint64_t unknown = 0;
  if ((rc = mx_model_load(mx__args_get(&a, "model", NULL), &m, &err))) goto fail;
  if ((rc = mx_csv_open(path, &copt, &csv, &err))) goto fail;
  if ((rc = mx_columns_resolve(&cols, csv, &err))) goto fail;
  int cu = mx_columns_index(&cols, "user"), ci = mx_columns_index(&cols, "item");
  if (cu < 0 || ci < 0) {
    rc = mx_error_set(&err, MX_EINVAL, "--columns must name both user and item");
    goto fail;
  }
  const char *hu = "user", *hi = "item";
  const char *const *hdr;
  size_t nh = mx_csv_header(csv, &hdr);
  if (nh) {
    hu = (size_t)cu < nh ? hdr[cu] : hu;
    hi = (size_t)ci < nh ? hdr[ci] : hi;
  }
  char **f;
  size_t *lens, nf;
  while ((rc = mx_csv_next(csv, &f, &lens, &nf, &err)) == 1) {
    size_t need = (size_t)(cu > ci ? cu : ci) + 1;
    if (nf < need) {
      rc = mx_error_at(&err, MX_EPARSE, path, mx_csv_line(csv), (long)nf + 1, NULL,
                       "expected at least %zu fields, got %zu", need, nf);
      goto fail;
    }
    int64_t u = mx_idmap_find(m->users, f[cu], lens[cu]);
    int64_t i = mx_idmap_find(m->items, f[ci], lens[ci]);
    if (u < 0 || i < 0) {
      if (!skip) {
        int bad_user = u < 0;
        rc = mx_error_at(&err, MX_ENOTFOUND, path, mx_csv_line(csv), (bad_user ? cu : ci) + 1,
                         bad_user ? hu : hi, "unknown %s '%s' (--skip-unknown to continue)",
                         bad_user ? "user" : "item", bad_user ? f[cu] : f[ci]);
        goto fail;
      }
      unknown++;
      continue;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 4096;
      uint32_t *a1 = realloc(pu, cap * sizeof *pu), *a2 = a1 ? realloc(pi, cap * sizeof *pi) : NULL;
      if (a1) pu = a1;
      if (a2) pi = a2;
      if (!a1 || !a2) {
        rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
        goto fail;
      }
    }
    pu[n] = (uint32_t)u;
    pi[n++] = (uint32_t)i;
  }
  if (rc < 0) goto fail;
  sc = malloc((n ? n : 1) * sizeof *sc);
  if (!sc) {
    rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  if ((rc = mx_score_pairs(m, pu, pi, n, sc, &err))) goto fail;
  mx_atomic_file af;
  if ((rc = mx__atomic_open(&af, out, &err))) goto fail;
  fputs("user,item,score\n", af.f);
  for (size_t p = 0; p < n; p++) {
    mx_csv_write_field(af.f, mx_idmap_name(m->users, pu[p]), ',');
    fputc(',', af.f);
    mx_csv_write_field(af.f, mx_idmap_name(m->items, pi[p]), ',');
    fputc(',', af.f);
    mx__write_score(af.f, sc[p]);
    fputc('\n', af.f);
  }
  if ((rc = mx__atomic_commit(&af, &err))) goto fail;
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "pairs"); mx__json_int(&j, (int64_t)n);
    mx__json_key(&j, "unknown"); mx__json_int(&j, (int64_t)unknown);
    mx__json_key(&j, "seconds"); mx__json_double(&j, mx__now_seconds() - t0);
    mx__cli_json_blas(&j);
    mx__json_key(&j, "out"); mx__json_string(&j, out);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    if (unknown) fprintf(stderr, "merx score: skipped %llu rows with unknown ids\n",
                         (unsigned long long)unknown);
    fprintf(stderr, "wrote %zu scores to %s\n", n, out);
  }
  mx_csv_close(csv);
  free(pu), free(pi), free(sc);
  mx_model_free(m);
  return MX_EXIT_OK;
fail:
  mx_csv_close(csv);
  free(pu), free(pi), free(sc);
  mx_model_free(m);
  return mx__cli_fail("score", &err);
}
