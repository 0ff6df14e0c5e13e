/* NumPy .npy reader and writer (format described in numpy's
 * "numpy.lib.format": magic \x93NUMPY, major/minor version, a little-endian
 * header length (2 bytes in 1.0, 4 in 2.0/3.0), then a Python dict literal
 * with 'descr', 'fortran_order' and 'shape', padded so the data starts on a
 * 64-byte boundary). Only what factor matrices need: <f4 and <f8, 1-D/2-D. */
#include "merx/model.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mx_npy_write_stream(FILE *f, const float *data, uint64_t rows, uint64_t cols) {
  char dict[256];
  int n;
  if (cols == 0)
    n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%llu,), }",
                 (unsigned long long)rows);
  else
    n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%llu, %llu), }",
                 (unsigned long long)rows, (unsigned long long)cols);
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
  for (size_t q = 0; ok && q < pad; q++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  uint64_t count = rows * (cols ? cols : 1);
  ok = ok && (count == 0 || fwrite(data, sizeof(float), (size_t)count, f) == count);
  return ok ? 0 : -1;
}

int mx_npy_write(const char *path, const float *data, uint64_t rows, uint64_t cols,
                 mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc != MX_OK) return rc;
  /* A failed write leaves the stream's error flag set: the commit discards
   * the temporary and names the cause (No space left on device, File too
   * large) instead of a bare "cannot write". */
  (void)mx_npy_write_stream(af.f, data, rows, cols);
  return mx__atomic_commit(&af, err);
}

/* Value of key in the header dict, as the text after "'key':". */
static const char *dict_value(const char *h, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "'%s':", key);
  const char *p = strstr(h, pat);
  if (!p) {
    snprintf(pat, sizeof pat, "\"%s\":", key);
    p = strstr(h, pat);
  }
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  return p;
}

int mx_npy_read(const char *path, float **data, uint64_t *rows, uint64_t *cols, mx_error *err) {
  *data = NULL;
  *rows = *cols = 0;
  char *buf;
  size_t len;
  int rc = mx__read_file(path, &buf, &len, err);
  if (rc != MX_OK) return rc;
#define BAD(...) do { rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, __VA_ARGS__); goto done; } while (0)
  {
    const unsigned char *u = (const unsigned char *)buf;
    if (len < 10 || memcmp(u, "\x93NUMPY", 6) != 0) BAD("not a .npy file (bad magic)");
    size_t hlen, off;
    if (u[6] == 1) {
      hlen = (size_t)u[8] | (size_t)u[9] << 8;
      off = 10;
    } else if (u[6] == 2 || u[6] == 3) {
      if (len < 12) BAD("truncated .npy header");
      hlen = (size_t)u[8] | (size_t)u[9] << 8 | (size_t)u[10] << 16 | (size_t)u[11] << 24;
      off = 12;
    } else {
      BAD(".npy format version %u is not supported", u[6]);
    }
    if (off + hlen > len) BAD("truncated .npy header");
    char *h = mx__strndup(buf + off, hlen);
    if (!h) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    const char *descr = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
               *shape = dict_value(h, "shape");
    int f8 = 0, fortran = 0;
    uint64_t dims[2] = {0, 1};
    int nd = 0;
    int hok = descr && fo && shape;
    /* descr must start with a quote: "'descr':" at the very end of the
     * header leaves descr at the NUL, and descr + 1 would read past it
     * (found by fuzz_npy, corpus/npy/crash-descr-at-header-end). */
    if (hok && *descr != '\'' && *descr != '"') hok = 0;
    if (hok) {
      if (!strncmp(descr + 1, "<f4", 3)) f8 = 0;
      else if (!strncmp(descr + 1, "<f8", 3)) f8 = 1;
      else hok = 0;
    }
    if (hok) fortran = !strncmp(fo, "True", 4);
    if (hok && *shape == '(') {
      const char *p = shape + 1;
      while (nd < 3) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p) { hok = 0; break; }
        if (nd < 2) dims[nd] = v;
        nd++;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
      }
      if (nd < 1 || nd > 2) hok = 0;
    } else {
      hok = 0;
    }
    if (!hok) {
      char shown[128];
      snprintf(shown, sizeof shown, "%.100s", h);
      free(h);
      BAD("unsupported .npy array (need a 1-D or 2-D '<f4' or '<f8' array): %s", shown);
    }
    free(h);
    uint64_t r = dims[0], c = nd == 2 ? dims[1] : 1, count = r * c;
    size_t esz = f8 ? 8 : 4, start = off + hlen;
    if (c && count / c != r) BAD("array too large");
    /* count * esz can wrap for a hostile shape (e.g. 2^62 float32 values
     * gives 0 bytes), which would pass the size check and write past a tiny
     * buffer; compare counts instead of byte sizes. */
    if (count > (len - start) / esz) BAD("truncated .npy data: %llu values expected",
                                       (unsigned long long)count);
    float *out = mx_alloc_aligned((count ? count : 1) * sizeof(float), 0);
    if (!out) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory for a %llu x %llu array",
                        (unsigned long long)r, (unsigned long long)c);
      goto done;
    }
    for (uint64_t q = 0; q < count; q++) {
      /* element q of the file; in Fortran order it is (q % r, q / r) */
      uint64_t dst = fortran ? (q % (r ? r : 1)) * c + q / (r ? r : 1) : q;
      if (f8) {
        double v;
        memcpy(&v, buf + start + q * 8, 8);
        out[dst] = (float)v;
      } else {
        memcpy(&out[dst], buf + start + q * 4, 4);
      }
      /* NaN factors score every item NaN; a float64 past 3.4e38 becomes inf */
      if (!isfinite(out[dst])) {
        double orig = out[dst];
        if (f8) memcpy(&orig, buf + start + q * 8, 8);
        mx_free_aligned(out);
        BAD("value at row %llu, column %llu is not a finite number%s",
            (unsigned long long)(dst / c + 1), (unsigned long long)(dst % c + 1),
            isfinite(orig) ? " as float32 (beyond +-3.4e38)" : "");
      }
    }
    *data = out;
    *rows = r;
    *cols = c;
    rc = MX_OK;
  }
done:
#undef BAD
  free(buf);
  return rc;
}
