/* Generations: everything a request serves from, loaded completely before
 * it is swapped in, reference-counted so in-flight requests finish on the
 * generation they started on (serve.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "merx/ann.h"
#include "serve/internal.h"
#include "store/privacy.h"
#include "util/pseudonym.h"
#include "util/sha256.h"
#include "util/util.h"

typedef struct ext_entry {
  const char *name;
  int (*load)(mx_serve_gen *, void **, mx_error *);
  void (*free_fn)(void *);
} ext_entry;

static const ext_entry exts[MX_SERVE_EXT_COUNT + 1] = {
#define MX_SERVE_EXT(NAME, keys, load, free_fn, metrics) {#NAME, load, free_fn},
#include "serve/ext.def"
#undef MX_SERVE_EXT
    {NULL, NULL, NULL}};

static double unix_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *mx__serve_path(const mx_serve_gen *gen, const char *path) {
  if (path[0] == '/' || !gen->config_dir || !gen->config_dir[0]) return mx__strdup(path);
  size_t n = strlen(gen->config_dir) + strlen(path) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", gen->config_dir, path);
  return s;
}

static void stat_into(mx_serve_watch *w) {
  struct stat st;
  w->exists = stat(w->path, &st) == 0;
  if (!w->exists) return;
  w->dev = st.st_dev;
  w->ino = st.st_ino;
  w->size = st.st_size;
  w->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

int mx__serve_gen_watch(mx_serve_gen *gen, const char *path, mx_error *err) {
  mx_serve_watch *g = realloc(gen->watch, (size_t)(gen->n_watch + 1) * sizeof *g);
  if (!g) return mx_error_set(err, MX_ENOMEM, "out of memory");
  gen->watch = g;
  mx_serve_watch *w = &g[gen->n_watch];
  memset(w, 0, sizeof *w);
  if (!(w->path = mx__strdup(path))) return mx_error_set(err, MX_ENOMEM, "out of memory");
  gen->n_watch++;
  stat_into(w);
  return MX_OK;
}

int mx__serve_gen_ann(mx_serve_gen *gen, const json_t *path, const char *beside, const float *vec,
                     uint32_t n, uint32_t dim, const char *vectors_name, mx_ann **out,
                     mx_error *err) {
  *out = NULL;
  if (json_is_false(path) || (!path && !beside)) return MX_OK;
  char *p = path ? mx__serve_path(gen, json_string_value(path)) : mx__strdup(beside);
  if (!p) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = mx__serve_gen_watch(gen, p, err);
  struct stat st;
  if (rc == MX_OK && (path || stat(p, &st) == 0)) {
    mx_error quiet;
    mx_error_clear(&quiet);
    rc = mx_ann_load(p, vec, n, dim, vectors_name, out, path ? err : &quiet);
    if (!path) rc = MX_OK; /* beside the vectors: used when it fits them */
  }
  free(p);
  return rc;
}

int mx__serve_gen_changed(const mx_serve_gen *g, uint64_t *signature) {
  int changed = 0;
  uint64_t sig = 0;
  for (int i = 0; i < g->n_watch; i++) {
    mx_serve_watch now = g->watch[i];
    stat_into(&now);
    const mx_serve_watch *was = &g->watch[i];
    if (now.exists != was->exists ||
        (now.exists && (now.dev != was->dev || now.ino != was->ino || now.size != was->size ||
                        now.mtime_ns != was->mtime_ns)))
      changed = 1;
    uint64_t v[5] = {(uint64_t)now.exists, (uint64_t)now.dev, (uint64_t)now.ino,
                     (uint64_t)now.size, (uint64_t)now.mtime_ns};
    sig = mx_hash64(v, sizeof v, sig);
  }
  if (signature) *signature = sig;
  return changed;
}

static void gen_free(mx_serve_gen *g, int loaded_exts) {
  if (!g) return;
  for (int i = loaded_exts - 1; i >= 0; i--)
    if (exts[i].free_fn) exts[i].free_fn(g->ext[i]);
  mx_model_free(g->model);
  free(g->model_path);
  if (g->user_key) mx__hmac_key_clear(g->user_key);
  free(g->user_key);
  json_decref(g->config);
  free(g->config_dir);
  for (int i = 0; i < g->n_watch; i++) free(g->watch[i].path);
  free(g->watch);
  if (g->tokens) mx__secure_zero(g->tokens, (size_t)g->n_tokens * sizeof *g->tokens);
  free(g->tokens);
  free(g);
}

