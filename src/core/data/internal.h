/* Internal interface of src/core/data/: what ingest.c needs of the dataset
 * builder to fill it from several threads, and the loader with its thread
 * count and block size exposed (tests compare 1 thread with several). */
#ifndef MERX_CORE_DATA_INTERNAL_H
#define MERX_CORE_DATA_INTERNAL_H

#include "merx/dataset.h"

/* The builder's user (items = 0) or item (items = 1) map, borrowed. */
mx_idmap *mx__dataset_builder_idmap(mx_dataset_builder *b, int items);
/* Make room for n more interactions and hand out where they go: the caller
 * writes n entries at *u, *i, *v (and *t: non-NULL once the builder keeps
 * times, which need_time starts). The pointers stay valid until the next
 * add or extend. MX_OK or MX_ENOMEM (nothing changed). */
int mx__dataset_builder_extend(mx_dataset_builder *b, size_t n, int need_time, uint32_t **u,
                              uint32_t **i, float **v, int64_t **t);

/* mx_dataset_load_csv with threads parsing blocks of about block bytes of
 * whole records (threads 1: the sequential reader). Same dataset whatever
 * the threads and block size. */
int mx__dataset_load_csv_threads(const char *path, const mx_ingest_options *opts, int threads,
                                size_t block, mx_dataset **out, mx_error *err);

#endif
