/* merx — errors shared by every layer.
 *
 * Functions return an int status: MX_OK (0) or a negative MX_E* code. Where
 * context matters they also fill a caller-provided mx_error, which names the
 * file, line, column and field of bad input, so the CLI can print one precise
 * line ("data.csv:17:3: field 'value': not a number: 'abc'"). The library never
 * prints and never exits. */
#ifndef MERX_ERROR_H
#define MERX_ERROR_H

#include <signal.h>
#include <stddef.h>

#if defined(MX_BUILDING_LIB) || !defined(MX_API)
#  define MX_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MX_OK = 0,
  MX_ENOMEM = -1,     /* allocation failed */
  MX_EIO = -2,        /* open/read/write/rename failed (errno text in message) */
  MX_EPARSE = -3,     /* malformed input (file:line:column given) */
  MX_EINVAL = -4,     /* invalid argument or option value */
  MX_ENOTFOUND = -5,  /* unknown id, column, method, file */
  MX_EFORMAT = -6,    /* foreign, truncated or corrupt binary file */
  MX_ELIMIT = -7,     /* a size, memory or time limit was reached */
  MX_ESTATE = -8,     /* object used in the wrong state (closed model, ...) */
  MX_ENET = -9,       /* network / HTTP failure */
  MX_ESCRIPT = -10,   /* Lua script error */
  MX_EEMPTY = -11,    /* no data where some is required */
  MX_EINFEASIBLE = -12, /* problem has no feasible solution */
  MX_EINTERRUPTED = -13 /* stopped by a signal or a deadline */
};

#define MX_ERROR_MESSAGE_MAX 1024
#define MX_ERROR_FILE_MAX 512
#define MX_ERROR_FIELD_MAX 128

typedef struct mx_error {
  int code;                           /* MX_OK when no error */
  char message[MX_ERROR_MESSAGE_MAX]; /* human text, without the location */
  char file[MX_ERROR_FILE_MAX];       /* input file or script, "" if none */
  long line;                          /* 1-based, 0 if unknown */
  long column;                        /* 1-based field index, 0 if unknown */
  char field[MX_ERROR_FIELD_MAX];     /* column/field name, "" if none */
} mx_error;

/* Static text for a code ("out of memory", "parse error", ...). */
MX_API const char *mx_strerror(int code);

/* Reset to "no error". Accepts NULL. */
MX_API void mx_error_clear(mx_error *err);

/* Set code and printf-style message; clears location. Returns code, so
 * `return mx_error_set(err, MX_EINVAL, "...")` reads naturally. Accepts NULL err. */
MX_API int mx_error_set(mx_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set code, location and message. file may be NULL; field may be NULL. */
MX_API int mx_error_at(mx_error *err, int code, const char *file, long line, long column,
                       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Format "file:line:column: field 'f': message" (parts present only when set)
 * into buf. Returns buf. */
MX_API char *mx_error_format(const mx_error *err, char *buf, size_t size);

/* Cancellation of long calls. Entry points that can run long (training,
 * forecast and backtest batches, top-K and scoring batches, allocation) take
 * an optional `const mx_cancel *cancel` in their options (NULL: never
 * cancelled) and poll it between units of work (an epoch, a series, a block
 * of users, a cycle). Once cancelled they stop and return MX_EINTERRUPTED
 * (the flag was set, e.g. by a signal handler) or MX_ELIMIT (past the
 * deadline), with what stopped in err, and produce nothing. */
typedef struct mx_cancel {
  double deadline;                        /* CLOCK_MONOTONIC seconds; 0 = none */
  const volatile sig_atomic_t *interrupt; /* non-zero stops; NULL = none */
} mx_cancel;

/* MX_OK, or the code above with "WHAT interrupted by a signal" / "WHAT
 * stopped: time limit reached" in err (which may be NULL). c may be NULL.
 * Only reads c: safe from any thread. */
MX_API int mx_cancel_check(const mx_cancel *c, const char *what, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
