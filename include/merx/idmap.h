/* merx — string id -> dense uint32 index, the strings kept for output
 * (util layer). */
#ifndef MERX_IDMAP_H
#define MERX_IDMAP_H

#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -------------------------------------------------------------- id map */

typedef struct mx_idmap mx_idmap;

/* Create an empty map. Returns NULL on allocation failure. */
MX_API mx_idmap *mx_idmap_create(void);
MX_API void mx_idmap_free(mx_idmap *m);
/* Index of id (len bytes), inserting it with the next index when absent.
 * Returns the index, or -1 on allocation failure. Strings are copied. */
MX_API int64_t mx_idmap_intern(mx_idmap *m, const char *id, size_t len);
/* Index of id or -1 when absent. */
MX_API int64_t mx_idmap_find(const mx_idmap *m, const char *id, size_t len);
/* The id string of index i (borrowed, NUL-terminated, valid while m lives). */
MX_API const char *mx_idmap_name(const mx_idmap *m, uint32_t i);
MX_API uint32_t mx_idmap_size(const mx_idmap *m);

#ifdef __cplusplus
}
#endif
#endif
