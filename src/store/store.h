/* The store folder: one per deployment (docs/cli/run.md "The store"). Its layout is
 * merx's own; everything else reaches it through these names:
 *
 *   DIR/ledger.db        decisions, lineage (decisions.h) and the scheduler's
 *                        run history (runs.c), SQLite in WAL mode
 *   DIR/ledger.db.lock   the scheduler's lock (one daemon per store)
 *
 * A store is named by --store DIR, else the MERX_STORE environment variable,
 * else (merx schedule) the schedule file's `store = "DIR"`. */
#ifndef MERX_STORE_STORE_H
#define MERX_STORE_STORE_H

#include "merx/error.h"

#define MX_STORE_LEDGER "ledger.db"

/* MERX_STORE when set and not empty, else NULL. */
const char *mx__store_from_env(void);
/* Create the folder (and its parents) when missing; refuse a path that is
 * not a directory. */
int mx__store_create(const char *dir, mx_error *err);
/* "DIR/ledger.db", malloc'd (NULL when out of memory). */
char *mx__store_ledger_path(const char *dir);
/* Does a schedule file's `store` value name a store folder? A name ending in
 * ".db" or an existing regular file keeps the old meaning (run history only). */
int mx__store_is_folder(const char *path);

#endif
