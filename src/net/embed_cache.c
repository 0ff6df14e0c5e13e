/* Content-addressed embedding cache: one file per (model, dimensions, text),
 * named by a 128-bit hash of that key, so a rerun sends only texts it has not
 * seen and two runs that embed the same text share the entry.
 *
 * Entry layout (little-endian, as written by this machine):
 *   "MXEMB1\0\0" | u32 dim | u32 key_len | key bytes | dim x f32 | u64 checksum
 * The checksum (mx_hash64 of everything before it) and the stored key make a
 * torn, foreign or colliding entry a miss rather than a wrong vector.
 *
 * Entries are written to a temporary file in the same directory and renamed
 * into place, so a reader never sees half an entry. They are not fsync'd: the
 * cache can always be rebuilt, and syncing each of thousands of small files
 * would dominate the run; after a crash the checksum catches any damage. */
#include "net/internal.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = {'M', 'X', 'E', 'M', 'B', '1', 0, 0};

int mx__embed_cache_key(const char *model, uint32_t dimensions, const char *text, char **key,
                       size_t *len) {
  size_t n = strlen(model) + strlen(text) + 16;
  char *k = malloc(n);
  if (!k) return MX_ENOMEM;
  int w = snprintf(k, n, "%s\x1f%u\x1f%s", model, dimensions, text);
  *key = k;
  *len = (size_t)w;
  return MX_OK;
}

static void entry_path(const char *dir, const char *key, size_t len, char *out, size_t size,
                       char *sub, size_t sub_size) {
  uint64_t a = mx_hash64(key, len, 0x6d657278656d6231ULL);
  uint64_t b = mx_hash64(key, len, 0x9e3779b97f4a7c15ULL);
  snprintf(sub, sub_size, "%s/%02x", dir, (unsigned)(a >> 56));
  snprintf(out, size, "%s/%016llx%016llx.emb", sub, (unsigned long long)a, (unsigned long long)b);
}

int mx__embed_cache_get(const char *dir, const char *key, size_t len, float **vec, uint32_t *dim) {
  char path[1200], sub[700];
  entry_path(dir, key, len, path, sizeof path, sub, sizeof sub);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  int hit = 0;
  unsigned char *buf = NULL;
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && st.st_size >= 24 && st.st_size < (1 << 26)) {
    size_t size = (size_t)st.st_size;
    buf = malloc(size);
    if (buf && fread(buf, 1, size, f) == size && memcmp(buf, magic, 8) == 0) {
      uint32_t d, kl;
      memcpy(&d, buf + 8, 4);
      memcpy(&kl, buf + 12, 4);
      size_t want = 16 + (size_t)kl + (size_t)d * 4 + 8;
      uint64_t sum;
      if (want == size && d > 0 && kl == len && memcmp(buf + 16, key, len) == 0) {
        memcpy(&sum, buf + size - 8, 8);
        if (sum == mx_hash64(buf, size - 8, 0)) {
          float *v = malloc((size_t)d * sizeof *v);
          if (v) {
            memcpy(v, buf + 16 + kl, (size_t)d * 4);
            *vec = v;
            *dim = d;
            hit = 1;
          }
        }
      }
    }
  }
  free(buf);
  fclose(f);
  return hit;
}

int mx__embed_cache_put(const char *dir, const char *key, size_t len, const float *vec,
                       uint32_t dim, mx_error *err) {
  char path[1200], sub[700], tmp[1300];
  entry_path(dir, key, len, path, sizeof path, sub, sizeof sub);
  if (mx__mkdir_p(sub) != 0)
    return mx_error_at(err, MX_EIO, sub, 0, 0, NULL, "cannot create cache directory: %s",
                       strerror(errno));
  size_t size = 16 + len + (size_t)dim * 4 + 8;
  unsigned char *buf = malloc(size);
  if (!buf) return mx_error_set(err, MX_ENOMEM, "out of memory");
  uint32_t d = dim, kl = (uint32_t)len;
  memcpy(buf, magic, 8);
  memcpy(buf + 8, &d, 4);
  memcpy(buf + 12, &kl, 4);
  memcpy(buf + 16, key, len);
  memcpy(buf + 16 + len, vec, (size_t)dim * 4);
  uint64_t sum = mx_hash64(buf, size - 8, 0);
  memcpy(buf + size - 8, &sum, 8);
  snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", sub);
  int fd = mkstemp(tmp);
  int rc = MX_OK;
  if (fd < 0) {
    rc = mx_error_at(err, MX_EIO, tmp, 0, 0, NULL, "cannot create cache entry: %s",
                     strerror(errno));
  } else {
    size_t off = 0;
    while (off < size) {
      ssize_t w = write(fd, buf + off, size - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    int e = errno;
    if (close(fd) != 0 || off != size) {
      rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "writing cache entry failed: %s",
                       strerror(e));
      unlink(tmp);
    } else if (rename(tmp, path) != 0) {
      rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "renaming cache entry failed: %s",
                       strerror(errno));
      unlink(tmp);
    }
  }
  free(buf);
  return rc;
}
