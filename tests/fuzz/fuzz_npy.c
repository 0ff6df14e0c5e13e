/* libFuzzer target: the NumPy .npy reader (mx_npy_read) on arbitrary bytes.
 * Hostile headers (shape overflow, lying sizes, odd dtypes, truncated data)
 * must end in a clean error with a message; a matrix that loads must have
 * rows x cols readable floats. Replayed over tests/fuzz/corpus/npy by ctest
 * (fuzz_npy). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "merx/model.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_file("fuzz.npy", data, size, path, sizeof path);
  if (fd < 0) return 0;
  mx_error err;
  mx_error_clear(&err);
  float *x = NULL;
  uint64_t rows = 0, cols = 0;
  int rc = mx_npy_read(path, &x, &rows, &cols, &err);
  if (rc < 0) {
    if (err.message[0] == '\0') __builtin_trap();
  } else {
    /* every element must be inside the returned buffer (ASan checks it) */
    volatile float acc = 0;
    if (rows && cols) {
      if (!x) __builtin_trap();
      acc += x[0];
      acc += x[rows * cols - 1];
    }
    (void)acc;
    mx_free_aligned(x);
  }
  close(fd);
  return 0;
}
