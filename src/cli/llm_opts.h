/* Options shared by the commands that embed text (embed, search, coldstart):
 * where the embedding service is, or the built-in embedder. */
#ifndef MERX_CLI_LLM_OPTS_H
#define MERX_CLI_LLM_OPTS_H

#include "cli/cli.h"
#include "merx/embed.h"
#include "merx/http.h"

#define MX_CLI_LLM_SPEC \
  " config= server= key-env= dimensions= batch= timeout= retries= concurrency= cache= no-cache"

/* Build the HTTP config: defaults, then the JSON file (--config, else
 * $MERX_LLM_CONFIG), then MERX_LLM_* variables, then flags. The embedding
 * model name comes from model_flag (the command decides which flag that is;
 * NULL: none). Without a cache directory set anywhere, remote embeddings are
 * cached in $XDG_CACHE_HOME/merx/embeddings (or ~/.cache/...), unless
 * --no-cache. Returns 0, MX_EXIT_USAGE or MX_EXIT_FAIL (message printed). */
int mx__cli_llm_config(const mx_args *a, const char *model_flag, mx_http_config *cfg);

/* Embed texts with the built-in embedder (remote == 0) or the configured
 * server. *out is n x *dim (malloc'd). *sent: texts sent to the server. */
int mx__cli_embed_texts(int remote, const mx_builtin_embed_options *bo, const mx_http_config *cfg,
                       const char *const *texts, size_t n, int threads, float **out,
                       uint32_t *dim, size_t *sent, mx_error *err);

/* The files of an embedding index (sidecars, fingerprints, the check on
 * load): merx/search.h. */
#include "merx/search.h"
#endif
