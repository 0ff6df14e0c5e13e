/* mx_rng: seeded xoshiro-style random numbers (uniform, bounded, normal). */
#include "util/util.h"

#include <math.h>

/* ---- rng */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void mx__rng_seed(mx_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mx__rng_next(mx_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double mx__rng_uniform(mx_rng *r) { return (double)(mx__rng_next(r) >> 11) * 0x1.0p-53; }

uint32_t mx__rng_below(mx_rng *r, uint32_t n) {
  /* Lemire's multiply-shift with rejection. */
  uint64_t m = (uint64_t)(uint32_t)(mx__rng_next(r) >> 32) * n;
  uint32_t l = (uint32_t)m;
  if (l < n) {
    uint32_t t = (uint32_t)(-n) % n;
    while (l < t) {
      m = (uint64_t)(uint32_t)(mx__rng_next(r) >> 32) * n;
      l = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

double mx__rng_normal(mx_rng *r) {
  /* Box-Muller; one value per call keeps the stream simple and reproducible. */
  double u1 = mx__rng_uniform(r);
  double u2 = mx__rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
