/* merx forget: erase people from a store (right to erasure, PRIVACY.md). The
 * ledger and files are the store's (store/forget.h); models are rewritten
 * here, where the model layer and the store meet. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "merx/csv.h"
#include "merx/idlist.h"
#include "merx/model.h"
#include "store/forget.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/util.h"

static const char *usage =
    "usage: merx forget --store DIR (--user ID ... | --user-file FILE) [--retrain] [--json]\n\n"
    "Erase people from the store: their decisions, exposures, assignments and stored\n"
    "queries in the ledger; their id wherever else it is quoted (other rows' reasons, run parameters,\n"
    "run-history tails, files, cache entries); their factor row and stored\n"
    "interactions in every model (*.mxm) under DIR. A model that learnt from them is\n"
    "marked retrain due (DIR/retrain_due.txt); --retrain retrains it from what it\n"
    "keeps. With a store key the real id is hashed and both are erased. Writes a\n"
    "receipt without the ids to DIR/erasures/. Idempotent: a second run (or a run\n"
    "after a crash) finishes the work and finds nothing more.\n\n"
    "  --user ID          a person to erase (repeatable)\n"
    "  --user-file FILE   ids one per line (first column of a CSV)\n"
    "  --retrain          retrain the models marked retrain due\n"
    "  --threads T        training threads (default: all cores)\n"
    "  --json             {\"users\", \"removed\": {PLACE: count}, \"retrain_due\": [...]}\n"
    "\nExamples:\n"
    "  merx forget --store store --user 17850\n"
    "  merx forget --store store --user-file erasure_requests.txt --retrain\n";

typedef struct forget_ctx {
  const char *dir;
  const char *const *ids;
  int n;
  int retrain, threads;
  long models_rewritten, factor_rows, interactions, retrained;
  char **due; /* retrain due, paths relative to dir */
  int n_due;
} forget_ctx;

static const char DUE_FILE[] = "retrain_due.txt";

/* Test hook for the crash windows between erasure steps
 * (tests/cli/forget_kill.sh): MERX_TEST_FORGET_KILL_AT=STEP dies here as a
 * SIGKILL would, at the step's first occurrence. Steps: "ledger" (committed,
 * files not yet walked), "marked" (a model marked retrain due, not yet
 * rewritten), "model" (a model rewritten, the walk not finished). */
static void kill_point(const char *step) {
  const char *at = getenv("MERX_TEST_FORGET_KILL_AT");
  if (at && strcmp(at, step) == 0) raise(SIGKILL);
}

static int due_has(const forget_ctx *c, const char *rel) {
  for (int i = 0; i < c->n_due; i++)
    if (strcmp(c->due[i], rel) == 0) return 1;
  return 0;
}

static int due_save(const forget_ctx *c, mx_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", c->dir, DUE_FILE);
  if (c->n_due == 0) {
    if (unlink(path) != 0 && errno != ENOENT)
      return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "%s", strerror(errno));
    return MX_OK;
  }
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) return rc;
  for (int i = 0; i < c->n_due; i++) fprintf(af.f, "%s\n", c->due[i]);
  return mx__atomic_commit(&af, err);
}

static int due_load(forget_ctx *c) {
  char path[4200], line[4200];
  snprintf(path, sizeof path, "%s/%s", c->dir, DUE_FILE);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!*line || due_has(c, line)) continue;
    char **d = realloc(c->due, (size_t)(c->n_due + 1) * sizeof *d);
    if (!d || !(d[c->n_due] = mx__strdup(line))) {
      if (d) c->due = d;
      fclose(f);
      return -1;
    }
    c->due = d;
    c->n_due++;
  }
  fclose(f);
  return 0;
}

