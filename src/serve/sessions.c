/* Conversation memory of /v1/answer (serve/sessions.h): per session id, the
 * last turns (question, answer) within a turn and byte limit, forgotten
 * after ttl seconds without use, at most max_sessions of them (the least
 * recently used is evicted first). Memory only: nothing is written to disk.
 * Bounded: max_sessions x (max_bytes + bookkeeping). One lock; lookups by a
 * chained hash table keyed by mx_hash64 of the id. */
#include "serve/sessions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

typedef struct turn {
  struct turn *next;
  char *question, *answer;
  size_t bytes;
} turn;

typedef struct session {
  struct session *hnext;          /* hash chain */
  struct session *prev, *next;    /* LRU list, most recent first */
  char *id;
  uint64_t hash;
  turn *first, *last;             /* oldest first */
  int n_turns;
  size_t bytes;
  double used;
} session;

struct mx_sessions {
  pthread_mutex_t lock;
  session **buckets;
  size_t n_buckets, count;
  session *head, *tail;
  mx_session_limits lim;
  uint64_t expired, evicted;
};

static void free_turn(turn *t) {
  free(t->question);
  free(t->answer);
  free(t);
}

static void unlink_lru(mx_sessions *s, session *e) {
  if (e->prev) e->prev->next = e->next;
  else s->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else s->tail = e->prev;
  e->prev = e->next = NULL;
}

static void push_front(mx_sessions *s, session *e) {
  e->next = s->head;
  e->prev = NULL;
  if (s->head) s->head->prev = e;
  s->head = e;
  if (!s->tail) s->tail = e;
}

static void drop(mx_sessions *s, session *e) {
  session **p = &s->buckets[e->hash & (s->n_buckets - 1)];
  while (*p != e) p = &(*p)->hnext;
  *p = e->hnext;
  unlink_lru(s, e);
  for (turn *t = e->first, *n; t; t = n) {
    n = t->next;
    free_turn(t);
  }
  free(e->id);
  free(e);
  s->count--;
}

static session *find(mx_sessions *s, const char *id, uint64_t h) {
  for (session *e = s->buckets[h & (s->n_buckets - 1)]; e; e = e->hnext)
    if (e->hash == h && strcmp(e->id, id) == 0) return e;
  return NULL;
}

/* Forget sessions unused for ttl (the LRU tail is the oldest). */
static void expire(mx_sessions *s, double now) {
  while (s->tail && now - s->tail->used > s->lim.ttl_seconds) {
    drop(s, s->tail);
    s->expired++;
  }
}

int mx__sessions_create(const mx_session_limits *lim, mx_sessions **out) {
  *out = NULL;
  mx_sessions *s = calloc(1, sizeof *s);
  if (!s) return MX_ENOMEM;
  s->n_buckets = 1024;
  while (s->n_buckets < lim->max_sessions && s->n_buckets < ((size_t)1 << 24)) s->n_buckets <<= 1;
  if (!(s->buckets = calloc(s->n_buckets, sizeof *s->buckets))) {
    free(s);
    return MX_ENOMEM;
  }
  s->lim = *lim;
  pthread_mutex_init(&s->lock, NULL);
  *out = s;
  return MX_OK;
}

void mx__sessions_set_limits(mx_sessions *s, const mx_session_limits *lim) {
  pthread_mutex_lock(&s->lock);
  s->lim = *lim;
  pthread_mutex_unlock(&s->lock);
}

void mx__sessions_free(mx_sessions *s) {
  if (!s) return;
  while (s->head) drop(s, s->head);
  free(s->buckets);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

int mx__sessions_history(mx_sessions *s, const char *id, double now, mx_session_turn **turns,
                        int *n, int *expired) {
  *turns = NULL;
  *n = 0;
  if (expired) *expired = 0;
  uint64_t h = mx_hash64(id, strlen(id), 0x5e55);
  pthread_mutex_lock(&s->lock);
  session *e = find(s, id, h);
  if (e && now - e->used > s->lim.ttl_seconds) {
    drop(s, e);
    s->expired++;
    e = NULL;
    if (expired) *expired = 1;
  }
  int rc = MX_OK;
  if (e && e->n_turns > 0) {
    mx_session_turn *t = calloc((size_t)e->n_turns, sizeof *t);
    int k = 0;
    for (turn *x = e->first; t && x; x = x->next, k++) {
      t[k].question = mx__strdup(x->question);
      t[k].answer = mx__strdup(x->answer);
      if (!t[k].question || !t[k].answer) {
        mx__sessions_turns_free(t, k + 1);
        t = NULL;
      }
    }
    if (t) {
      *turns = t;
      *n = e->n_turns;
    } else {
      rc = MX_ENOMEM;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return rc;
}

void mx__sessions_turns_free(mx_session_turn *t, int n) {
  for (int i = 0; t && i < n; i++) {
    free(t[i].question);
    free(t[i].answer);
  }
  free(t);
}

int mx__sessions_append(mx_sessions *s, const char *id, double now, const char *question,
                       const char *answer) {
  uint64_t h = mx_hash64(id, strlen(id), 0x5e55);
  turn *t = calloc(1, sizeof *t);
  if (!t) return MX_ENOMEM;
  t->question = mx__strdup(question);
  t->answer = mx__strdup(answer);
  if (!t->question || !t->answer) {
    free_turn(t);
    return MX_ENOMEM;
  }
  t->bytes = strlen(question) + strlen(answer);
  pthread_mutex_lock(&s->lock);
  expire(s, now);
  session *e = find(s, id, h);
  if (!e) {
    e = calloc(1, sizeof *e);
    if (!e || !(e->id = mx__strdup(id))) {
      free(e);
      pthread_mutex_unlock(&s->lock);
      free_turn(t);
      return MX_ENOMEM;
    }
    e->hash = h;
    e->hnext = s->buckets[h & (s->n_buckets - 1)];
    s->buckets[h & (s->n_buckets - 1)] = e;
    s->count++;
  } else {
    unlink_lru(s, e);
  }
  push_front(s, e);
  e->used = now;
  if (e->last) e->last->next = t;
  else e->first = t;
  e->last = t;
  e->n_turns++;
  e->bytes += t->bytes;
  /* keep the newest turns within the limits (a single turn over the byte
   * limit is not kept at all: memory stays bounded) */
  while (e->first && (e->n_turns > s->lim.max_turns || e->bytes > s->lim.max_bytes)) {
    turn *old = e->first;
    e->first = old->next;
    if (!e->first) e->last = NULL;
    e->n_turns--;
    e->bytes -= old->bytes;
    free_turn(old);
  }
  while (s->count > s->lim.max_sessions && s->tail) {
    drop(s, s->tail);
    s->evicted++;
  }
  pthread_mutex_unlock(&s->lock);
  return MX_OK;
}

void mx__sessions_stats(mx_sessions *s, size_t *count, uint64_t *expired, uint64_t *evicted) {
  pthread_mutex_lock(&s->lock);
  *count = s->count;
  *expired = s->expired;
  *evicted = s->evicted;
  pthread_mutex_unlock(&s->lock);
}
