/* Erasure on request (`merx forget`, PRIVACY.md): every trace of some ids in
 * a store folder. Each step is atomic and idempotent, so a run killed at any
 * point leaves each place before or after and a rerun finishes:
 *
 *   ledger.db   one transaction: the person's decisions, exposures,
 *               assignments and stored queries deleted; their id inside other rows' records,
 *               reasons, run parameters and run-history tails replaced by
 *               "[erased]"; PRAGMA secure_delete zeroes the freed bytes and a
 *               WAL checkpoint (TRUNCATE) empties the log
 *   files       any other store file holding an id: cache entries (a path
 *               with a `cache` folder, `.emb`) are deleted, other files
 *               rewritten (temporary + rename) with the id replaced
 *   models      *.mxm files are handed to the caller (the model layer sits
 *               above the store); store.key, store.conf, erasures/ and the
 *               ledger's own files are not scanned here
 *
 * Ids are matched as bytes; give each raw id and, with a key, its pseudonym. */
#ifndef MERX_STORE_FORGET_H
#define MERX_STORE_FORGET_H

#include <stddef.h>

#include "merx/error.h"

typedef struct mx_forget_counts {
  long decisions, exposures, assignments; /* rows deleted */
  long mentions;                          /* rows of others with the id replaced */
  long runs;                              /* run-history rows with the id replaced */
  long queries;                           /* stored queries (queries.h) deleted */
  long files_rewritten, files_deleted;
} mx_forget_counts;

int mx__store_forget_ledger(const char *ledger_path, const char *const *ids, int n,
                           mx_forget_counts *c, mx_error *err);

/* Walk DIR: scrub files as above; model_fn(ctx, path) for every *.mxm (its
 * status stops the walk when not MX_OK). */
typedef int (*mx_forget_model_fn)(void *ctx, const char *path, mx_error *err);
int mx__store_forget_files(const char *dir, const char *const *ids, int n,
                          mx_forget_model_fn model_fn, void *ctx, mx_forget_counts *c,
                          mx_error *err);

#endif
