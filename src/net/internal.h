/* Internal to src/net: the content-addressed embedding cache. */
#ifndef MERX_NET_INTERNAL_H
#define MERX_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

/* The cache key of one text: "model\x1fdimensions\x1ftext" — everything that
 * determines the vector. *key is malloc'd (caller frees); *len excludes the NUL. */
int mx_embed_cache_key(const char *model, uint32_t dimensions, const char *text, char **key,
                       size_t *len);
/* Look key up in dir. Returns 1 and a malloc'd vector (*vec, *dim) on a hit,
 * 0 on a miss. A damaged entry (bad size, checksum or a different key under
 * the same hash) is a miss. */
int mx_embed_cache_get(const char *dir, const char *key, size_t len, float **vec, uint32_t *dim);
/* Store one vector; the entry appears complete or not at all (temporary file
 * + rename). */
int mx_embed_cache_put(const char *dir, const char *key, size_t len, const float *vec,
                       uint32_t dim, mx_error *err);

#endif
