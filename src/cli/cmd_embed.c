/* merx embed: content vectors for product texts (built-in embedder or an
 * OpenAI-compatible server), written as .npy + id list + metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/llm_opts.h"
#include "util/util.h"

static const char *usage =
    "usage: merx embed --data FILE --columns id=NAME,text=NAME --out EMB.npy\n"
    "                  [--dim 256] [--server URL --model NAME [--key-env VAR]] [--config FILE]\n"
    "                  [--dimensions D] [--batch N] [--timeout S] [--retries N] [--concurrency N]\n"
    "                  [--cache DIR | --no-cache] [--builtin] [--threads T] [--json]\n\n"
    "Embed the text of each distinct id (first non-empty text wins; rows with an empty\n"
    "id are skipped). Writes EMB.npy (float32, one row per id, in order of first\n"
    "appearance), EMB.ids (one id per line), EMB.texts (the texts, one per line) and\n"
    "EMB.meta.json (how the vectors were made, so `merx search` embeds queries the\n"
    "same way).\n\n"
    "Embedder: the built-in one (hashed word and character n-grams, offline and\n"
    "deterministic; --dim sets its dimension) unless a server is configured by\n"
    "--server, --config FILE ($MERX_LLM_CONFIG) or $MERX_LLM_URL. A server gets\n"
    "POST URL/embeddings in batches (--batch, default 64), --concurrency requests at\n"
    "once, with retries on 429/5xx. The API key is read from the environment variable\n"
    "named by --key-env (never from the command line). Answers are cached by\n"
    "(model, dimensions, text) in --cache DIR (default ~/.cache/merx/embeddings), so a\n"
    "rerun sends only new texts. --builtin ignores any configured server.\n"
    "\nExample:\n"
    "  merx embed --data examples/data/products.csv\n"
    "      --columns id=StockCode,text=Description --out items.npy\n";

static const char *const roles[] = {"id", "text", NULL};

int mx__cmd_embed(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "embed",
                         "data= out= dim= model= builtin threads= json" MX_CLI_INPUT_SPEC
                             MX_CLI_LLM_SPEC,
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "out")) ||
      (rc = mx__args_require(&a, "columns")))
    return rc;
  long dim;
  int threads;
  if ((rc = mx__args_int(&a, "dim", 256, 2, 65536, &dim))) return rc;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  if (mx_columns_index(&opt.columns, "id") < 0 && !strstr(mx__args_get(&a, "columns", ""), "id="))
    return mx__cli_usage("embed", "--columns must name id=COLUMN and text=COLUMN");
  if (!strstr(mx__args_get(&a, "columns", ""), "text="))
    return mx__cli_usage("embed", "--columns must name id=COLUMN and text=COLUMN");
  mx_http_config cfg;
  if ((rc = mx__cli_llm_config(&a, "model", &cfg))) return rc;
  int remote = cfg.base_url[0] && !mx__args_has(&a, "builtin");
  if (remote && !cfg.model[0])
    return mx__cli_usage("embed", "a server needs --model NAME (or \"model\" in the config)");
  mx_builtin_embed_options bo = mx_builtin_embed_defaults();
  bo.dim = (uint32_t)dim;

  const char *path = mx__args_get(&a, "data", NULL), *out = mx__args_get(&a, "out", NULL);
  if (strcmp(out, "-") == 0)
    return mx__cli_usage("embed", "--out -: embed writes EMB.npy with EMB.ids, EMB.texts and "
                                 "EMB.meta.json beside it; give --out a file name");
  mx_error err;
  mx_error_clear(&err);
  mx_csv *csv = NULL;
  mx_idmap *ids = mx_idmap_create();
  char **texts = NULL;
  size_t cap = 0;
  float *vec = NULL;
  char *ids_buf = NULL, *texts_buf = NULL;
  size_t ids_len = 0, texts_len = 0;
  mx_atomic_file af[4];
  memset(af, 0, sizeof af);
  uint64_t rows = 0, skipped = 0;
  double t0 = mx__now_seconds();
  if (!ids) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  if (mx_csv_open(path, &opt.csv, &csv, &err) != MX_OK) goto fail;
  if (mx_columns_resolve(&opt.columns, csv, &err) != MX_OK) goto fail;
  int ci = mx_columns_index(&opt.columns, "id"), ct = mx_columns_index(&opt.columns, "text");
  if (ci < 0 || ct < 0) {
    mx_error_at(&err, MX_EINVAL, path, 0, 0, ci < 0 ? "id" : "text",
                "--columns must name both id=COLUMN and text=COLUMN");
    goto fail;
  }
  char **f;
  size_t *lens, nf;
  int r;
  while ((r = mx_csv_next(csv, &f, &lens, &nf, &err)) == 1) {
    rows++;
    if ((size_t)ci >= nf || (size_t)ct >= nf) {
      mx_error_at(&err, MX_EPARSE, path, mx_csv_line(csv), (long)nf + 1,
                  (size_t)ci >= nf ? "id" : "text", "missing field (row has %zu fields)", nf);
      goto fail;
    }
    if (lens[ci] == 0) {
      skipped++;
      continue;
    }
    uint32_t before = mx_idmap_size(ids);
    int64_t ix = mx_idmap_intern(ids, f[ci], lens[ci]);
    if (ix < 0) {
      mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if ((uint32_t)ix == before) {
      if ((size_t)ix >= cap) {
        size_t nc = cap ? cap * 2 : 1024;
        char **t = realloc(texts, nc * sizeof *t);
        if (!t) {
          mx_error_set(&err, MX_ENOMEM, "out of memory");
          goto fail;
        }
        texts = t;
        cap = nc;
      }
      texts[ix] = NULL;
    }
    if (!texts[ix] && lens[ct] > 0) {
      texts[ix] = mx__strndup(f[ct], lens[ct]);
      if (!texts[ix]) {
        mx_error_set(&err, MX_ENOMEM, "out of memory");
        goto fail;
      }
    }
  }
  if (r < 0) goto fail;
  mx_csv_close(csv);
  csv = NULL;
  size_t n = mx_idmap_size(ids);
  if (n == 0) {
    mx_error_at(&err, MX_EEMPTY, path, 0, 0, NULL, "no rows with an id");
    goto fail;
  }
  size_t empty = 0;
  for (size_t i = 0; i < n; i++)
    if (!texts[i]) {
      texts[i] = mx__strdup("");
      empty++;
      if (!texts[i]) {
        mx_error_set(&err, MX_ENOMEM, "out of memory");
        goto fail;
      }
    }
  uint32_t d = 0;
  size_t sent = 0;
  if (mx__cli_embed_texts(remote, &bo, &cfg, (const char *const *)texts, n, threads, &vec, &d,
                         &sent, &err) != MX_OK)
    goto fail;

  /* The four files are one unit (core/embed/index.c): all written out before any
   * is renamed into place (mx__atomic_publish), the metadata with the
   * fingerprints renamed last. */
  char ids_path[1200], meta_path[1200], texts_path[1200], name[128];
  mx_embed_sidecar(out, ".ids", ids_path, sizeof ids_path);
  mx_embed_sidecar(out, ".texts", texts_path, sizeof texts_path);
  mx_embed_sidecar(out, ".meta.json", meta_path, sizeof meta_path);
  /* ids and texts (line breaks folded to spaces) as the bytes the files get */
  FILE *ms = open_memstream(&ids_buf, &ids_len);
  for (size_t i = 0; ms && i < n; i++) fprintf(ms, "%s\n", mx_idmap_name(ids, (uint32_t)i));
  if (!ms || fclose(ms) != 0 || !(ms = open_memstream(&texts_buf, &texts_len))) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    for (const char *c = texts[i]; *c; c++) fputc(*c == '\n' || *c == '\r' ? ' ' : *c, ms);
    fputc('\n', ms);
  }
  if (fclose(ms) != 0) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  uint64_t fp = mx_embed_fingerprint(vec, n, d, ids_buf, ids_len);
  uint64_t fp_texts = mx_embed_texts_fingerprint(fp, texts_buf, texts_len);
  char hex[17], hex_texts[17];
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fp);
  snprintf(hex_texts, sizeof hex_texts, "%016llx", (unsigned long long)fp_texts);
  enum { F_NPY, F_IDS, F_TEXTS, F_META, F_N };
  const char *paths[F_N] = {out, ids_path, texts_path, meta_path};
  for (int i = 0; i < F_N; i++)
    if (mx__atomic_open(&af[i], paths[i], &err) != MX_OK) goto fail;
  (void)mx_npy_write_stream(af[F_NPY].f, vec, n, d); /* a failed write: the commit names it */
  fwrite(ids_buf, 1, ids_len, af[F_IDS].f);
  fwrite(texts_buf, 1, texts_len, af[F_TEXTS].f);
  mx_json j;
  mx__json_init(&j, af[F_META].f);
  mx__json_object_begin(&j);
  mx__json_key(&j, "format"); mx__json_string(&j, "merx-embeddings");
  mx__json_key(&j, "version"); mx__json_int(&j, 1);
  if (remote) {
    mx__json_key(&j, "embedder"); mx__json_string(&j, "openai");
    mx__json_key(&j, "base_url"); mx__json_string(&j, cfg.base_url);
    mx__json_key(&j, "model"); mx__json_string(&j, cfg.model);
    mx__json_key(&j, "dimensions"); mx__json_int(&j, cfg.dimensions);
    mx__json_key(&j, "key_env"); mx__json_string(&j, cfg.key_env);
  } else {
    mx_builtin_embed_name(&bo, name, sizeof name);
    mx__json_key(&j, "embedder"); mx__json_string(&j, name);
  }
  mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)n);
  mx__json_key(&j, "dim"); mx__json_int(&j, d);
  mx__json_key(&j, "source"); mx__json_string(&j, path);
  mx__json_key(&j, "fingerprint"); mx__json_string(&j, hex);
  mx__json_key(&j, "texts_fingerprint"); mx__json_string(&j, hex_texts);
  mx__json_object_end(&j);
  fputc('\n', af[F_META].f);
  mx_atomic_file *const unit[F_N] = {&af[F_NPY], &af[F_IDS], &af[F_TEXTS], &af[F_META]};
  if (mx__atomic_publish(unit, F_N, &err) != MX_OK) goto fail;
  mx__atomic_settle(unit, F_N);
  free(ids_buf);
  free(texts_buf);
  ids_buf = texts_buf = NULL;
  double secs = mx__now_seconds() - t0;

  if (mx__args_has(&a, "json")) {
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "rows"); mx__json_int(&j, (int64_t)rows);
    mx__json_key(&j, "rows_skipped"); mx__json_int(&j, (int64_t)skipped);
    mx__json_key(&j, "items"); mx__json_int(&j, (int64_t)n);
    mx__json_key(&j, "empty_texts"); mx__json_int(&j, (int64_t)empty);
    mx__json_key(&j, "dim"); mx__json_int(&j, d);
    mx__json_key(&j, "embedder"); mx__json_string(&j, remote ? "openai" : "builtin");
    mx__json_key(&j, "sent"); mx__json_int(&j, (int64_t)sent);
    mx__json_key(&j, "reused"); mx__json_int(&j, remote ? (int64_t)(n - sent) : 0);
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "embedded %zu items (dim %u, %s%s) in %.2f s -> %s (+ .ids, .texts, .meta.json)\n",
            n, d, remote ? "server " : "built-in embedder", remote ? cfg.model : "", secs, out);
    if (remote) fprintf(stderr, "sent %zu texts; %zu reused (cache or repeated text)\n", sent, n - sent);
  }
  for (size_t i = 0; i < n; i++) free(texts[i]);
  free(texts);
  free(vec);
  mx_idmap_free(ids);
  return MX_EXIT_OK;

fail:
  for (size_t i = 0; i < sizeof af / sizeof af[0]; i++) mx__atomic_abort(&af[i]);
  free(ids_buf);
  free(texts_buf);
  if (csv) mx_csv_close(csv);
  if (texts)
    for (size_t i = 0; i < mx_idmap_size(ids); i++) free(texts[i]);
  free(texts);
  free(vec);
  mx_idmap_free(ids);
  return mx__cli_fail("embed", &err);
}
