/* NumPy .npy matrices (format spec: numpy.lib.format, versions 1.0 and 2.0):
 * "\x93NUMPY", major, minor, header length (u16 in 1.0, u32 in 2.0), then a
 * Python dict literal padded with spaces and a newline so the data starts on
 * a 64-byte boundary. Only little-endian float32/float64, C order. */
#include "merx/embed.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int mx_npy_write_f32(const char *path, const float *data, uint64_t rows, uint64_t cols,
                     mx_error *err) {
  char dict[256];
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (%" PRIu64 ", %" PRIu64 "), }",
                   rows, cols);
  size_t total = 10 + (size_t)n + 1; /* magic(6) + version(2) + len(2) + dict + '\n' */
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                            (unsigned char)(hlen >> 8)};
  mx_atomic_file af;
  int rc = mx_atomic_open(&af, path, err);
  if (rc) return rc;
  fwrite(head, 1, sizeof head, af.f);
  fwrite(dict, 1, (size_t)n, af.f);
  for (size_t i = 0; i < pad; i++) fputc(' ', af.f);
  fputc('\n', af.f);
  size_t count = (size_t)(rows * cols);
  if (count && fwrite(data, sizeof(float), count, af.f) != count) {
    int e = errno;
    mx_atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed: %s", strerror(e));
  }
  return mx_atomic_commit(&af, err);
}

/* Value of 'key' in the header dict: pointer just after "'key':" and spaces. */
static const char *dict_value(const char *dict, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(dict, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ' || *p == ':') p++;
  return p;
}

int mx_npy_read_f32(const char *path, float **data, uint64_t *rows, uint64_t *cols,
                    mx_error *err) {
  *data = NULL;
  char *buf;
  size_t len;
  int rc = mx_read_file(path, &buf, &len, err);
  if (rc) return rc;
#define BAD(...) do { rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, __VA_ARGS__); goto done; } while (0)
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) BAD("not a .npy file (bad magic)");
  unsigned char major = (unsigned char)buf[6];
  size_t hlen, start;
  if (major == 1) {
    hlen = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) BAD("truncated .npy header");
    hlen = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8 |
           (size_t)(unsigned char)buf[10] << 16 | (size_t)(unsigned char)buf[11] << 24;
    start = 12;
  } else {
    BAD("unsupported .npy version %u", major);
  }
  if (start + hlen > len || hlen > 1 << 20) BAD("truncated .npy header");
  char *dict = mx_strndup(buf + start, hlen);
  if (!dict) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  const char *descr = dict_value(dict, "descr");
  const char *fo = dict_value(dict, "fortran_order");
  const char *shape = dict_value(dict, "shape");
  int f8 = 0;
  if (descr && strncmp(descr, "'<f4'", 5) == 0) f8 = 0;
  else if (descr && strncmp(descr, "'<f8'", 5) == 0) f8 = 1;
  else {
    free(dict);
    BAD("unsupported dtype (only little-endian float32 '<f4' or float64 '<f8')");
  }
  if (!fo || strncmp(fo, "False", 5) != 0) {
    free(dict);
    BAD("Fortran-ordered arrays are not supported (save with C order)");
  }
  uint64_t dims[2] = {0, 1};
  int nd = 0;
  if (!shape || *shape != '(') {
    free(dict);
    BAD("no shape in the .npy header");
  }
  const char *p = shape + 1;
  while (*p && *p != ')') {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') break;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || nd == 2) {
      free(dict);
      BAD("only 1-D or 2-D arrays are supported");
    }
    dims[nd++] = v;
    p = end;
  }
  free(dict);
  if (nd == 0) BAD("a 0-D array is not a matrix");
  uint64_t count = dims[0] * dims[1];
  size_t esize = f8 ? 8 : 4;
  size_t off = start + hlen;
  if (dims[1] && dims[0] > UINT64_MAX / dims[1]) BAD("shape overflows");
  if (len - off != count * esize)
    BAD("data size %zu bytes does not match shape (%" PRIu64 ", %" PRIu64 ")", len - off, dims[0],
        dims[1]);
  float *out = malloc((count ? count : 1) * sizeof *out);
  if (!out) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (f8) {
    for (uint64_t i = 0; i < count; i++) {
      double d;
      memcpy(&d, buf + off + i * 8, 8);
      out[i] = (float)d;
    }
  } else {
    memcpy(out, buf + off, count * 4);
  }
  *data = out;
  *rows = dims[0];
  *cols = dims[1];
#undef BAD
done:
  free(buf);
  return rc;
}
