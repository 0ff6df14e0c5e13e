/* Aligned allocation and string copies. */
#include "util/hugealloc.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- memory */
void *mx_alloc_aligned(size_t size, int zero) {
  void *p = NULL;
  size_t rounded = (size + 63) & ~(size_t)63;
  if (rounded == 0) rounded = 64;
  if (posix_memalign(&p, 64, rounded) != 0) return NULL;
  if (zero) memset(p, 0, rounded);
  return p;
}

void mx_free_aligned(void *p) { free(p); }

void *mx__alloc_huge(size_t size, size_t min) {
  if (size < min) return malloc(size);
  void *p = NULL;
  if (posix_memalign(&p, (size_t)2 << 20, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

/* ---- strings */
char *mx__strdup(const char *s) {
  if (!s) return NULL;
  return mx__strndup(s, strlen(s));
}

char *mx__strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}
