/* Shared by the file-reading fuzz targets: the input bytes as an in-memory
 * file (memfd) with a path the library can open, so each input costs no disk
 * I/O. Header-only because each target is its own executable. */
#ifndef MERX_FUZZFILE_H
#define MERX_FUZZFILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

/* Write data to a new memfd and put "/proc/self/fd/N" in path. Returns the
 * fd (close it when done), or -1 when the file could not be made. */
static inline int fuzz_file(const char *name, const uint8_t *data, size_t size, char *path,
                            size_t path_size) {
  int fd = memfd_create(name, 0);
  if (fd < 0) return -1;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return -1;
  }
  snprintf(path, path_size, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
