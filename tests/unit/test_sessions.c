/* Conversation memory of /v1/answer (serve/sessions.h): turn and byte
 * limits keep the newest turns, a session expires after its ttl, the least
 * recently used session is evicted beyond max_sessions. Times are given, so
 * nothing here waits. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "serve/sessions.h"

static mx_sessions *make(int turns, size_t bytes, double ttl, size_t max) {
  mx_session_limits lim = {turns, bytes, ttl, max};
  mx_sessions *s;
  assert_int_equal(mx__sessions_create(&lim, &s), MX_OK);
  return s;
}

static void test_turn_and_byte_limits(void **state) {
  (void)state;
  mx_sessions *s = make(2, 1000, 60, 10);
  mx_session_turn *t;
  int n;
  assert_int_equal(mx__sessions_history(s, "a", 0, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 0);
  assert_int_equal(mx__sessions_append(s, "a", 1, "q1", "a1"), MX_OK);
  assert_int_equal(mx__sessions_append(s, "a", 2, "q2", "a2"), MX_OK);
  assert_int_equal(mx__sessions_append(s, "a", 3, "q3", "a3"), MX_OK);
  assert_int_equal(mx__sessions_history(s, "a", 4, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 2); /* the newest two */
  assert_string_equal(t[0].question, "q2");
  assert_string_equal(t[1].answer, "a3");
  mx__sessions_turns_free(t, n);
  mx__sessions_free(s);
  /* bytes: 30-byte turns under a 70-byte limit keep two */
  s = make(100, 70, 60, 10);
  char q[24];
  for (int i = 0; i < 5; i++) {
    snprintf(q, sizeof q, "question%d", i); /* 9 + 21 = 30 bytes */
    assert_int_equal(mx__sessions_append(s, "b", i, q, "an answer of 21 bytes"), MX_OK);
  }
  assert_int_equal(mx__sessions_history(s, "b", 5, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 2);
  assert_string_equal(t[0].question, "question3");
  mx__sessions_turns_free(t, n);
  /* a turn larger than the limit is not kept at all */
  char big[200];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(mx__sessions_append(s, "b", 6, big, "y"), MX_OK);
  assert_int_equal(mx__sessions_history(s, "b", 7, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 0);
  mx__sessions_free(s);
}

static void test_expiry(void **state) {
  (void)state;
  mx_sessions *s = make(10, 1000, 30, 10);
  mx_session_turn *t;
  int n, expired;
  assert_int_equal(mx__sessions_append(s, "a", 100, "q", "a"), MX_OK);
  assert_int_equal(mx__sessions_history(s, "a", 129, &t, &n, &expired), MX_OK);
  assert_int_equal(n, 1);
  assert_false(expired);
  mx__sessions_turns_free(t, n);
  /* used at 100 (reading does not renew it), expired at 131 */
  assert_int_equal(mx__sessions_history(s, "a", 131, &t, &n, &expired), MX_OK);
  assert_int_equal(n, 0);
  assert_true(expired);
  size_t count;
  uint64_t ex, ev;
  mx__sessions_stats(s, &count, &ex, &ev);
  assert_int_equal(count, 0);
  assert_int_equal(ex, 1);
  /* others expire as new turns arrive, oldest first */
  assert_int_equal(mx__sessions_append(s, "b", 200, "q", "a"), MX_OK);
  assert_int_equal(mx__sessions_append(s, "c", 220, "q", "a"), MX_OK);
  assert_int_equal(mx__sessions_append(s, "d", 240, "q", "a"), MX_OK); /* b expires */
  mx__sessions_stats(s, &count, &ex, &ev);
  assert_int_equal(count, 2);
  assert_int_equal(ex, 2);
  mx__sessions_free(s);
}

static void test_lru_eviction(void **state) {
  (void)state;
  mx_sessions *s = make(10, 1000, 1e9, 3);
  char id[16];
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof id, "s%d", i);
    assert_int_equal(mx__sessions_append(s, id, i, "q", "a"), MX_OK);
  }
  assert_int_equal(mx__sessions_append(s, "s0", 10, "q", "a"), MX_OK); /* s0 used: s1 is oldest */
  assert_int_equal(mx__sessions_append(s, "s3", 11, "q", "a"), MX_OK);
  mx_session_turn *t;
  int n;
  assert_int_equal(mx__sessions_history(s, "s1", 12, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 0);
  assert_int_equal(mx__sessions_history(s, "s0", 12, &t, &n, NULL), MX_OK);
  assert_int_equal(n, 2);
  mx__sessions_turns_free(t, n);
  size_t count;
  uint64_t ex, ev;
  mx__sessions_stats(s, &count, &ex, &ev);
  assert_int_equal(count, 3);
  assert_int_equal(ev, 1);
  /* many sessions: the count never passes the bound */
  for (int i = 0; i < 5000; i++) {
    snprintf(id, sizeof id, "m%d", i);
    assert_int_equal(mx__sessions_append(s, id, 20 + i, "q", "a"), MX_OK);
  }
  mx__sessions_stats(s, &count, &ex, &ev);
  assert_int_equal(count, 3);
  mx__sessions_free(s);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_turn_and_byte_limits),
      cmocka_unit_test(test_expiry),
      cmocka_unit_test(test_lru_eviction),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
