/* merx — errors shared by every layer.
 *
 * Functions return an int status: MX_OK (0) or a negative MX_E* code. Where
 * context matters they also fill a caller-provided mx_error, which names the
 * file, line, column and field of bad input, so the CLI can print one precise
 * line ("data.csv:17:3: field 'value': not a number: 'abc'"). The library never
 * prints and never exits. */
#ifndef MERX_ERROR_H
#define MERX_ERROR_H

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

#ifdef __cplusplus
}
#endif
#endif
