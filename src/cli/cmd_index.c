/* merx index: build and inspect nearest-neighbour (HNSW) indexes over a
 * model's item or user factors or over text embeddings (merx/ann.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/ann_cli.h"
#include "cli/cli.h"
#include "cli/llm_opts.h"
#include "merx/ann.h"
#include "merx/model.h"
#include "util/util.h"

static const char *usage_top =
    "usage: merx index build (--model M.mxm [--side items|users] | --embeddings EMB.npy)\n"
    "                        [--metric cosine|dot] [--M 16] [--ef-construction 200]\n"
    "                        [--seed 1] [--threads T] [--out FILE] [--json]\n"
    "       merx index info FILE [--model M.mxm [--side items|users] | --embeddings EMB.npy]\n"
    "                        [--json]\n"
    "\nExamples:\n"
    "  merx index build --model shop.mxm\n"
    "  merx index info shop.mxm.hnsw --model shop.mxm\n";

static const char *usage_build =
    "usage: merx index build (--model M.mxm [--side items|users] | --embeddings EMB.npy)\n"
    "                        [--metric cosine|dot] [--M 16] [--ef-construction 200]\n"
    "                        [--seed 1] [--threads T] [--out FILE] [--json]\n\n"
    "Build an HNSW nearest-neighbour index over a model's item (or user) factors or\n"
    "over embeddings made by merx embed, for merx similar and merx search on large\n"
    "catalogues. The index refers to the vectors by a fingerprint: a retrained model\n"
    "or new embeddings make it stale, and a stale index is never used.\n\n"
    "  --out FILE            default: beside the vectors, M.mxm.hnsw (items),\n"
    "                        M.mxm.users.hnsw (users), EMB.hnsw (embeddings), where\n"
    "                        merx similar / merx search find it without --ann\n"
    "  --metric cosine|dot   cosine (default) or inner product (as merx similar\n"
    "                        --metric dot); a query must use the index's metric\n"
    "  --M N                 links per node (2M on the bottom level); more: better\n"
    "                        recall, bigger index, slower build (default 16)\n"
    "  --ef-construction N   beam width while building (default 200)\n"
    "  --seed S              node levels and insertion order (default 1); the same\n"
    "                        seed gives the same file for any --threads\n"
    "  --json                summary on stdout: index, source, metric, vectors, dim, M,\n"
    "                        ef_construction, levels, links, bytes, threads, seconds\n"
    "\nExamples:\n"
    "  merx index build --model shop.mxm --threads 4\n"
    "  merx index build --embeddings items.npy\n";

static const char *usage_info =
    "usage: merx index info FILE [--model M.mxm [--side items|users] | --embeddings EMB.npy]\n"
    "                       [--json]\n\n"
    "Print an index's metric, size, parameters and the vectors it was built from.\n"
    "With --model or --embeddings, also whether it is current for those vectors\n"
    "(exit 1 with the reason when it is stale).\n"
    "\nExample:\n"
    "  merx index info shop.mxm.hnsw --model shop.mxm\n";

/* The vectors named by --model/--side or --embeddings. Exactly one of *model
 * and *emb is set on success; *vec points into it; name describes them. */
typedef struct vectors {
  mx_model *model;
  float *emb;
  const float *vec;
  uint32_t n, dim;
  int users, embeddings;
  const char *file;
  char name[1100];
} vectors;

static void vectors_free(vectors *v) {
  mx_model_free(v->model);
  mx_free_aligned(v->emb);
}

