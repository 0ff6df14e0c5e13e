/* XXH64 (xxhash.h): the reference algorithm, from its specification. Four
 * 64-bit accumulators consume 32-byte stripes; the remaining 0-31 bytes are
 * folded in by 8, 4 and 1 byte steps; an avalanche mixes the result. All
 * reads are little-endian, whatever the machine. */
#include "util/xxhash.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
         (uint64_t)p[7] << 56;
}

static inline uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t round64(uint64_t acc, uint64_t lane) {
  acc += lane * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}

static inline uint64_t merge(uint64_t acc, uint64_t v) {
  acc ^= round64(0, v);
  return acc * P1 + P4;
}

static void stripe(uint64_t v[4], const unsigned char *p) {
  for (int i = 0; i < 4; i++) v[i] = round64(v[i], le64(p + 8 * i));
}

/* The accumulators (or, below 32 bytes, seed + P5) merged, the total length
 * added, the 0-31 byte tail folded in and the avalanche (spec steps 3-6). */
static uint64_t finish(const uint64_t v[4], int long_input, uint64_t seed, uint64_t total,
                       const unsigned char *tail, size_t n) {
  uint64_t h;
  if (long_input) {
    h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    for (int i = 0; i < 4; i++) h = merge(h, v[i]);
  } else {
    h = seed + P5;
  }
  h += total;
  while (n >= 8) {
    h ^= round64(0, le64(tail));
    h = rotl(h, 27) * P1 + P4;
    tail += 8;
    n -= 8;
  }
  if (n >= 4) {
    h ^= (uint64_t)le32(tail) * P1;
    h = rotl(h, 23) * P2 + P3;
    tail += 4;
    n -= 4;
  }
  while (n > 0) {
    h ^= (uint64_t)*tail * P5;
    h = rotl(h, 11) * P1;
    tail++;
    n--;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

static void init_lanes(uint64_t v[4], uint64_t seed) {
  v[0] = seed + P1 + P2;
  v[1] = seed + P2;
  v[2] = seed;
  v[3] = seed - P1;
}

uint64_t mx__xxh64(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  uint64_t v[4];
  init_lanes(v, seed);
  size_t n = len;
  while (n >= 32) {
    stripe(v, p);
    p += 32;
    n -= 32;
  }
  return finish(v, len >= 32, seed, (uint64_t)len, p, n);
}

void mx__xxh64_reset(mx_xxh64_state *s, uint64_t seed) {
  memset(s, 0, sizeof *s);
  s->seed = seed;
  init_lanes(s->v, seed);
}

void mx__xxh64_update(mx_xxh64_state *s, const void *data, size_t len) {
  const unsigned char *p = data;
  s->total += len;
  if (s->buffered + len < 32) {
    if (len) memcpy(s->buf + s->buffered, p, len);
    s->buffered += len;
    return;
  }
  if (s->buffered) {
    size_t take = 32 - s->buffered;
    memcpy(s->buf + s->buffered, p, take);
    stripe(s->v, s->buf);
    p += take;
    len -= take;
    s->buffered = 0;
  }
  while (len >= 32) {
    stripe(s->v, p);
    p += 32;
    len -= 32;
  }
  if (len) memcpy(s->buf, p, len);
  s->buffered = len;
}

uint64_t mx__xxh64_digest(const mx_xxh64_state *s) {
  return finish(s->v, s->total >= 32, s->seed, s->total, s->buf, s->buffered);
}

uint32_t mx__shard_of(const void *id, size_t len, uint32_t shards) {
  if (shards <= 1) return 0;
  uint64_t h = mx__xxh64(id, len, MX_SHARD_SEED), n = shards, r = h % n;
  /* h >= 2^63 is the signed value h - 2^64: subtract 2^64 mod n, without a
   * signed conversion */
  if (h >> 63) r = (r + n - (UINT64_MAX % n + 1) % n) % n;
  return (uint32_t)r;
}
