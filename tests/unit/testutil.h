/* Helpers for the cmocka unit tests. */
#ifndef MERX_TESTUTIL_H
#define MERX_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh temporary directory for this test process (removed at exit). */
const char *tu_tmpdir(void);
/* Path inside tu_tmpdir(); returns a static buffer rotated over 8 slots. */
const char *tu_path(const char *name);
/* Write text to a file (returns path). */
const char *tu_write(const char *name, const char *text);
/* The example data directory of the source tree. */
const char *tu_examples(const char *name);
/* Directory of ../shared/data relative to the source tree, or NULL if absent. */
const char *tu_shared_data(const char *name);
#endif