static int vectors_open(const mx_args *a, const char *cmd, vectors *v, mx_error *err) {
  memset(v, 0, sizeof *v);
  const char *side = mx__args_get(a, "side", "items");
  if (strcmp(side, "items") != 0 && strcmp(side, "users") != 0)
    return mx__cli_usage(cmd, "--side: expected items or users, got '%s'", side);
  if (mx__args_has(a, "side") && !mx__args_has(a, "model"))
    return mx__cli_usage(cmd, "--side goes with --model");
  v->users = strcmp(side, "users") == 0;
  if (mx__args_has(a, "model")) {
    v->file = mx__args_get(a, "model", NULL);
    int rc = mx_model_load(v->file, &v->model, err);
    if (rc) return rc;
    v->vec = v->users ? v->model->user_factors : v->model->item_factors;
    v->n = v->users ? v->model->n_users : v->model->n_items;
    v->dim = v->model->factors;
    if (!v->vec || v->dim == 0)
      return mx_error_at(err, MX_EINVAL, v->file, 0, 0, NULL,
                         "a %s model has no %s vectors to index", mx_model_kind_name(v->model->kind),
                         v->users ? "user" : "item");
    snprintf(v->name, sizeof v->name, "%s (%s)", v->file, side);
    return MX_OK;
  }
  v->embeddings = 1;
  v->file = mx__args_get(a, "embeddings", NULL);
  uint64_t rows, cols;
  int rc = mx_npy_read(v->file, &v->emb, &rows, &cols, err);
  if (rc) return rc;
  char meta[1200];
  struct stat st;
  mx_embed_sidecar(v->file, ".meta.json", meta, sizeof meta);
  if (stat(meta, &st) == 0 && (rc = mx_embed_check(v->file, v->emb, rows, cols, err)))
    return rc;
  if (rows == 0 || rows > UINT32_MAX || cols > UINT32_MAX)
    return mx_error_at(err, MX_EINVAL, v->file, 0, 0, NULL, "cannot index %llu rows",
                       (unsigned long long)rows);
  v->vec = v->emb;
  v->n = (uint32_t)rows;
  v->dim = (uint32_t)cols;
  snprintf(v->name, sizeof v->name, "%s", v->file);
  return MX_OK;
}

static int vectors_args(const mx_args *a, const char *cmd, int required) {
  int given = mx__args_has(a, "model") + mx__args_has(a, "embeddings");
  if (given > 1 || (required && given == 0))
    return mx__cli_usage(cmd, "give exactly one of --model and --embeddings");
  return 0;
}

static void info_json(mx_json *j, const mx_ann_info *in) {
  mx__json_key(j, "source"); mx__json_string(j, in->source);
  mx__json_key(j, "metric"); mx__json_string(j, mx_ann_metric_name(in->metric));
  mx__json_key(j, "vectors"); mx__json_int(j, in->n);
  mx__json_key(j, "dim"); mx__json_int(j, in->dim);
  mx__json_key(j, "M"); mx__json_int(j, in->M);
  mx__json_key(j, "ef_construction"); mx__json_int(j, in->ef_construction);
  mx__json_key(j, "levels"); mx__json_int(j, in->max_level + 1);
  mx__json_key(j, "links"); mx__json_int(j, (int64_t)in->links);
  mx__json_key(j, "bytes"); mx__json_int(j, (int64_t)in->bytes);
}

static void progress_cb(void *ctx, uint64_t done) { mx__progress_update(ctx, done); }

