/* Internal interface of src/core/data/: what ingest.c needs of the dataset
 * builder to fill it from several threads, and the loader with its thread
 * count and block size exposed (tests compare 1 thread with several). */
#ifndef MERX_CORE_DATA_INTERNAL_H
#define MERX_CORE_DATA_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

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

/* The block-chained checksum of .mxm and .mxd files (blockfile.c): bytes are
 * hashed in MX__BLOCK chunks, each chunk's hash seeding the next, so a writer
 * streaming the payload and a loader hashing the mapped file agree. */
#define MX__BLOCK (1u << 20)
typedef uint64_t (*mx__block_hash_fn)(const void *data, size_t len, uint64_t seed);
typedef struct mx__block_writer {
  FILE *f;            /* NULL: hash only */
  uint64_t pos;       /* file offset of the next byte */
  unsigned char *buf; /* MX__BLOCK bytes, the caller's */
  size_t used;
  uint64_t hash;      /* running: starts at the format's seed */
  int failed;         /* a write failed */
  mx__block_hash_fn fn;
} mx__block_writer;
void mx__bw_bytes(mx__block_writer *w, const void *data, uint64_t n); /* data NULL: zeros */
void mx__bw_pad(mx__block_writer *w, uint64_t to);                   /* zeros up to offset to */
void mx__bw_ids(mx__block_writer *w, const mx_idmap *m); /* every id, NUL-terminated */
void mx__bw_flush(mx__block_writer *w);
uint64_t mx__block_hash(mx__block_hash_fn fn, const unsigned char *p, uint64_t n, uint64_t seed);

#endif
