/* merx — pre-partitioned inputs for sharded runs (core layer).
 *
 * `merx shard-split` writes DIR/part-00000.csv ... part-(N-1).csv, each with
 * the input's header, every row in the part of its id's shard
 * (mx_alloc_shard_of: XXH64 seed 42, Spark SQL's pmod(xxhash64(id), N)),
 * and DIR/_merx_shards, a manifest of five lines:
 *
 *   merx-shards 1
 *   shards N
 *   column NAME          (the header name of the id column)
 *   hash xxh64-42-pmod
 *   rows R               (data rows over all parts)
 *
 * A reader under `merx run --shard I/N` with the same N reads only part I. */
#ifndef MERX_SHARD_H
#define MERX_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "merx/csv.h"
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MX_SHARD_MANIFEST "_merx_shards"
#define MX_SHARD_MAX 4096

typedef struct mx_shard_manifest {
  uint32_t shards;
  char column[256];
  uint64_t rows;
} mx_shard_manifest;

/* Partition the CSV at path by the shard of its column `column` (a header
 * name) into out_dir (created when missing) as above. All parts and the
 * manifest appear together or not at all (an earlier split in out_dir stays
 * whole on failure). shards in [1, MX_SHARD_MAX]; rows_per_part, when not
 * NULL, has room for shards counts. Errors name the file and line. */
MX_API int mx_shard_split_file(const char *path, const mx_csv_options *csv, const char *column,
                               uint32_t shards, const char *out_dir, uint64_t *rows_per_part,
                               mx_error *err);

/* *found = 1 and *out filled when dir holds a manifest (0 when dir is not a
 * directory or has none); a manifest that does not parse is MX_EPARSE naming
 * its line. */
MX_API int mx_shard_manifest_read(const char *dir, mx_shard_manifest *out, int *found,
                                  mx_error *err);

/* "DIR/part-00003.csv" into buf; the length, or -1 when it does not fit. */
MX_API int mx_shard_part_path(const char *dir, uint32_t part, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