static int index_build(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "index build",
                         "model= side= embeddings= metric= M= ef-construction= seed= threads= "
                         "out= json",
                         argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_build) == 0) return MX_EXIT_OK;
  if ((rc = vectors_args(&a, "index build", 1))) return rc;
  long M, efc, seed;
  int threads;
  if ((rc = mx__args_int(&a, "M", 16, 2, 128, &M)) ||
      (rc = mx__args_int(&a, "ef-construction", 200, 1, 100000, &efc)) ||
      (rc = mx__args_int(&a, "seed", 1, 0, 0x7fffffffL, &seed)) || (rc = mx__cli_threads(&a, &threads)))
    return rc;
  const char *metric = mx__args_get(&a, "metric", "cosine");
  if (strcmp(metric, "cosine") != 0 && strcmp(metric, "dot") != 0)
    return mx__cli_usage("index build", "--metric: expected cosine or dot, got '%s'", metric);
  int json = mx__args_has(&a, "json");
  mx_error err;
  mx_error_clear(&err);
  vectors v;
  mx_ann *ix = NULL;
  char out_buf[1200];
  double t0 = mx__now_seconds();
  if ((rc = vectors_open(&a, "index build", &v, &err))) {
    vectors_free(&v);
    return rc == MX_EXIT_USAGE ? rc : mx__cli_fail("index build", &err);
  }
  const char *out = mx__args_get(&a, "out", NULL);
  if (!out) {
    mx__cli_ann_beside(v.file, v.embeddings, v.users, out_buf, sizeof out_buf);
    out = out_buf;
  }
  mx_ann_options o = mx_ann_defaults();
  o.M = (uint32_t)M;
  o.ef_construction = (uint32_t)efc;
  o.metric = strcmp(metric, "dot") == 0 ? MX_ANN_DOT : MX_ANN_COSINE;
  o.seed = (uint64_t)seed;
  o.threads = threads;
  o.source = v.name;
  mx_progress bar;
  mx__progress_start(&bar, "indexing", v.n);
  o.progress = progress_cb;
  o.progress_ctx = &bar;
  rc = mx_ann_build(v.vec, v.n, v.dim, &o, &ix, &err);
  mx__progress_finish(&bar);
  if (rc == MX_OK) rc = mx_ann_save(ix, out, &err);
  if (rc != MX_OK) {
    mx_ann_free(ix);
    vectors_free(&v);
    return mx__cli_fail("index build", &err);
  }
  mx_ann_info in;
  mx_ann_get_info(ix, &in);
  double secs = mx__now_seconds() - t0;
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "index"); mx__json_string(&j, out);
    info_json(&j, &in);
    mx__json_key(&j, "threads"); mx__json_int(&j, mx__threads_resolve(threads));
    mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "indexed %u %s vectors of dimension %u (%s) into %s: %.1f MiB, %.1fs\n", in.n,
            v.embeddings ? "embedding" : v.users ? "user" : "item", in.dim, metric, out,
            in.bytes / 1048576.0, secs);
  }
  mx_ann_free(ix);
  vectors_free(&v);
  return MX_EXIT_OK;
}

static int index_info(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "index info", "model= side= embeddings= json", argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_info) == 0) return MX_EXIT_OK;
  if (a.npos != 1) return mx__cli_usage("index info", "give one index FILE");
  if ((rc = vectors_args(&a, "index info", 0))) return rc;
  const char *path = a.pos[0];
  int check = mx__args_has(&a, "model") || mx__args_has(&a, "embeddings");
  mx_error err;
  mx_error_clear(&err);
  vectors v;
  memset(&v, 0, sizeof v);
  mx_ann *ix = NULL;
  if (check && (rc = vectors_open(&a, "index info", &v, &err))) {
    vectors_free(&v);
    return rc == MX_EXIT_USAGE ? rc : mx__cli_fail("index info", &err);
  }
  rc = mx_ann_load(path, check ? v.vec : NULL, v.n, v.dim, v.name, &ix, &err);
  vectors_free(&v);
  if (rc) return mx__cli_fail("index info", &err);
  mx_ann_info in;
  mx_ann_get_info(ix, &in);
  mx_ann_free(ix);
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "index"); mx__json_string(&j, path);
    info_json(&j, &in);
    char fp[17];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)in.fingerprint);
    mx__json_key(&j, "fingerprint"); mx__json_string(&j, fp);
    if (check) {
      mx__json_key(&j, "current"); mx__json_bool(&j, 1);
    }
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("index            %s\nsource           %s\nmetric           %s\nvectors          %u\n"
           "dim              %u\nM                %u\nef_construction  %u\nlevels           %d\n"
           "links            %llu\nbytes            %llu\nfingerprint      %016llx\n",
           path, in.source, mx_ann_metric_name(in.metric), in.n, in.dim, in.M,
           in.ef_construction, in.max_level + 1, (unsigned long long)in.links,
           (unsigned long long)in.bytes, (unsigned long long)in.fingerprint);
    if (check) printf("current          yes\n");
  }
  return MX_EXIT_OK;
}

int mx__cmd_index(int argc, char **argv) {
  if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
    fputs(usage_top, argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (!strcmp(argv[2], "build")) return index_build(argc, argv);
  if (!strcmp(argv[2], "info")) return index_info(argc, argv);
  return mx__cli_unknown_subcommand("index", argv[2], "build info");
}
