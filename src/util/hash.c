/* mx_hash64: the fast non-cryptographic hash of ids and rows. */
#include "util/util.h"

#include <stdint.h>
#include <string.h>

/* ---- hashing: a 64-bit multiply-xorshift over 8-byte words (in the spirit
 * of wyhash/komihash); stable because it reads bytes explicitly in little-
 * endian order. */
static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

static inline uint64_t load_le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
         (uint64_t)p[7] << 56;
}

uint64_t mx_hash64(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (len + 1));
  while (len >= 8) {
    h = mix64(h ^ load_le64(p)) * 0xbf58476d1ce4e5b9ULL;
    p += 8;
    len -= 8;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < len; i++) tail |= (uint64_t)p[i] << (8 * i);
  h = mix64(h ^ tail ^ ((uint64_t)len << 56));
  return h;
}