static int on_model(void *vctx, const char *path, mx_error *err) {
  forget_ctx *c = vctx;
  const char *rel = path + strlen(c->dir) + 1;
  mx_model *m = NULL, *owned = NULL, *fresh = NULL;
  int rc = mx_model_load(path, &m, err);
  if (rc != MX_OK) return rc;
  unsigned char *drop = calloc(m->n_users ? m->n_users : 1, 1);
  if (!drop) {
    mx_model_free(m);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  long rows = 0;
  for (int i = 0; i < c->n; i++) {
    int64_t u = mx_idmap_find(m->users, c->ids[i], strlen(c->ids[i]));
    if (u >= 0 && !drop[u]) {
      drop[u] = 1;
      rows++;
      c->interactions += m->seen.indptr ? (long)(m->seen.indptr[u + 1] - m->seen.indptr[u]) : 0;
    }
  }
  if (rows > 0 && !due_has(c, rel)) {
    /* marked before the rewrite: after a crash the rerun no longer finds the
     * person in the model, but still knows the model learnt from them */
    char **d = realloc(c->due, (size_t)(c->n_due + 1) * sizeof *d);
    if (!d || !(d[c->n_due] = mx__strdup(rel))) {
      if (d) c->due = d;
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    c->due = d;
    c->n_due++;
    if ((rc = due_save(c, err)) != MX_OK) goto done;
    kill_point("marked");
  }
  if (rows > 0) {
    if ((rc = mx_model_clone(m, &owned, err)) != MX_OK ||
        (rc = mx_model_remove_users(owned, drop, err)) != MX_OK)
      goto done;
    c->factor_rows += rows;
  }
  if (c->retrain && due_has(c, rel)) {
    if ((rc = mx_model_retrain(owned ? owned : m, c->threads, &fresh, err)) != MX_OK) goto done;
    if ((rc = mx_model_save(fresh, path, err)) != MX_OK) goto done;
    c->retrained++;
    c->models_rewritten++;
    for (int i = 0; i < c->n_due; i++)
      if (strcmp(c->due[i], rel) == 0) {
        free(c->due[i]);
        c->due[i] = c->due[--c->n_due];
        break;
      }
    rc = due_save(c, err);
  } else if (owned) {
    if ((rc = mx_model_save(owned, path, err)) == MX_OK) c->models_rewritten++;
    if (rc == MX_OK) kill_point("model");
  }
done:
  free(drop);
  mx_model_free(fresh);
  mx_model_free(owned);
  mx_model_free(m);
  return rc;
}

/* "removed": {...}, "retrain_due": [...] of the receipt and of --json */
static void write_counts(mx_json *j, const forget_ctx *c, const mx_forget_counts *k) {
  mx__json_key(j, "removed");
  mx__json_object_begin(j);
  mx__json_key(j, "decisions"); mx__json_int(j, k->decisions);
  mx__json_key(j, "exposures"); mx__json_int(j, k->exposures);
  mx__json_key(j, "assignments"); mx__json_int(j, k->assignments);
  mx__json_key(j, "mentions"); mx__json_int(j, k->mentions);
  mx__json_key(j, "run_tails"); mx__json_int(j, k->runs);
  mx__json_key(j, "queries"); mx__json_int(j, k->queries);
  mx__json_key(j, "files_rewritten"); mx__json_int(j, k->files_rewritten);
  mx__json_key(j, "cache_entries"); mx__json_int(j, k->files_deleted);
  mx__json_key(j, "model_factor_rows"); mx__json_int(j, c->factor_rows);
  mx__json_key(j, "model_interactions"); mx__json_int(j, c->interactions);
  mx__json_key(j, "models_rewritten"); mx__json_int(j, c->models_rewritten);
  mx__json_key(j, "models_retrained"); mx__json_int(j, c->retrained);
  mx__json_object_end(j);
  mx__json_key(j, "retrain_due");
  mx__json_array_begin(j);
  for (int i = 0; i < c->n_due; i++) mx__json_string(j, c->due[i]);
  mx__json_array_end(j);
}

static int write_receipt(const forget_ctx *c, int users, const mx_forget_counts *k,
                         const char *when, char *out, size_t size, mx_error *err) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/erasures", c->dir);
  if (mx__mkdir_p(dir) != 0)
    return mx_error_at(err, MX_EIO, dir, 0, 0, NULL, "cannot create: %s", strerror(errno));
  char stamp[32];
  snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", when, when + 5, when + 8, when + 11,
           when + 14, when + 17);
  snprintf(out, size, "%s/%s-%ld.json", dir, stamp, (long)getpid());
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, out, err);
  if (rc != MX_OK) return rc;
  mx_json j;
  mx__json_init(&j, af.f);
  mx__json_object_begin(&j);
  mx__json_key(&j, "erased_at"); mx__json_string(&j, when);
  mx__json_key(&j, "users"); mx__json_int(&j, users);
  write_counts(&j, c, k);
  mx__json_object_end(&j);
  fputc('\n', af.f);
  return mx__atomic_commit(&af, err);
}

