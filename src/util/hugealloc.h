/* Big arrays filled at once (internal): on transparent huge pages they take
 * 512x fewer page faults to fill (costly in VMs: ~10 us each on the shared
 * EPYC of docs/benchmarks.md) and fewer TLB misses on random access. */
#ifndef MERX_UTIL_HUGEALLOC_H
#define MERX_UTIL_HUGEALLOC_H
#include <stddef.h>

/* size bytes, freed with free(). From min bytes up the block is 2 MB-aligned
 * and marked MADV_HUGEPAGE; below, a plain malloc. NULL when out of memory. */
void *mx__alloc_huge(size_t size, size_t min);

#endif
