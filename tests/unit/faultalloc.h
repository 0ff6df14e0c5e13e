/* Fault injection shared by the tests/unit/test_alloc_faults*.c tests (as Lua's
 * ltests.c does): the wrappers in faultalloc.c intercept malloc, calloc,
 * realloc and posix_memalign calls made by merx's own objects (those tests
 * are linked with -Wl,--wrap=...; see tests/CMakeLists.txt); allocations
 * inside libc, zlib, OpenBLAS or cmocka are not counted; a Lua state's are,
 * since merx's runtime allocator calls realloc. */
#ifndef MERX_FAULTALLOC_H
#define MERX_FAULTALLOC_H

/* Run fn once clean, counting allocations, then once with the k-th
 * allocation failing for every k. fn must return MX_OK or MX_ENOMEM (any
 * other code fails the test, naming `what`). Returns the number of failure
 * points tried. */
long fa_sweep(int (*fn)(void), const char *what);
/* The same, but from the k-th allocation on every allocation fails until fn
 * returns (memory stays exhausted): needed where a failed allocation is
 * retried, as Lua's allocator does after an emergency collection, and a
 * harder test of cleanup paths that allocate. */
long fa_sweep_persistent(int (*fn)(void), const char *what);

#endif
