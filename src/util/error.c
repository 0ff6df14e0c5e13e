/* Error codes, the mx_error detail record and cancellation checks. */
#include "merx/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

const char *mx_strerror(int code) {
  switch (code) {
  case MX_OK: return "success";
  case MX_ENOMEM: return "out of memory";
  case MX_EIO: return "input/output error";
  case MX_EPARSE: return "parse error";
  case MX_EINVAL: return "invalid argument";
  case MX_ENOTFOUND: return "not found";
  case MX_EFORMAT: return "bad file format";
  case MX_ELIMIT: return "limit reached";
  case MX_ESTATE: return "invalid state";
  case MX_ENET: return "network error";
  case MX_ESCRIPT: return "script error";
  case MX_EEMPTY: return "no data";
  case MX_EINFEASIBLE: return "infeasible";
  case MX_EINTERRUPTED: return "interrupted";
  default: return "unknown error";
  }
}

void mx_error_clear(mx_error *err) {
  if (!err) return;
  err->code = MX_OK;
  err->message[0] = err->file[0] = err->field[0] = '\0';
  err->line = err->column = 0;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  if (!src) { dst[0] = '\0'; return; }
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

int mx_error_set(mx_error *err, int code, const char *fmt, ...) {
  if (!err) return code;
  mx_error_clear(err);
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

int mx_error_at(mx_error *err, int code, const char *file, long line, long column,
                const char *field, const char *fmt, ...) {
  if (!err) return code;
  mx_error_clear(err);
  err->code = code;
  copy_str(err->file, sizeof err->file, file);
  copy_str(err->field, sizeof err->field, field);
  err->line = line;
  err->column = column;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

char *mx_error_format(const mx_error *err, char *buf, size_t size) {
  if (!buf || size == 0) return buf;
  buf[0] = '\0';
  if (!err) return buf;
  size_t n = 0;
#define APPEND(...)                                                             \
  do {                                                                          \
    if (n < size) {                                                             \
      int w_ = snprintf(buf + n, size - n, __VA_ARGS__);                        \
      if (w_ > 0) n += (size_t)w_;                                              \
    }                                                                           \
  } while (0)
  if (err->file[0]) {
    APPEND("%s:", err->file);
    if (err->line > 0) APPEND("%ld:", err->line);
    if (err->column > 0) APPEND("%ld:", err->column);
    APPEND(" ");
  }
  if (err->field[0]) APPEND("field '%s': ", err->field);
  APPEND("%s", err->message[0] ? err->message : mx_strerror(err->code));
#undef APPEND
  return buf;
}

int mx_cancel_check(const mx_cancel *c, const char *what, mx_error *err) {
  if (!c) return MX_OK;
  if (c->interrupt && *c->interrupt)
    return mx_error_set(err, MX_EINTERRUPTED, "%s interrupted by a signal", what);
  if (c->deadline > 0 && mx__now_seconds() > c->deadline)
    return mx_error_set(err, MX_ELIMIT, "%s stopped: time limit reached", what);
  return MX_OK;
}
