/* Conversation memory for /v1/answer: bounded, expiring, in memory only
 * (sessions.c). Thread-safe. */
#ifndef MERX_SERVE_SESSIONS_H
#define MERX_SERVE_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "merx/error.h"

typedef struct mx_session_limits {
  int max_turns;        /* turns kept per session (oldest dropped first) */
  size_t max_bytes;     /* bytes of question + answer text kept per session */
  double ttl_seconds;   /* a session unused this long is forgotten */
  size_t max_sessions;  /* beyond this, the least recently used is evicted */
} mx_session_limits;

typedef struct mx_sessions mx_sessions;

typedef struct mx_session_turn {
  char *question, *answer;
} mx_session_turn;

int mx__sessions_create(const mx_session_limits *lim, mx_sessions **out);
void mx__sessions_set_limits(mx_sessions *s, const mx_session_limits *lim);
void mx__sessions_free(mx_sessions *s);
/* A copy of id's turns, oldest first (*turns malloc'd: mx__sessions_turns_free;
 * *n 0 when none). *expired (may be NULL) is set when the session existed
 * but had expired (it is forgotten now). now: seconds of a monotonic clock. */
int mx__sessions_history(mx_sessions *s, const char *id, double now, mx_session_turn **turns,
                        int *n, int *expired);
void mx__sessions_turns_free(mx_session_turn *t, int n);
/* Add a turn to id (creating the session), within the limits. */
int mx__sessions_append(mx_sessions *s, const char *id, double now, const char *question,
                       const char *answer);
void mx__sessions_stats(mx_sessions *s, size_t *count, uint64_t *expired, uint64_t *evicted);

#endif
