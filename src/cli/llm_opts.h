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
int mx_cli_llm_config(const mx_args *a, const char *model_flag, mx_http_config *cfg);

/* Embed texts with the built-in embedder (remote == 0) or the configured
 * server. *out is n x *dim (malloc'd). *sent: texts sent to the server. */
int mx_cli_embed_texts(int remote, const mx_builtin_embed_options *bo, const mx_http_config *cfg,
                       const char *const *texts, size_t n, int threads, float **out,
                       uint32_t *dim, size_t *sent, mx_error *err);

/* The id list and metadata files written next to an embeddings .npy:
 * "x.npy" -> "x.ids" and "x.meta.json". buf needs strlen(npy) + 16. */
void mx_cli_embed_sidecar(const char *npy, const char *suffix, char *buf, size_t size);

/* embed_index.c: the files of an index are one unit. Fingerprint of the
 * vectors with the exact bytes of EMB.ids, and of EMB.texts given that one. */
uint64_t mx_cli_embed_fingerprint(const float *vec, uint64_t rows, uint64_t dim, const char *ids,
                                  size_t ids_len);
uint64_t mx_cli_embed_texts_fingerprint(uint64_t fingerprint, const char *texts, size_t len);
/* Refuse (MX_EFORMAT, naming the files) vectors read from npy whose .ids or
 * .texts are not the ones EMB.meta.json's fingerprints were made with. An
 * index without fingerprints (older merx) passes. */
int mx_cli_embed_check(const char *npy, const float *vec, uint64_t rows, uint64_t dim,
                       mx_error *err);
#endif
