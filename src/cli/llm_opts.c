/* Shared embedding options for the CLI (see llm_opts.h). */
#include "cli/llm_opts.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mx__cli_llm_config(const mx_args *a, const char *model_flag, mx_http_config *cfg) {
  *cfg = mx_http_config_defaults();
  mx_error err;
  mx_error_clear(&err);
  const char *file = mx__args_get(a, "config", getenv("MERX_LLM_CONFIG"));
  if (file && *file && mx_http_config_load(cfg, file, &err) != MX_OK)
    return mx__cli_fail(a->cmd, &err);
  if (mx_http_config_from_env(cfg, &err) != MX_OK) return mx__cli_fail(a->cmd, &err);
  struct {
    const char *flag;
    char *dst;
    size_t size;
  } strs[] = {{"server", cfg->base_url, sizeof cfg->base_url},
              {"key-env", cfg->key_env, sizeof cfg->key_env},
              {"cache", cfg->cache_dir, sizeof cfg->cache_dir},
              {model_flag, cfg->model, sizeof cfg->model}};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
    if (!strs[i].flag) continue;
    const char *v = mx__args_get(a, strs[i].flag, NULL);
    if (!v) continue;
    if (strlen(v) >= strs[i].size)
      return mx__cli_usage(a->cmd, "--%s: value too long", strs[i].flag);
    memcpy(strs[i].dst, v, strlen(v) + 1);
  }
  long l;
  int rc;
  if ((rc = mx__args_int(a, "dimensions", cfg->dimensions, 0, 65536, &l))) return rc;
  cfg->dimensions = (uint32_t)l;
  if ((rc = mx__args_int(a, "batch", cfg->batch_size, 1, 100000, &l))) return rc;
  cfg->batch_size = (uint32_t)l;
  if ((rc = mx__args_int(a, "retries", cfg->max_retries, 0, 20, &l))) return rc;
  cfg->max_retries = (int)l;
  if ((rc = mx__args_int(a, "concurrency", cfg->concurrency, 1, 64, &l))) return rc;
  cfg->concurrency = (int)l;
  double t;
  if ((rc = mx__args_double(a, "timeout", cfg->timeout, 0.001, 86400, &t))) return rc;
  cfg->timeout = t;
  if (mx__args_has(a, "no-cache")) {
    cfg->cache_dir[0] = 0;
  } else if (!cfg->cache_dir[0]) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
      snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/merx/embeddings", xdg);
    else if (home && *home)
      snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/.cache/merx/embeddings", home);
  }
  if (cfg->base_url[0] && mx_http_config_check(cfg, &err) != MX_OK)
    return mx__cli_fail(a->cmd, &err);
  return 0;
}

int mx__cli_embed_texts(int remote, const mx_builtin_embed_options *bo, const mx_http_config *cfg,
                       const char *const *texts, size_t n, int threads, float **out,
                       uint32_t *dim, size_t *sent, mx_error *err) {
  *out = NULL;
  *sent = 0;
  if (!remote) {
    float *v = malloc((n ? n : 1) * (size_t)bo->dim * sizeof *v);
    if (!v) return mx_error_set(err, MX_ENOMEM, "out of memory");
    int rc = mx_builtin_embed(texts, n, bo, threads, v, err);
    if (rc) {
      free(v);
      return rc;
    }
    *out = v;
    *dim = bo->dim;
    return MX_OK;
  }
  mx_http_client *c;
  int rc = mx_http_client_create(cfg, &c, err);
  if (rc) return rc;
  rc = mx_openai_embed(c, texts, n, out, dim, sent, err);
  mx_http_client_free(c);
  return rc;
}

