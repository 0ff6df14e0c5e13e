/* merx — group-by: rows streamed in with a key, aggregated per group.
 *
 * The engine of merx.data.group, usable from C: create a grouping with a
 * list of aggregations, add rows one at a time (each with its key and, per
 * aggregation, its number or value), then read one result per group and
 * aggregation. Groups are numbered 0, 1, ... in order of first appearance.
 * A key is any byte string; the caller joins several key columns (merx.data
 * joins them with \x1f). */
#ifndef MERX_GROUPBY_H
#define MERX_GROUPBY_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mx_group_agg {
  MX_GROUP_SUM,            /* numbers: their sum */
  MX_GROUP_MEAN,           /* numbers: sum / count */
  MX_GROUP_MIN,            /* numbers: the smallest (a NaN is kept only when first) */
  MX_GROUP_MAX,            /* numbers: the largest (likewise) */
  MX_GROUP_COUNT,          /* rows; takes no input */
  MX_GROUP_COUNT_DISTINCT, /* distinct value strings (compared on their first 500 bytes) */
  MX_GROUP_FIRST,          /* the group's first row (mx_group_row); takes no input */
  MX_GROUP_LAST            /* the group's last row; takes no input */
} mx_group_agg;

/* "sum", "mean", "min", "max", "count", "count_distinct", "first", "last"
 * -> *out; MX_EINVAL for any other name (err names the choices). */
MX_API int mx_group_agg_parse(const char *name, mx_group_agg *out, mx_error *err);
/* 1 for the aggregations that take a number per row (sum, mean, min, max). */
MX_API int mx_group_agg_numeric(mx_group_agg op);

typedef struct mx_group mx_group;

/* A grouping with n aggregations (ops copied). *out owned by the caller
 * (mx_group_free). MX_ENOMEM or MX_OK. */
MX_API int mx_group_create(const mx_group_agg *ops, int n, mx_group **out, mx_error *err);
MX_API void mx_group_free(mx_group *g);

/* Add the next row (rows are numbered 0, 1, ... as they are added): its key,
 * and for aggregation a: num[a] when it is numeric, str[a] / str_len[a] for
 * count_distinct (num and str may be NULL when no aggregation needs them;
 * other entries are not read). *group (may be NULL) receives the row's
 * group. MX_ENOMEM (the row may be counted in part: free the grouping) or
 * MX_OK. */
MX_API int mx_group_add(mx_group *g, const char *key, size_t key_len, const double *num,
                        const char *const *str, const size_t *str_len, uint32_t *group,
                        mx_error *err);

/* Number of groups so far. */
MX_API uint32_t mx_group_count(const mx_group *g);
/* Key of group i (NUL-terminated; borrowed from g). */
MX_API const char *mx_group_key(const mx_group *g, uint32_t i);
/* Result of aggregation a for group i: sum, mean, min, max, or the count
 * (count, count_distinct); for first / last, the row number (as a double). */
MX_API double mx_group_value(const mx_group *g, int a, uint32_t i);
/* Row number of group i's first row, and of its last. */
MX_API uint64_t mx_group_first_row(const mx_group *g, uint32_t i);
MX_API uint64_t mx_group_last_row(const mx_group *g, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
