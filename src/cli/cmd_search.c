/* merx search: semantic product search over embeddings made by merx embed,
 * optionally blended with a user's collaborative scores. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ann_cli.h"
#include "cli/cli.h"
#include "cli/llm_opts.h"
#include "merx/model.h"
#include "util/util.h"

static const char *usage =
    "usage: merx search --index EMB.npy QUERY [QUERY ...] [--k 10]\n"
    "                   [--model MODEL.mxm --user ID [--alpha 0.3]] [--out FILE.csv] [--json]\n"
    "                   [--ann FILE | --exact] [--ef 100]\n"
    "                   [--config FILE] [--key-env VAR] [--timeout S] [--cache DIR | --no-cache]\n\n"
    "Embed each query exactly as EMB.npy was embedded (EMB.meta.json says how: the\n"
    "built-in embedder, or the server and model) and print the K items of highest\n"
    "cosine similarity: CSV columns query,rank,item,score,text (text from EMB.texts,\n"
    "empty when that file is absent).\n\n"
    "With --model and --user, the score is (1 - alpha) * cosine + alpha * c, where c is\n"
    "the user's collaborative score of the item min-max scaled to 0..1 over the\n"
    "indexed items the model knows (0 for items it does not know). Items the user\n"
    "bought in training are kept (a search is an explicit request).\n\n"
    "Without --model, a nearest-neighbour index of the embeddings (merx index build\n"
    "--embeddings EMB.npy) answers instead of the exact scan: --ann FILE, or EMB.hnsw\n"
    "when it exists and is current for EMB.npy (a warning says when it is not).\n"
    "--exact scans every item; --ef N is the index's beam width (default 100,\n"
    "larger: closer to exact, slower). The blend with --user always scans.\n";

typedef struct meta {
  char embedder[160];
  char base_url[512];
  char model[128];
  char key_env[128];
  uint32_t dimensions;
} meta;

static int read_meta(const char *path, meta *m, mx_error *err) {
  memset(m, 0, sizeof *m);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root)
    return mx_error_at(err, MX_EIO, path, je.line > 0 ? je.line : 0, 0, NULL,
                       "cannot read the index metadata: %s", je.text);
  const char *e = json_string_value(json_object_get(root, "embedder"));
  int rc = MX_OK;
  if (!e || strlen(e) >= sizeof m->embedder) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, "embedder", "missing or invalid");
  } else {
    snprintf(m->embedder, sizeof m->embedder, "%s", e);
    const char *s;
    if ((s = json_string_value(json_object_get(root, "base_url"))))
      snprintf(m->base_url, sizeof m->base_url, "%s", s);
    if ((s = json_string_value(json_object_get(root, "model"))))
      snprintf(m->model, sizeof m->model, "%s", s);
    if ((s = json_string_value(json_object_get(root, "key_env"))))
      snprintf(m->key_env, sizeof m->key_env, "%s", s);
    m->dimensions = (uint32_t)json_integer_value(json_object_get(root, "dimensions"));
  }
  json_decref(root);
  return rc;
}

static int read_ids(const char *path, mx_idmap **out, mx_error *err) {
  char *buf;
  size_t len;
  int rc = mx_read_file(path, &buf, &len, err);
  if (rc) return rc;
  mx_idmap *m = mx_idmap_create();
  if (!m) {
    free(buf);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char *p = buf;
  long line = 0;
  while (p < buf + len) {
    char *nl = memchr(p, '\n', (size_t)(buf + len - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
    line++;
    uint32_t before = mx_idmap_size(m);
    if (mx_idmap_intern(m, p, n) != (int64_t)before) {
      mx_idmap_free(m);
      free(buf);
      return mx_error_at(err, MX_EFORMAT, path, line, 0, NULL, "repeated or empty id");
    }
    p += n + 1;
  }
  free(buf);
  *out = m;
  return MX_OK;
}

/* EMB.texts: one text per line, row order; absent -> NULL (no texts). */
static char **read_texts(const char *path, uint64_t n, char **buf_out) {
  char *buf;
  size_t len;
  mx_error e;
  *buf_out = NULL;
  if (mx_read_file(path, &buf, &len, &e) != MX_OK) return NULL;
  char **t = calloc(n ? n : 1, sizeof *t);
  if (!t) {
    free(buf);
    return NULL;
  }
  char *p = buf;
  for (uint64_t i = 0; i < n && p < buf + len; i++) {
    char *nl = memchr(p, '\n', (size_t)(buf + len - p));
    if (nl) *nl = 0;
    t[i] = p;
    p = nl ? nl + 1 : buf + len;
  }
  *buf_out = buf;
  return t;
}

