/* A minimal streaming JSON writer for --json outputs and JSONL decision files. */
#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void mx__json_init(mx_json *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
}

static void before_value(mx_json *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->need_comma[j->depth]) fputc(',', j->f);
  j->need_comma[j->depth] = 1;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (Unicode Table 3-7:
 * no overlongs, no surrogates, nothing above U+10FFFF), or the negated
 * length of its maximal invalid subpart (at least 1 byte). */
static int utf8_sequence(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int k = 1; k < need; k++) {
    if ((size_t)k >= n) return -k;
    unsigned char b = s[k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return -k;
  }
  return need;
}

/* Ids and reasons come from user data in any encoding: invalid UTF-8 is
 * written as U+FFFD, one per maximal invalid subpart (Unicode §3.9), so the
 * output is always valid JSON. */
void mx__json_escape(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) {
      int len = utf8_sequence((const unsigned char *)s + i, n - i);
      if (len > 0) fwrite(s + i, 1, (size_t)len, f);
      else fputs("\xEF\xBF\xBD", f);
      i += (size_t)(len > 0 ? len : -len) - 1;
      continue;
    }
    switch (c) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (c < 0x20)
        fprintf(f, "\\u%04x", c);
      else
        fputc(c, f);
    }
  }
  fputc('"', f);
}

void mx__json_object_begin(mx_json *j) {
  before_value(j);
  fputc('{', j->f);
  if (j->depth < 31) j->depth++;
  j->need_comma[j->depth] = 0;
}

void mx__json_object_end(mx_json *j) {
  if (j->depth > 0) j->depth--;
  fputc('}', j->f);
}

void mx__json_array_begin(mx_json *j) {
  before_value(j);
  fputc('[', j->f);
  if (j->depth < 31) j->depth++;
  j->need_comma[j->depth] = 0;
}

void mx__json_array_end(mx_json *j) {
  if (j->depth > 0) j->depth--;
  fputc(']', j->f);
}

void mx__json_key(mx_json *j, const char *key) {
  before_value(j);
  mx__json_escape(j->f, key, strlen(key));
  fputc(':', j->f);
  j->after_key = 1;
}

void mx__json_string(mx_json *j, const char *s) {
  before_value(j);
  if (!s) {
    fputs("null", j->f);
    return;
  }
  mx__json_escape(j->f, s, strlen(s));
}

void mx__json_stringn(mx_json *j, const char *s, size_t n) {
  before_value(j);
  mx__json_escape(j->f, s, n);
}

void mx__json_double(mx_json *j, double v) {
  before_value(j);
  if (!isfinite(v)) {
    fputs("null", j->f);
    return;
  }
  if (v == (double)(int64_t)v && fabs(v) < 1e15)
    fprintf(j->f, "%" PRId64, (int64_t)v);
  else
    fprintf(j->f, "%.10g", v);
}

void mx__json_double_exact(mx_json *j, double v) {
  before_value(j);
  if (!isfinite(v))
    fputs("null", j->f);
  else
    fprintf(j->f, "%.17g", v);
}

void mx__json_int(mx_json *j, int64_t v) {
  before_value(j);
  fprintf(j->f, "%" PRId64, v);
}

void mx__json_bool(mx_json *j, int v) {
  before_value(j);
  fputs(v ? "true" : "false", j->f);
}

void mx__json_null(mx_json *j) {
  before_value(j);
  fputs("null", j->f);
}