int mx__cmd_forget(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "forget", "store= user* user-file= retrain threads= json", argc, argv,
                         2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (a.npos) return mx__cli_usage("forget", "unexpected argument '%s'", a.pos[0]);
  const char *dir = mx__args_get(&a, "store", mx__store_from_env());
  if (!dir) return mx__cli_usage("forget", "missing --store DIR (or set MERX_STORE)");
  if (!mx__args_has(&a, "user") && !mx__args_has(&a, "user-file"))
    return mx__cli_usage("forget", "give --user ID or --user-file FILE");
  if (access(dir, F_OK) != 0) {
    fprintf(stderr, "merx forget: %s: no such store\n", dir);
    return MX_EXIT_FAIL;
  }
  forget_ctx c = {0};
  c.dir = dir;
  c.retrain = mx__args_has(&a, "retrain");
  if ((rc = mx__cli_threads(&a, &c.threads))) return rc;
  mx_error err;
  mx_error_clear(&err);
  char **raw = NULL, **ids = NULL, **pnames = NULL;
  int n_raw = 0, n = 0, exit_code = MX_EXIT_FAIL;
  const char *given[256];
  int ng = mx__args_all(&a, "user", given, 256);
  for (int i = 0; i < ng && i < 256; i++) {
    char **d = realloc(raw, (size_t)(n_raw + 1) * sizeof *d);
    if (!d) goto oom;
    raw = d;
    if (!(raw[n_raw] = mx__strdup(given[i]))) goto oom;
    n_raw++;
  }
  if (mx__args_has(&a, "user-file")) {
    size_t got = (size_t)n_raw;
    rc = mx_id_lines_read(mx__args_get(&a, "user-file", NULL), MX_ID_LINES_CSV, NULL, &raw, &got,
                          &err);
    n_raw = (int)got;
    if (rc != MX_OK) {
      mx__cli_fail("forget", &err);
      goto out;
    }
  }
  mx_pseudonymiser *pseudo = NULL;
  if (mx__cli_pseudonymiser("forget", dir, &pseudo)) goto out;
  ids = calloc((size_t)(2 * n_raw + 1), sizeof *ids);
  pnames = calloc((size_t)n_raw + 1, sizeof *pnames);
  if (!ids || !pnames) {
    mx__pseudonymiser_free(pseudo);
    goto oom;
  }
  for (int i = 0; i < n_raw; i++) {
    if (!*raw[i]) continue;
    ids[n++] = raw[i];
    const char *p = pseudo ? mx__pseudonymise(pseudo, raw[i], strlen(raw[i])) : NULL;
    if (p && !(pnames[i] = mx__strdup(p))) {
      mx__pseudonymiser_free(pseudo);
      goto oom;
    }
    if (p) ids[n++] = pnames[i];
  }
  mx__pseudonymiser_free(pseudo);
  c.ids = (const char *const *)ids;
  c.n = n;
  if (due_load(&c) != 0) goto oom;
  mx_forget_counts k = {0};
  char *ledger = mx__store_ledger_path(dir);
  if (!ledger) goto oom;
  rc = mx__store_forget_ledger(ledger, c.ids, n, &k, &err);
  free(ledger);
  if (rc == MX_OK) kill_point("ledger");
  if (rc == MX_OK) rc = mx__store_forget_files(dir, c.ids, n, on_model, &c, &k, &err);
  char when[32], receipt[4400];
  mx_format_time((int64_t)time(NULL), 0, when, sizeof when);
  if (rc == MX_OK) rc = write_receipt(&c, n_raw, &k, when, receipt, sizeof receipt, &err);
  if (rc != MX_OK) {
    mx__cli_fail("forget", &err);
    goto out;
  }
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "users"); mx__json_int(&j, n_raw);
    write_counts(&j, &c, &k);
    mx__json_key(&j, "retrained"); mx__json_int(&j, c.retrained);
    mx__json_key(&j, "receipt"); mx__json_string(&j, receipt);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("erased %d user(s): %ld decisions, %ld exposures, %ld assignments, %ld queries, "
           "%ld mentions, %ld run tails, %ld files rewritten, %ld cache entries, %ld model rows (%ld "
           "interactions) in %ld models\n",
           n_raw, k.decisions, k.exposures, k.assignments, k.queries, k.mentions, k.runs, k.files_rewritten,
           k.files_deleted, c.factor_rows, c.interactions, c.models_rewritten);
    for (int i = 0; i < c.n_due; i++)
      printf("retrain due: %s (its items were learnt with the erased data; --retrain)\n",
             c.due[i]);
    printf("receipt: %s\n", receipt);
  }
  exit_code = MX_EXIT_OK;
  goto out;
oom:
  fprintf(stderr, "merx forget: out of memory\n");
out:
  for (int i = 0; i < n_raw; i++) {
    free(raw[i]);
    if (pnames) free(pnames[i]);
  }
  free(pnames);
  free(raw);
  free(ids);
  for (int i = 0; i < c.n_due; i++) free(c.due[i]);
  free(c.due);
  return exit_code;
}