int mx_cmd_search(int argc, char **argv) {
  mx_args a;
  int rc = mx_args_parse(&a, "search",
                         "index= k= model= user= alpha= out= json threads=" MX_CLI_LLM_SPEC MX_CLI_ANN_SPEC, argc,
                         argv, 2);
  if (rc) return rc;
  if (mx_cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx_args_require(&a, "index"))) return rc;
  if (a.npos < 1) return mx_cli_usage("search", "give at least one QUERY");
  long k;
  double alpha;
  int threads;
  if ((rc = mx_args_int(&a, "k", 10, 1, 100000, &k))) return rc;
  if ((rc = mx_args_double(&a, "alpha", 0.3, 0, 1, &alpha))) return rc;
  if ((rc = mx_cli_threads(&a, &threads))) return rc;
  if (mx_args_has(&a, "model") != mx_args_has(&a, "user"))
    return mx_cli_usage("search", "--model and --user go together");
  long ef;
  if ((rc = mx_args_int(&a, "ef", MX_CLI_ANN_DEFAULT_EF, 1, 100000, &ef))) return rc;
  if (mx_args_has(&a, "ann") && mx_args_has(&a, "exact"))
    return mx_cli_usage("search", "--ann and --exact exclude each other");
  if (mx_args_has(&a, "ann") && mx_args_has(&a, "user"))
    return mx_cli_usage("search", "--ann cannot rank the blend with --user (it scans every item)");
  const char *index = mx_args_get(&a, "index", NULL);

  mx_http_config cfg;
  if ((rc = mx_cli_llm_config(&a, NULL, &cfg))) return rc;
  mx_error err;
  mx_error_clear(&err);
  char ids_path[1200], meta_path[1200], texts_path[1200];
  char **texts = NULL, *texts_buf = NULL;
  mx_cli_embed_sidecar(index, ".ids", ids_path, sizeof ids_path);
  mx_cli_embed_sidecar(index, ".meta.json", meta_path, sizeof meta_path);
  mx_cli_embed_sidecar(index, ".texts", texts_path, sizeof texts_path);
  float *rows = NULL, *q = NULL;
  uint64_t n = 0, dim = 0;
  mx_idmap *ids = NULL;
  mx_model *model = NULL;
  uint32_t *order = NULL;
  mx_ann *ix = NULL;
  const char *index_used = NULL;
  char beside[1200];
  meta m;
  if (read_meta(meta_path, &m, &err) || read_ids(ids_path, &ids, &err) ||
      mx_npy_read(index, &rows, &n, &dim, &err) ||
      mx_cli_embed_check(index, rows, n, dim, &err))
    goto fail;
  if (n != mx_idmap_size(ids)) {
    mx_error_at(&err, MX_EFORMAT, ids_path, 0, 0, NULL, "%u ids for %llu rows of %s",
                mx_idmap_size(ids), (unsigned long long)n, index);
    goto fail;
  }
  texts = read_texts(texts_path, n, &texts_buf);
  if (!mx_args_has(&a, "user")) {
    mx_cli_ann_beside(index, 1, 0, beside, sizeof beside);
    if (n > UINT32_MAX ||
        mx_cli_ann_open(&a, "search", beside, rows, (uint32_t)n, (uint32_t)dim, index, &ix,
                        &index_used, &err))
      goto fail;
    if (ix && mx_ann_get_metric(ix) != MX_ANN_COSINE) {
      if (mx_args_has(&a, "ann")) {
        mx_error_at(&err, MX_EINVAL, index_used, 0, 0, NULL,
                    "search ranks by cosine; the index was built for --metric %s",
                    mx_ann_metric_name(mx_ann_get_metric(ix)));
        goto fail;
      }
      fprintf(stderr, "merx search: warning: not using %s: it was built for --metric %s; exact "
              "scan\n", index_used, mx_ann_metric_name(mx_ann_get_metric(ix)));
      mx_ann_free(ix);
      ix = NULL;
      index_used = NULL;
    }
  }
  int remote = strcmp(m.embedder, "openai") == 0;
  mx_builtin_embed_options bo = mx_builtin_embed_defaults();
  if (remote) {
    /* The server and model of the index; connection details may be overridden. */
    if (!mx_args_has(&a, "server")) snprintf(cfg.base_url, sizeof cfg.base_url, "%s", m.base_url);
    snprintf(cfg.model, sizeof cfg.model, "%s", m.model);
    cfg.dimensions = m.dimensions;
    if (!mx_args_has(&a, "key-env") && m.key_env[0] && !cfg.key_env[0])
      snprintf(cfg.key_env, sizeof cfg.key_env, "%s", m.key_env);
  } else if (mx_builtin_embed_parse(m.embedder, &bo, &err) != MX_OK) {
    goto fail;
  }
  uint32_t qd;
  size_t sent;
  size_t nq = (size_t)a.npos;
  if (mx_cli_embed_texts(remote, &bo, &cfg, a.pos, nq, threads, &q, &qd, &sent, &err)) goto fail;
  if (qd != dim) {
    mx_error_at(&err, MX_EFORMAT, index, 0, 0, NULL,
                "query vectors have dimension %u but the index has %llu", qd,
                (unsigned long long)dim);
    goto fail;
  }
  /* Collaborative part: scores of the indexed items for the user. */
  float *cf = NULL;
  if (mx_args_has(&a, "model")) {
    const char *mp = mx_args_get(&a, "model", NULL), *user = mx_args_get(&a, "user", NULL);
    if (mx_model_load(mp, &model, &err)) goto fail;
    int64_t u = mx_idmap_find(model->users, user, strlen(user));
    if (u < 0) {
      mx_error_at(&err, MX_ENOTFOUND, mp, 0, 0, "user", "unknown user '%s'", user);
      goto fail;
    }
    cf = malloc(n * sizeof *cf);
    if (!cf) {
      mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    float lo = INFINITY, hi = -INFINITY;
    for (uint64_t i = 0; i < n; i++) {
      const char *id = mx_idmap_name(ids, (uint32_t)i);
      int64_t it = mx_idmap_find(model->items, id, strlen(id));
      cf[i] = it < 0 ? NAN : mx_model_predict(model, (uint32_t)u, (uint32_t)it);
      if (it >= 0) {
        if (cf[i] < lo) lo = cf[i];
        if (cf[i] > hi) hi = cf[i];
      }
    }
    for (uint64_t i = 0; i < n; i++)
      cf[i] = isnan(cf[i]) ? 0.0f : hi > lo ? (cf[i] - lo) / (hi - lo) : 0.0f;
  }
  order = malloc((size_t)k * sizeof *order);
  float *best = malloc((size_t)k * sizeof *best);
  if (!order || !best) {
    free(cf);
    free(best);
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  mx_atomic_file af = {0};
  FILE *o = stdout;
  const char *outp = mx_args_get(&a, "out", NULL);
  int json = mx_args_has(&a, "json");
  if (outp) {
    if (mx_atomic_open(&af, outp, &err)) {
      free(cf);
      free(best);
      goto fail;
    }
    o = af.f;
  }
  mx_json j;
  if (json && !outp) {
    mx_json_init(&j, stdout);
    mx_json_object_begin(&j);
    mx_json_key(&j, "results");
    mx_json_array_begin(&j);
  } else {
    fputs("query,rank,item,score,text\n", o);
  }
  for (size_t qi = 0; qi < nq; qi++) {
    const float *qv = q + qi * dim;
    size_t got;
    if (ix) {
      uint32_t cnt;
      if (mx_ann_search(ix, qv, (uint32_t)k, (uint32_t)ef, NULL, UINT32_MAX, order, best, &cnt,
                        &err)) {
        free(cf);
        free(best);
        if (outp) mx_atomic_abort(&af);
        goto fail;
      }
      got = cnt;
    } else if (!cf) {
      got = mx_cosine_topk(rows, n, (uint32_t)dim, qv, (size_t)k, order, best);
    } else {
      /* Blend, then keep the best k (insertion into a short sorted list). */
      double qn = 0;
      for (uint64_t t = 0; t < dim; t++) qn += (double)qv[t] * qv[t];
      qn = sqrt(qn);
      got = 0;
      for (uint64_t i = 0; i < n; i++) {
        double dot = 0, rn = 0;
        for (uint64_t t = 0; t < dim; t++) {
          dot += (double)rows[i * dim + t] * qv[t];
          rn += (double)rows[i * dim + t] * rows[i * dim + t];
        }
        float cs = rn > 0 && qn > 0 ? (float)(dot / (sqrt(rn) * qn)) : 0.0f;
        float s = (float)((1 - alpha) * cs + alpha * cf[i]);
        if (got == (size_t)k && !(s > best[k - 1])) continue;
        size_t p = got < (size_t)k ? got++ : (size_t)k - 1;
        while (p > 0 && s > best[p - 1]) {
          best[p] = best[p - 1];
          order[p] = order[p - 1];
          p--;
        }
        best[p] = s;
        order[p] = (uint32_t)i;
      }
    }
    for (size_t r = 0; r < got; r++) {
      const char *id = mx_idmap_name(ids, order[r]);
      if (json && !outp) {
        mx_json_object_begin(&j);
        mx_json_key(&j, "query"); mx_json_string(&j, a.pos[qi]);
        mx_json_key(&j, "rank"); mx_json_int(&j, (int64_t)r + 1);
        mx_json_key(&j, "item"); mx_json_string(&j, id);
        mx_json_key(&j, "score"); mx_json_double(&j, best[r]);
        mx_json_key(&j, "text"); mx_json_string(&j, texts && texts[order[r]] ? texts[order[r]] : "");
        mx_json_object_end(&j);
      } else {
        mx_csv_write_field(o, a.pos[qi], ',');
        fprintf(o, ",%zu,", r + 1);
        mx_csv_write_field(o, id, ',');
        fprintf(o, ",%.6f,", (double)best[r]);
        mx_csv_write_field(o, texts && texts[order[r]] ? texts[order[r]] : "", ',');
        fputc('\n', o);
      }
    }
  }
  if (json && !outp) {
    mx_json_array_end(&j);
    mx_json_key(&j, "items"); mx_json_int(&j, (int64_t)n);
    mx_json_key(&j, "sent"); mx_json_int(&j, (int64_t)sent);
    mx_json_key(&j, "search"); mx_json_string(&j, ix ? "hnsw" : "exact");
    mx_json_key(&j, "index");
    if (index_used) mx_json_string(&j, index_used);
    else mx_json_null(&j);
    mx_json_object_end(&j);
    fputc('\n', stdout);
  }
  free(cf);
  free(best);
  if (outp && mx_atomic_commit(&af, &err)) goto fail;
  mx_free_aligned(rows);
  free(texts);
  free(texts_buf);
  free(q);
  free(order);
  mx_idmap_free(ids);
  mx_model_free(model);
  mx_ann_free(ix);
  return MX_EXIT_OK;
fail:
  mx_free_aligned(rows);
  free(texts);
  free(texts_buf);
  free(q);
  free(order);
  mx_idmap_free(ids);
  mx_model_free(model);
  mx_ann_free(ix);
  return mx_cli_fail("search", &err);
}
