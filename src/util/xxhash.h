/* XXH64, the standard 64-bit xxHash (Yann Collet, xxhash.com; the
 * algorithm as specified in doc/xxhash_spec.md of the reference
 * implementation, version 0.1.1). Written here from the specification, so
 * any other XXH64 (ClickHouse's xxHash64, Python's xxhash.xxh64, the xxhsum
 * tool with -H1) gives the same value for the same bytes and seed.
 *
 * merx uses it where a value must be reproduced outside merx: experiment
 * arms (docs/lua.md "Experiment arms") and shards (mx__shard_of). mx_hash64 stays
 * the internal hash of hash maps and fingerprints. */
#ifndef MERX_UTIL_XXHASH_H
#define MERX_UTIL_XXHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t mx__xxh64(const void *data, size_t len, uint64_t seed);

/* Incremental form, for hashing pieces (salt, ":", user) without copying
 * them into one buffer. Same value as mx__xxh64 over the concatenation. */
typedef struct mx_xxh64_state {
  uint64_t total, v[4];
  unsigned char buf[32];
  size_t buffered;
  uint64_t seed;
} mx_xxh64_state;
void mx__xxh64_reset(mx_xxh64_state *s, uint64_t seed);
void mx__xxh64_update(mx_xxh64_state *s, const void *data, size_t len);
uint64_t mx__xxh64_digest(const mx_xxh64_state *s);

/* The shard of an id, the one rule of `merx run --shard I/N`, `merx
 * shard-split`, merx.data readers and merx.allocate.shard_of:
 *
 *   h     = XXH64(id bytes, seed 42), read as a signed 64-bit integer
 *   shard = h mod N, taken in [0, N)
 *
 * which is Spark SQL's pmod(xxhash64(CAST(id AS STRING)), N): Spark's
 * xxhash64 is standard XXH64 of a string's UTF-8 bytes with its seed fixed
 * at 42, returned as a signed BIGINT, and pmod is the non-negative modulo.
 * (Signed and unsigned modulo differ unless N is a power of two.) shards >= 1. */
#define MX_SHARD_SEED 42
uint32_t mx__shard_of(const void *id, size_t len, uint32_t shards);

#endif
