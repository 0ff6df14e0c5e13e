/* The block-chained checksum of the .mxm and .mxd files: a writer that
 * streams bytes while hashing them in 1 MiB blocks, and the same hash of a
 * mapped file on load. One implementation for both formats; each passes its
 * own hash function (models mx_hash64, datasets XXH64). */
#include "core/data/internal.h"

#include <string.h>

void mx__bw_flush(mx__block_writer *w) {
  if (w->used == 0) return;
  w->hash = w->fn(w->buf, w->used, w->hash);
  if (w->f && fwrite(w->buf, 1, w->used, w->f) != w->used) w->failed = 1;
  w->used = 0;
}

void mx__bw_bytes(mx__block_writer *w, const void *data, uint64_t n) {
  const unsigned char *p = data;
  while (n > 0) {
    size_t take = MX__BLOCK - w->used;
    if (take > n) take = (size_t)n;
    if (p)
      memcpy(w->buf + w->used, p, take);
    else
      memset(w->buf + w->used, 0, take);
    w->used += take;
    w->pos += take;
    if (p) p += take;
    n -= take;
    if (w->used == MX__BLOCK) mx__bw_flush(w);
  }
}

void mx__bw_pad(mx__block_writer *w, uint64_t to) {
  if (to > w->pos) mx__bw_bytes(w, NULL, to - w->pos);
}

void mx__bw_ids(mx__block_writer *w, const mx_idmap *m) {
  for (uint32_t i = 0; i < mx_idmap_size(m); i++) {
    const char *s = mx_idmap_name(m, i);
    mx__bw_bytes(w, s, strlen(s) + 1);
  }
}

uint64_t mx__block_hash(mx__block_hash_fn fn, const unsigned char *p, uint64_t n, uint64_t seed) {
  uint64_t h = seed;
  for (uint64_t off = 0; off < n; off += MX__BLOCK) {
    uint64_t take = n - off < MX__BLOCK ? n - off : MX__BLOCK;
    h = fn(p + off, (size_t)take, h);
  }
  return h;
}
