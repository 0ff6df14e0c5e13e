/* Renaming every id of a map at once, each keeping its index (internal):
 * the dataset loader replaces user ids by their pseudonyms this way after
 * the read (PRIVACY.md), one call per distinct id. */
#ifndef MERX_UTIL_IDMAP_RENAME_H
#define MERX_UTIL_IDMAP_RENAME_H
#include <stddef.h>
#include <stdint.h>

#include "merx/idmap.h"

/* The new name of id (len bytes): borrowed until the next call, its length
 * in *out_len; NULL when out of memory. The shape of an mx_ingest_options
 * user_rewrite callback. */
typedef const char *(*mx__idmap_renamer)(void *ctx, const char *id, size_t len,
                                          size_t *out_len);

/* Give index i the name fn(ctx, name of i) for every i, in index order.
 * The table is rebuilt at the capacity it already has (it holds as many
 * ids), the names go to one arena sized for them, and nothing grows on the
 * way: the cost is fn's plus one slot write per id. All or nothing: 0 on
 * success; on failure m is unchanged and -1 means out of memory, -2 that two
 * ids were given the same new name (*dup, when not NULL: the later index). */
int mx__idmap_rename(mx_idmap *m, mx__idmap_renamer fn, void *ctx, uint32_t *dup);

#endif
