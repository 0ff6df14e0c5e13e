/* Nearest-neighbour indexes in the CLI: where an index lives beside its
 * vectors, and which one a query command uses (merx similar, merx search). */
#ifndef MERX_CLI_ANN_CLI_H
#define MERX_CLI_ANN_CLI_H

#include <stddef.h>
#include "cli/cli.h"
#include "merx/ann.h"

/* Options every query command takes: --ann FILE, --exact, --ef N. */
#define MX_CLI_ANN_SPEC " ann= exact ef="
/* Default --ef when none is given. */
#define MX_CLI_ANN_DEFAULT_EF 100

/* The default index file beside vectors: "M.mxm" -> "M.mxm.hnsw" (items)
 * or "M.mxm.users.hnsw"; embeddings "EMB.npy" -> "EMB.hnsw". */
void mx__cli_ann_beside(const char *vectors_file, int embeddings, int users, char *buf,
                       size_t size);

/* The index a query command uses, bound to vec (n x dim):
 *  - --exact: none (exact scan);
 *  - --ann FILE: that file; any failure to load it (missing, stale,
 *    corrupt) is an error;
 *  - otherwise the file beside the vectors when it exists; when it cannot be
 *    used (stale, corrupt) a warning names it and the exact scan runs.
 * *out is NULL for the exact scan; *used (may be NULL) receives the path
 * used or NULL. Returns MX_OK or an error (err set). */
int mx__cli_ann_open(const mx_args *a, const char *cmd, const char *beside, const float *vec,
                    uint32_t n, uint32_t dim, const char *vectors_name, mx_ann **out,
                    const char **used, mx_error *err);

#endif
