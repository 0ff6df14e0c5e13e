/* Which nearest-neighbour index a query command uses (ann_cli.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/ann_cli.h"
#include "cli/llm_opts.h"

void mx__cli_ann_beside(const char *vectors_file, int embeddings, int users, char *buf,
                       size_t size) {
  if (embeddings) mx_embed_sidecar(vectors_file, ".hnsw", buf, size);
  else snprintf(buf, size, "%s%s", vectors_file, users ? ".users.hnsw" : ".hnsw");
}

int mx__cli_ann_open(const mx_args *a, const char *cmd, const char *beside, const float *vec,
                    uint32_t n, uint32_t dim, const char *vectors_name, mx_ann **out,
                    const char **used, mx_error *err) {
  *out = NULL;
  if (used) *used = NULL;
  if (mx__args_has(a, "exact")) return MX_OK;
  const char *given = mx__args_get(a, "ann", NULL);
  if (given) {
    int rc = mx_ann_load(given, vec, n, dim, vectors_name, out, err);
    if (rc == MX_OK && used) *used = given;
    return rc;
  }
  struct stat st;
  if (!beside || stat(beside, &st) != 0) return MX_OK;
  mx_error e;
  mx_error_clear(&e);
  if (mx_ann_load(beside, vec, n, dim, vectors_name, out, &e) != MX_OK) {
    char buf[1024];
    fprintf(stderr, "merx %s: warning: not using the index beside the vectors: %s; exact scan\n",
            cmd, mx_error_format(&e, buf, sizeof buf));
    return MX_OK;
  }
  if (used) *used = beside;
  return MX_OK;
}
