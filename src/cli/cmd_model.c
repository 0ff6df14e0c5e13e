/* merx model: inspect, export and import model files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "merx/idlist.h"
#include "merx/model.h"
#include "util/util.h"

static const char *usage_top =
    "usage: merx model info --model M.mxm [--json]\n"
    "       merx model export --model M.mxm --out DIR\n"
    "       merx model import --user-factors U.npy --item-factors V.npy --user-ids U.txt\n"
    "                         --item-ids I.txt [--item-bias B.npy] [--data FILE --columns ...]\n"
    "                         --out M.mxm\n"
    "       merx model import (--spark-json | --spark-csv) USERS_DIR ITEMS_DIR --out M.mxm\n"
    "\nExamples:\n"
    "  merx model info --model shop.mxm\n"
    "  merx model export --model shop.mxm --out shop_factors\n";

static const char *usage_info =
    "usage: merx model info --model M.mxm [--json]\n\n"
    "Print a model's kind, dimensions, hyper-parameters and training-data fingerprint.\n"
    "\nExample:\n"
    "  merx model info --model shop.mxm --json\n";

static const char *usage_export =
    "usage: merx model export --model M.mxm --out DIR\n\n"
    "Write DIR/user_factors.npy and DIR/item_factors.npy (float32, one row per id),\n"
    "DIR/user_ids.txt and DIR/item_ids.txt (one id per line, in row order), and\n"
    "DIR/user_bias.npy / DIR/item_bias.npy when the model has biases. EASE models\n"
    "export DIR/item_item.npy (items x items) instead of factors.\n"
    "\nExample:\n"
    "  merx model export --model shop.mxm --out shop_factors\n";

static const char *usage_import =
    "usage: merx model import --user-factors U.npy --item-factors V.npy --user-ids U.txt\n"
    "                         --item-ids I.txt [--item-bias B.npy]\n"
    "                         [--data FILE --columns user=..,item=..] --out M.mxm\n"
    "       merx model import (--spark-json | --spark-csv) USERS_DIR ITEMS_DIR [--data ...] --out M.mxm\n\n"
    "Build a dot-product model (kind 'imported', ranked like an implicit model) from\n"
    "factor matrices trained elsewhere (Spark MLlib ALS, implicit, PyTorch): .npy float32\n"
    "or float64, one row per id, ids one per line in row order. With --data, each user's\n"
    "items in FILE are stored as training items, so recommendations exclude them.\n"
    "--spark-json reads the folders Spark MLlib ALS writes with\n"
    "model.userFactors.write.json(USERS_DIR) and model.itemFactors.write.json(ITEMS_DIR)\n"
    "(JSON Lines {\"id\": .., \"features\": [..]} part files, .gz too; _SUCCESS and .crc\n"
    "files skipped); --spark-csv folders of CSV parts with columns id and features\n"
    "(\"0.1 0.2 ..\" or \"[0.1,0.2,..]\"). The rank must agree; ids are all integers or all strings.\n"
    "\nExample:\n"
    "  merx model import --user-factors shop_factors/user_factors.npy\n"
    "      --item-factors shop_factors/item_factors.npy\n"
    "      --user-ids shop_factors/user_ids.txt --item-ids shop_factors/item_ids.txt\n"
    "      --out imported.mxm\n";

static int write_ids(const char *path, const mx_idmap *m, mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) return rc;
  for (uint32_t i = 0; i < mx_idmap_size(m); i++) {
    fputs(mx_idmap_name(m, i), af.f);
    fputc('\n', af.f);
  }
  return mx__atomic_commit(&af, err);
}

static int model_info(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "model info", "model= json", argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_info) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model"))) return rc;
  mx_error err;
  mx_error_clear(&err);
  mx_model *m;
  if (mx_model_load(mx__args_get(&a, "model", NULL), &m, &err) != MX_OK)
    return mx__cli_fail("model info", &err);
  static const char *hn[] = {"factors", "epochs", "reg", "lr", "alpha", "reg_bias", "lr_decay",
                             "cg_steps", "log_confidence", "eps", "seed", "init_std"};
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "kind"); mx__json_string(&j, mx_model_kind_name(m->kind));
    mx__json_key(&j, "implicit"); mx__json_bool(&j, m->implicit);
    mx__json_key(&j, "users"); mx__json_int(&j, m->n_users);
    mx__json_key(&j, "items"); mx__json_int(&j, m->n_items);
    mx__json_key(&j, "factors"); mx__json_int(&j, m->factors);
    mx__json_key(&j, "training_items"); mx__json_int(&j, (int64_t)m->seen.nnz);
    mx__json_key(&j, "global_mean"); mx__json_double(&j, m->global_mean);
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)m->data_fingerprint);
    mx__json_key(&j, "data_fingerprint"); mx__json_string(&j, fp);
    mx__json_key(&j, "pseudonymous"); mx__json_bool(&j, m->pseudonym_key != 0);
    mx__json_key(&j, "hyper");
    mx__json_object_begin(&j);
    for (int q = 0; q < m->n_hyper && q < 12; q++) {
      mx__json_key(&j, hn[q]);
      mx__json_double(&j, m->hyper[q]);
    }
    mx__json_object_end(&j);
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    printf("kind            %s (%s)\n", mx_model_kind_name(m->kind), m->implicit ? "implicit" : "explicit");
    printf("users           %u\nitems           %u\nfactors         %u\n", m->n_users, m->n_items,
           m->factors);
    printf("training items  %llu\n", (unsigned long long)m->seen.nnz);
    if (!m->implicit) printf("global mean     %g\n", m->global_mean);
    printf("fingerprint     %016llx\n", (unsigned long long)m->data_fingerprint);
    if (m->pseudonym_key) printf("user ids        pseudonyms (a store key; PRIVACY.md)\n");
    for (int q = 0; q < m->n_hyper && q < 12; q++) printf("%-15s %g\n", hn[q], m->hyper[q]);
  }
  mx_model_free(m);
  return MX_EXIT_OK;
}

static int model_export(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "model export", "model= out=", argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_export) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "model")) || (rc = mx__args_require(&a, "out"))) return rc;
  const char *dir = mx__args_get(&a, "out", NULL);
  if (strcmp(dir, "-") == 0)
    return mx__cli_usage("model export", "--out is a folder (.npy files and id lists), not "
                                        "standard output: give --out DIR");
  mx_error err;
  mx_error_clear(&err);
  mx_model *m;
  if (mx_model_load(mx__args_get(&a, "model", NULL), &m, &err) != MX_OK)
    return mx__cli_fail("model export", &err);
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    mx_error_at(&err, MX_EIO, dir, 0, 0, NULL, "cannot create directory: %s", strerror(errno));
    mx_model_free(m);
    return mx__cli_fail("model export", &err);
  }
  char p[4096];
#define PATH(name) (snprintf(p, sizeof p, "%s/%s", dir, name), p)
  rc = MX_OK;
  if (m->factors) {
    rc = mx_npy_write(PATH("user_factors.npy"), m->user_factors, m->n_users, m->factors, &err);
    if (rc == MX_OK)
      rc = mx_npy_write(PATH("item_factors.npy"), m->item_factors, m->n_items, m->factors, &err);
  }
  if (rc == MX_OK && m->ease_b)
    rc = mx_npy_write(PATH("item_item.npy"), m->ease_b, m->n_items, m->n_items, &err);
  if (rc == MX_OK && m->user_bias)
    rc = mx_npy_write(PATH("user_bias.npy"), m->user_bias, m->n_users, 0, &err);
  if (rc == MX_OK && m->item_bias)
    rc = mx_npy_write(PATH("item_bias.npy"), m->item_bias, m->n_items, 0, &err);
  if (rc == MX_OK) rc = write_ids(PATH("user_ids.txt"), m->users, &err);
  if (rc == MX_OK) rc = write_ids(PATH("item_ids.txt"), m->items, &err);
#undef PATH
  mx_model_free(m);
  if (rc != MX_OK) return mx__cli_fail("model export", &err);
  printf("exported to %s\n", dir);
  return MX_EXIT_OK;
}

typedef struct seen_ctx {
  const mx_idmap *users, *items;
  uint64_t *count;
  uint32_t *pu, *pi;
  size_t n, cap;
} seen_ctx;

static int seen_row(void *vctx, const mx_interaction_row *row, mx_error *err) {
  seen_ctx *c = vctx;
  int64_t u = mx_idmap_find(c->users, row->user, row->user_len);
  int64_t i = mx_idmap_find(c->items, row->item, row->item_len);
  if (u < 0 || i < 0) return 0;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    uint32_t *a = realloc(c->pu, nc * sizeof *a);
    if (a) c->pu = a;
    uint32_t *b = realloc(c->pi, nc * sizeof *b);
    if (b) c->pi = b;
    if (!a || !b) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->cap = nc;
  }
  c->pu[c->n] = (uint32_t)u;
  c->pi[c->n++] = (uint32_t)i;
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Training items from an interaction file: CSR over the model's ids. */
static int load_seen(mx_model *m, const char *path, const mx_ingest_options *opt, mx_error *err) {
  seen_ctx c = {m->users, m->items, NULL, NULL, NULL, 0, 0};
  int rc = mx_interactions_read(path, opt, seen_row, &c, NULL, NULL, err);
  mx_csr s = {0};
  if (rc == MX_OK) {
    s.rows = m->n_users;
    s.indptr = calloc((size_t)m->n_users + 1, sizeof *s.indptr);
    s.indices = malloc((c.n ? c.n : 1) * sizeof *s.indices);
    s.values = malloc((c.n ? c.n : 1) * sizeof *s.values);
    if (!s.indptr || !s.indices || !s.values) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (rc == MX_OK) {
    for (size_t q = 0; q < c.n; q++) s.indptr[c.pu[q] + 1]++;
    for (uint32_t u = 0; u < m->n_users; u++) s.indptr[u + 1] += s.indptr[u];
    uint64_t *fill = malloc(((size_t)m->n_users + 1) * sizeof *fill);
    if (!fill) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    } else {
      memcpy(fill, s.indptr, ((size_t)m->n_users + 1) * sizeof *fill);
      for (size_t q = 0; q < c.n; q++) s.indices[fill[c.pu[q]]++] = c.pi[q];
      /* sort and dedupe each row in place */
      uint64_t w = 0;
      for (uint32_t u = 0; u < m->n_users; u++) {
        uint64_t a = s.indptr[u], b = s.indptr[u + 1];
        qsort(s.indices + a, b - a, sizeof *s.indices, cmp_u32);
        s.indptr[u] = w;
        for (uint64_t q = a; q < b; q++)
          if (q == a || s.indices[q] != s.indices[q - 1]) {
            s.indices[w] = s.indices[q];
            s.values[w++] = 1.0f;
          }
      }
      s.indptr[m->n_users] = w;
      s.nnz = w;
      free(fill);
      rc = mx_model_set_seen(m, &s, err);
    }
  }
  mx_csr_free(&s);
  free(c.pu);
  free(c.pi);
  return rc;
}

