/* Mapping a whole binary file for a loader (.mxm models, .hnsw indexes):
 * open without waiting on a FIFO, refuse what is not a regular file, leave
 * short files unmapped so the loader can say whether they are cut or foreign. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int mx__map_file(const char *path, const char *what, int writable, uint64_t min_size,
                const char magic[8], void **map, uint64_t *size, int *starts_with_magic,
                mx_error *err) {
  *map = NULL;
  *size = 0;
  *starts_with_magic = 0;
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for
   * a writer; only a regular file can be mapped anyway. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open %s: %s", what,
                       strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot stat %s: %s", what, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot load %s: %s", what,
                       S_ISDIR(st.st_mode) ? "is a directory"
                                           : "not a regular file (a FIFO, socket or device)");
  }
  uint64_t fsize = (uint64_t)st.st_size;
  if (fsize < min_size) {
    char head[8] = {0};
    *starts_with_magic = fsize >= 8 && pread(fd, head, 8, 0) == 8 && memcmp(head, magic, 8) == 0;
    *size = fsize;
    close(fd);
    return MX_EFORMAT;
  }
  void *m = mmap(NULL, (size_t)fsize, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE,
                 fd, 0);
  int e = errno;
  close(fd);
  if (m == MAP_FAILED)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot map %s: %s", what, strerror(e));
  *map = m;
  *size = fsize;
  return MX_OK;
}