/* One token per non-empty line (several allow rotation without downtime);
 * only their SHA-256 digests are kept, so a comparison takes the same time
 * whatever the token's length or how much of it matches. */
static int load_tokens(mx_serve_gen *g, const char *path, mx_error *err) {
  char *text = NULL;
  size_t len = 0;
  int rc = mx__read_file(path, &text, &len, err);
  if (rc) return rc;
  for (char *line = text; line && *line;) {
    char *end = strchr(line, '\n');
    if (end) *end = '\0';
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
    while (n && (*line == ' ' || *line == '\t')) line++, n--;
    if (n) {
      char(*t)[65] = realloc(g->tokens, (size_t)(g->n_tokens + 1) * sizeof *t);
      if (!t) {
        mx__secure_zero(text, len);
        free(text);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
      g->tokens = t;
      mx_sha256 s;
      mx__sha256_init(&s);
      mx__sha256_update(&s, line, n);
      mx__sha256_hex(&s, g->tokens[g->n_tokens]);
      g->n_tokens++;
    }
    line = end ? end + 1 : NULL;
  }
  mx__secure_zero(text, len);
  free(text);
  if (g->n_tokens == 0)
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "the token file holds no token");
  return MX_OK;
}

int mx__serve_gen_authorized(const mx_serve_gen *g, const char *authorization) {
  if (g->n_tokens == 0) return 1;
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
  const char *tok = authorization + 7;
  while (*tok == ' ') tok++;
  mx_sha256 s;
  char d[65];
  mx__sha256_init(&s);
  mx__sha256_update(&s, tok, strlen(tok));
  mx__sha256_hex(&s, d);
  /* constant time over every token: no early exit on a match or a mismatch */
  unsigned ok = 0;
  for (int t = 0; t < g->n_tokens; t++) {
    unsigned diff = 0;
    for (int b = 0; b < 64; b++) diff |= (unsigned)(unsigned char)(d[b] ^ g->tokens[t][b]);
    ok |= (unsigned)(diff == 0);
  }
  return (int)ok;
}