static int model_import(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "model import",
                         "user-factors= item-factors= user-ids= item-ids= item-bias= data= out="
                         " spark-json= spark-csv=" MX_CLI_INPUT_SPEC, argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_import) == 0) return MX_EXIT_OK;
  /* --spark-json USERS_DIR ITEMS_DIR: the items folder is the positional */
  int spark = mx__args_has(&a, "spark-json") ? MX_SPARK_JSON : mx__args_has(&a, "spark-csv") ? MX_SPARK_CSV : 0;
  const char *spark_users = NULL, *spark_items = NULL;
  if (spark) {
    if (mx__args_has(&a, "spark-json") && mx__args_has(&a, "spark-csv"))
      return mx__cli_usage("model import", "give one of --spark-json and --spark-csv");
    if (mx__args_has(&a, "user-factors") || mx__args_has(&a, "item-factors") ||
        mx__args_has(&a, "user-ids") || mx__args_has(&a, "item-ids") || mx__args_has(&a, "item-bias"))
      return mx__cli_usage("model import", "--spark-%s reads factors and ids from the folders: "
                          "give no .npy options", spark == MX_SPARK_JSON ? "json" : "csv");
    if (a.npos != 1)
      return mx__cli_usage("model import", "--spark-%s USERS_DIR ITEMS_DIR: give both folders",
                          spark == MX_SPARK_JSON ? "json" : "csv");
    spark_users = mx__args_get(&a, spark == MX_SPARK_JSON ? "spark-json" : "spark-csv", NULL);
    spark_items = a.pos[0];
    if ((rc = mx__args_require(&a, "out"))) return rc;
  } else {
    const char *req[] = {"user-factors", "item-factors", "user-ids", "item-ids", "out"};
    for (int q = 0; q < 5; q++)
      if ((rc = mx__args_require(&a, req[q]))) return rc;
  }
  static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  mx_error err;
  mx_error_clear(&err);
  float *U = NULL, *V = NULL, *B = NULL;
  uint64_t ur, uc, vr, vc, br = 0, bc = 0;
  mx_model *m = NULL;
  mx_idmap *users = mx_idmap_create(), *items = mx_idmap_create();
  const char *uf = mx__args_get(&a, "user-factors", NULL), *vf = mx__args_get(&a, "item-factors", NULL);
  if (!users || !items) {
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  if (spark) {
    uf = spark_users;
    vf = spark_items;
    if (mx_spark_factors_read(uf, spark, users, &U, &ur, &uc, &err) ||
        mx_spark_factors_read(vf, spark, items, &V, &vr, &vc, &err))
      goto fail;
  } else if (mx_npy_read(uf, &U, &ur, &uc, &err) || mx_npy_read(vf, &V, &vr, &vc, &err)) {
    goto fail;
  }
  if (spark && uc != vc) {
    mx_error_at(&err, MX_EINVAL, vf, 0, 0, NULL, "item factors have rank %llu, user factors (%s) %llu",
                (unsigned long long)vc, uf, (unsigned long long)uc);
    goto fail;
  }
  if (uc != vc) {
    mx_error_at(&err, MX_EINVAL, vf, 0, 0, NULL, "item factors have %llu columns, user factors %llu",
                (unsigned long long)vc, (unsigned long long)uc);
    goto fail;
  }
  if (mx__args_has(&a, "item-bias") &&
      mx_npy_read(mx__args_get(&a, "item-bias", NULL), &B, &br, &bc, &err))
    goto fail;
  /* one id per line (CR LF tolerated); blank lines refused (they would shift rows) */
  if (!spark && (mx_id_lines_read(mx__args_get(&a, "user-ids", NULL), MX_ID_LINES_NO_GAPS, users,
                                  NULL, NULL, &err) ||
                 mx_id_lines_read(mx__args_get(&a, "item-ids", NULL), MX_ID_LINES_NO_GAPS, items,
                                  NULL, NULL, &err)))
    goto fail;
  if (mx_idmap_size(users) != ur) {
    mx_error_at(&err, MX_EINVAL, mx__args_get(&a, "user-ids", NULL), 0, 0, NULL,
                "%u user ids for %llu rows of %s", mx_idmap_size(users), (unsigned long long)ur, uf);
    goto fail;
  }
  if (mx_idmap_size(items) != vr) {
    mx_error_at(&err, MX_EINVAL, mx__args_get(&a, "item-ids", NULL), 0, 0, NULL,
                "%u item ids for %llu rows of %s", mx_idmap_size(items), (unsigned long long)vr, vf);
    goto fail;
  }
  if (B && (br != vr || bc != 1)) {
    mx_error_at(&err, MX_EINVAL, mx__args_get(&a, "item-bias", NULL), 0, 0, NULL,
                "item bias must be a vector of %llu values", (unsigned long long)vr);
    goto fail;
  }
  if (mx_model_create(MX_MODEL_IMPORTED, (uint32_t)ur, (uint32_t)vr, (uint32_t)uc, 0, &m, &err))
    goto fail;
  memcpy(m->user_factors, U, ur * uc * sizeof(float));
  memcpy(m->item_factors, V, vr * vc * sizeof(float));
  if (B) {
    m->item_bias = mx_alloc_aligned(vr * sizeof(float), 0);
    if (!m->item_bias) {
      mx_error_set(&err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    memcpy(m->item_bias, B, vr * sizeof(float));
  }
  if (mx_model_set_ids(m, users, items, &err)) goto fail;
  if (mx__args_has(&a, "data") && load_seen(m, mx__args_get(&a, "data", NULL), &opt, &err)) goto fail;
  if (mx_model_save(m, mx__args_get(&a, "out", NULL), &err)) goto fail;
  printf("imported %u users, %u items, %u factors, %llu training items -> %s\n", m->n_users,
         m->n_items, m->factors, (unsigned long long)m->seen.nnz, mx__args_get(&a, "out", NULL));
  mx_free_aligned(U);
  mx_free_aligned(V);
  mx_free_aligned(B);
  mx_idmap_free(users);
  mx_idmap_free(items);
  mx_model_free(m);
  return MX_EXIT_OK;
fail:
  mx_free_aligned(U);
  mx_free_aligned(V);
  mx_free_aligned(B);
  mx_idmap_free(users);
  mx_idmap_free(items);
  mx_model_free(m);
  return mx__cli_fail("model import", &err);
}

int mx__cmd_model(int argc, char **argv) {
  if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
    fputs(usage_top, argc < 3 ? stderr : stdout);
    return argc < 3 ? MX_EXIT_USAGE : MX_EXIT_OK;
  }
  if (!strcmp(argv[2], "info")) return model_info(argc, argv);
  if (!strcmp(argv[2], "export")) return model_export(argc, argv);
  if (!strcmp(argv[2], "import")) return model_import(argc, argv);
  return mx__cli_unknown_subcommand("model", argv[2], "info export import");
}
