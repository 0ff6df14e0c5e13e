/* JSON writer: whatever bytes a string holds (ids and reasons come from user
 * data), the output is valid JSON; invalid UTF-8 becomes U+FFFD, one per
 * maximal invalid subpart (Unicode 15 §3.9, "U+FFFD substitution of maximal
 * subparts"), valid UTF-8 passes through unchanged. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define FFFD "\xEF\xBF\xBD"

static char *escape(const char *s, size_t n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mx__json_escape(f, s, n);
  fclose(f);
  return buf;
}

/* The escaped string parses as JSON and decodes to want (UTF-8). */
static void check(const char *s, size_t n, const char *want) {
  char *out = escape(s, n);
  json_error_t je;
  json_t *v = json_loads(out, JSON_DECODE_ANY, &je);
  if (!v) fail_msg("invalid JSON for input of %zu bytes: %s (%s)", n, out, je.text);
  assert_true(json_is_string(v));
  assert_string_equal(json_string_value(v), want);
  json_decref(v);
  free(out);
}
#define CHECK(lit, want) check(lit, sizeof lit - 1, want)

static void test_valid_utf8_unchanged(void **s) {
  (void)s;
  CHECK("plain", "plain");
  CHECK("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK("q\"b\\n\n\x01\x7f", "q\"b\\n\n\x01\x7f");
  CHECK("\xEF\xBF\xBF\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF\xF4\x8F\xBF\xBF"); /* U+FFFF, U+10FFFF */
}

static void test_invalid_utf8_replaced(void **s) {
  (void)s;
  CHECK("a\xFF" "b", "a" FFFD "b");                 /* never a lead byte */
  CHECK("\x80\x80", FFFD FFFD);                     /* lone continuations */
  CHECK("\xC3", FFFD);                              /* truncated at the end */
  CHECK("\xE2\x82x", FFFD "x");                     /* truncated mid-string: one U+FFFD */
  CHECK("\xC0\xAF", FFFD FFFD);                     /* overlong '/' */
  CHECK("\xE0\x80\xAF", FFFD FFFD FFFD);            /* overlong 3-byte */
  CHECK("\xED\xA0\x80", FFFD FFFD FFFD);            /* UTF-16 surrogate */
  CHECK("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);   /* above U+10FFFF */
  CHECK("\xF0\x9F\x98", FFFD);                      /* truncated 4-byte */
  CHECK("id\xE9\x22", "id" FFFD "\"");              /* Latin-1 e-acute then a quote */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_utf8_unchanged),
      cmocka_unit_test(test_invalid_utf8_replaced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