static const char *str_key(const json_t *cfg, const char *key) {
  const json_t *v = json_object_get(cfg, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* gen->user_key from the store of the config (as server.c resolves it) or
 * MERX_STORE_KEY, watched; the model must be of that key's pseudonyms, or
 * of plain ids. */
int mx__serve_gen_store(const mx_serve_gen *g, char **dir) {
  const char *store = str_key(g->config, "store"), *env = getenv("MERX_STORE");
  *dir = store ? mx__serve_path(g, store) : env && *env ? mx__strdup(env) : NULL;
  return (store || (env && *env)) && !*dir ? MX_ENOMEM : MX_OK;
}

static int load_user_key(mx_serve_gen *g, mx_error *err) {
  char *dir;
  if (mx__serve_gen_store(g, &dir)) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_hmac_key key;
  int has = 0, rc = mx__store_key(dir, &key, &has, err);
  if (rc == MX_OK && dir) {
    char kp[4096];
    snprintf(kp, sizeof kp, "%s/%s", dir, MX_STORE_KEY);
    rc = mx__serve_gen_watch(g, kp, err);
  }
  free(dir);
  if (rc == MX_OK && has && !(g->user_key = malloc(sizeof key)))
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  if (rc == MX_OK && has) *g->user_key = key;
  if (has) mx__hmac_key_clear(&key);
  if (rc == MX_OK && g->model)
    rc = mx__pseudonym_key_match(g->model->pseudonym_key, g->user_key, g->model_path, err);
  return rc;
}

int64_t mx__serve_model_user(const mx_serve_gen *gen, const char *id) {
  return mx__pseudonym_find(gen->model->users, gen->model->pseudonym_key ? gen->user_key : NULL,
                           id, strlen(id));
}

int mx__serve_gen_load(mx_serve *s, mx_serve_gen **out, mx_error *err) {
  *out = NULL;
  double t0 = mx__now_seconds();
  mx_serve_gen *g = calloc(1, sizeof *g);
  if (!g) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = MX_OK, loaded = 0;
  const char *cpath = s->config_path;
  g->config_path = cpath;
  if (cpath) {
    if ((rc = mx__serve_config_load(cpath, &g->config, err))) goto fail;
    const char *slash = strrchr(cpath, '/');
    g->config_dir = slash ? mx__strndup(cpath, (size_t)(slash - cpath)) : mx__strdup("");
    if (slash == cpath) g->config_dir[0] = '\0', free(g->config_dir), g->config_dir = mx__strdup("/");
    if (!g->config_dir) goto nomem;
    if ((rc = mx__serve_gen_watch(g, cpath, err))) goto fail;
  } else {
    if (!(g->config = json_object()) || !(g->config_dir = mx__strdup(""))) goto nomem;
  }
  /* flags override the file */
  const char *flag_keys[] = {"model", "listen", "token_file", "store"};
  const char *flag_vals[] = {s->opt_model, s->opt_listen, s->opt_token, s->opt_store};
  for (int i = 0; i < 4; i++)
    if (flag_vals[i] && json_object_set_new(g->config, flag_keys[i], json_string(flag_vals[i])))
      goto nomem;
  if (s->opt.threads > 0 && json_object_set_new(g->config, "threads", json_integer(s->opt.threads)))
    goto nomem;
  if ((rc = mx__serve_config_check(g->config, cpath ? cpath : "(flags)", err))) goto fail;
  const char *keys[] = {"model", "token_file", "listen", "store", "access_log"};
  for (int i = 0; i < 5; i++) {
    json_t *v = json_object_get(g->config, keys[i]);
    if (v && !json_is_string(v) && !(i == 4 && json_is_false(v))) {
      rc = mx_error_at(err, MX_EINVAL, cpath ? cpath : "(flags)", 0, 0, keys[i],
                       "'%s' must be a string%s", keys[i], i == 4 ? " (a file, or \"-\" for stderr) or false" : " (a path)");
      goto fail;
    }
  }
  const char *model = str_key(g->config, "model");
  if (model) {
    if (!(g->model_path = mx__serve_path(g, model))) goto nomem;
    if ((rc = mx__serve_gen_watch(g, g->model_path, err))) goto fail;
    if ((rc = mx_model_load(g->model_path, &g->model, err))) goto fail;
    /* the header holds the payload's checksum: its hash names the file's content */
    uint64_t h = g->model->mapping ? mx_hash64(g->model->mapping, 512, 0) : 0;
    snprintf(g->model_fingerprint, sizeof g->model_fingerprint, "%016llx", (unsigned long long)h);
  }
  if ((rc = load_user_key(g, err))) goto fail;
  const char *token = str_key(g->config, "token_file");
  if (token) {
    char *p = mx__serve_path(g, token);
    if (!p) goto nomem;
    rc = mx__serve_gen_watch(g, p, err);
    if (rc == MX_OK) rc = load_tokens(g, p, err);
    free(p);
    if (rc) goto fail;
  }
  for (; loaded < MX_SERVE_EXT_COUNT; loaded++)
    if ((rc = exts[loaded].load(g, &g->ext[loaded], err))) goto fail;
  g->loaded_at = unix_now();
  g->load_seconds = mx__now_seconds() - t0;
  g->refs = 1; /* the server's own reference */
  *out = g;
  return MX_OK;
nomem:
  rc = mx_error_set(err, MX_ENOMEM, "out of memory");
fail:
  gen_free(g, loaded);
  return rc;
}

mx_serve_gen *mx__serve_gen_acquire(mx_serve *s) {
  pthread_mutex_lock(&s->gen_lock);
  mx_serve_gen *g = s->gen;
  if (g) g->refs++;
  pthread_mutex_unlock(&s->gen_lock);
  return g;
}

void mx__serve_gen_release(mx_serve *s, mx_serve_gen *g) {
  if (!g) return;
  pthread_mutex_lock(&s->gen_lock);
  int last = --g->refs == 0;
  pthread_mutex_unlock(&s->gen_lock);
  if (last) gen_free(g, MX_SERVE_EXT_COUNT);
}
