/* Served decisions to the ledger in batches, with caps (ledger_queue.h).
 *
 * One lock guards the queue and the counts. A contact cap reads the
 * ledger (a read connection used only under the lock) and adds the rows
 * still pending for that user. The writer commits a batch and only then,
 * under the lock, takes its rows out of the pending counts: in between a
 * row is counted twice, never zero times, so a cap can bind early for a
 * moment but is never overshot.
 *
 * Per-offer counts are the ledger's rows up to a rowid (read at open, then
 * brought up to date at each admission whenever the ledger changed since:
 * PRAGMA data_version, then only the rows after that rowid are counted) plus
 * this queue's rows not yet committed. So a `merx run` or a second server
 * committing to the same ledger is seen by the next admission after its
 * commit; what two writers admit within one flush window, before either
 * commits, is the one overlap left (at most flush_rows / flush_seconds of
 * decisions). Our own committed rows are counted by that refresh too, and
 * leave the pending counts after their commit, as contacts do. */
#include "store/ledger_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merx/csv.h"
#include "merx/idmap.h"
#include "store/decisions.h"
#include "store/queries.h"
#include "util/util.h"

/* A decision, or (query set) a stored query: role in kind, text in record,
 * session in reason (NULL: none), source in params. */
typedef struct qrow {
  struct qrow *next;
  char *kind, *user, *record, *reason, *params, *time;
  int query;
  int64_t at; /* a query's time */
  char hash[17], sha[65]; /* "" : the queue's */
  size_t user_len, reason_len;
  int contact; /* counted in the pending contacts of user */
  int64_t offer; /* 1 + slot of the offer counted pending; 0: none */
} qrow;

struct mx_ledger_queue {
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  pthread_t writer;
  int started, stop, flush_req;
  qrow *head, *tail;
  size_t queued, in_flight;
  double oldest; /* mx__now_seconds() of the first queued row */
  uint64_t admit_seq, done_seq, batches, write_errors, refused;
  int last_rc;
  mx_error last_err;
  /* options (owned copies) */
  char *path, *run_id, *script, *script_hash, *script_sha256;
  size_t flush_rows, max_rows;
  double flush_seconds, busy_timeout;
  /* caps */
  char *contacts_kind, *offer_kind, *offer_field;
  long contacts_max, offer_default_max;
  double contacts_days;
  mx_idmap *pend_users;   /* user -> index into pend_count */
  long *pend_count;
  size_t pend_cap;
  mx_idmap *offers;       /* offer value -> index into offer_count/offer_max */
  long *offer_count;      /* in the ledger, rows up to offer_rowid */
  long *offer_pend;       /* admitted here, not yet committed */
  long *offer_max;
  size_t offer_cap;
  char *offer_since;
  int64_t offer_rowid, data_version;
  mx_decision_log *reader, *log;
};

static char *dup_or_null(const char *s) { return s ? mx__strdup(s) : NULL; }

static void free_row(qrow *r) { free(r); }

/* ---- counts */

static int64_t offer_slot(mx_ledger_queue *q, const char *v) {
  uint32_t before = mx_idmap_size(q->offers);
  int64_t i = mx_idmap_intern(q->offers, v, strlen(v));
  if (i < 0) return -1;
  if ((uint32_t)i == before) {
    if ((size_t)i >= q->offer_cap) {
      size_t nc = q->offer_cap ? q->offer_cap * 2 : 64;
      long *c = realloc(q->offer_count, nc * sizeof *c);
      if (!c) return -1;
      q->offer_count = c;
      long *p = realloc(q->offer_pend, nc * sizeof *p);
      if (!p) return -1;
      q->offer_pend = p;
      long *m = realloc(q->offer_max, nc * sizeof *m);
      if (!m) return -1;
      q->offer_max = m;
      q->offer_cap = nc;
    }
    q->offer_count[i] = 0;
    q->offer_pend[i] = 0;
    q->offer_max[i] = q->offer_default_max;
  }
  return i;
}

static int load_offer_count(void *ctx, const char *value, long count) {
  mx_ledger_queue *q = ctx;
  int64_t i = value ? offer_slot(q, value) : -1;
  if (i >= 0) q->offer_count[i] += count;
  return 0;
}

/* Count the ledger's offer rows committed since the last call (by anyone,
 * this queue's writer included), when the ledger changed. Under the lock. */
static int refresh_offer_counts(mx_ledger_queue *q, mx_error *err) {
  int64_t v = 0;
  int rc = mx__decisions_data_version(q->reader, &v, err);
  if (rc != MX_OK || v == q->data_version) return rc;
  int64_t upto = -1;
  if ((rc = mx__decisions_count_field(q->reader, q->offer_kind, q->offer_field, q->offer_since,
                                     q->offer_rowid, &upto, load_offer_count, q, err)) != MX_OK)
    return rc;
  if (upto > q->offer_rowid) q->offer_rowid = upto;
  q->data_version = v;
  return MX_OK;
}

static long *pending_slot(mx_ledger_queue *q, const char *user, size_t len) {
  uint32_t before = mx_idmap_size(q->pend_users);
  int64_t i = mx_idmap_intern(q->pend_users, user, len);
  if (i < 0) return NULL;
  if ((uint32_t)i == before) {
    if ((size_t)i >= q->pend_cap) {
      size_t nc = q->pend_cap ? q->pend_cap * 2 : 1024;
      long *c = realloc(q->pend_count, nc * sizeof *c);
      if (!c) return NULL;
      q->pend_count = c;
      q->pend_cap = nc;
    }
    q->pend_count[i] = 0;
  }
  return &q->pend_count[i];
}

/* ---- the writer */

static int write_batch(mx_ledger_queue *q, qrow *rows, mx_error *err) {
  int rc = MX_OK;
  if (!q->log && (rc = mx__decisions_open_wait(q->path, 1, q->busy_timeout, &q->log, err)) != MX_OK)
    return rc;
  if ((rc = mx__decisions_begin(q->log, err)) != MX_OK) return rc;
  char run_id[96], now[32];
  snprintf(run_id, sizeof run_id, "%s-b%llu", q->run_id, (unsigned long long)q->batches + 1);
  mx_format_time((int64_t)time(NULL), 0, now, sizeof now);
  const char *first_time = NULL;
  long decisions = 0;
  for (qrow *r = rows; r && rc == MX_OK; r = r->next) {
    if (r->query) {
      mx_query_row qr = {r->at, r->params, r->user, r->reason, r->kind, r->record};
      rc = mx__queries_add(q->log, &qr, 1, err);
      continue;
    }
    if (!first_time) first_time = r->time;
    decisions++;
    mx_decision_row row = {run_id, q->script, r->hash[0] ? r->hash : q->script_hash,
                           r->params ? r->params : "{}",
                           r->time, now, r->kind, r->user, r->record, r->reason,
                           r->user_len, 0, r->reason_len};
    if (row.user && row.user_len == 0) row.user = "";
    if (row.reason_len == 0) row.reason = "";
    rc = mx__decisions_add(q->log, &row, err);
  }
  if (rc == MX_OK && decisions > 0) { /* lineage of the batch's decisions */
    const qrow *d = rows;
    while (d->query) d = d->next;
    const char *sha = d->sha[0] ? d->sha : q->script_sha256;
    mx_ledger_commit c = {run_id, MERX_VERSION, q->script, sha, "{}", first_time,
                          now, decisions, 0, NULL};
    rc = mx__decisions_add_commit(q->log, &c, err);
  }
  if (rc == MX_OK) rc = mx__decisions_commit(q->log, err);
  if (rc != MX_OK) {
    mx__decisions_rollback(q->log);
    mx__decisions_close(q->log); /* reopen next time: the file may have been the trouble */
    q->log = NULL;
  }
  return rc;
}

static void *writer_main(void *arg) {
  mx_ledger_queue *q = arg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    /* wait for a full batch, the oldest row's deadline, a flush or the stop */
    while (!q->stop && !q->flush_req && q->queued < q->flush_rows) {
      if (q->queued == 0) {
        pthread_cond_wait(&q->wake, &q->mu);
        continue;
      }
      double due = q->oldest + q->flush_seconds;
      if (mx__now_seconds() >= due) break;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      double wait = due - mx__now_seconds();
      if (wait < 0) wait = 0;
      ts.tv_sec += (time_t)wait;
      ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&q->wake, &q->mu, &ts);
    }
    if (q->queued == 0) {
      q->flush_req = 0;
      pthread_cond_broadcast(&q->done);
      if (q->stop) break;
      continue;
    }
    qrow *batch = q->head;
    size_t n = q->queued;
    q->head = q->tail = NULL;
    q->queued = 0;
    q->in_flight = n;
    pthread_mutex_unlock(&q->mu);
    mx_error err;
    mx_error_clear(&err);
    int rc = write_batch(q, batch, &err);
    pthread_mutex_lock(&q->mu);
    q->in_flight = 0;
    if (rc == MX_OK || q->stop) {
      /* written (or, stopping, given up: the rows are lost and counted) */
      for (qrow *r = batch, *next; r; r = next) {
        next = r->next;
        if (r->contact) {
          long *c = pending_slot(q, r->user, r->user_len);
          if (c && *c > 0) (*c)--;
        }
        if (r->offer && q->offer_pend[r->offer - 1] > 0) q->offer_pend[r->offer - 1]--;
        free_row(r);
      }
      q->done_seq += n;
      if (rc == MX_OK) q->batches++;
    } else {
      /* keep them, first in line, and try again after a pause */
      qrow *last = batch;
      while (last->next) last = last->next;
      last->next = q->head;
      q->head = batch;
      if (!q->tail) q->tail = last;
      q->queued += n;
      q->oldest = mx__now_seconds();
    }
    if (rc != MX_OK) {
      q->write_errors++;
      q->last_rc = rc;
      q->last_err = err;
    } else {
      q->last_rc = MX_OK;
    }
    if (q->queued == 0 && q->in_flight == 0 && mx_idmap_size(q->pend_users) > 4096) {
      /* nothing pending: forget the users seen, so the map stays small */
      mx_idmap *fresh = mx_idmap_create();
      if (fresh) {
        mx_idmap_free(q->pend_users);
        q->pend_users = fresh;
      }
    }
    pthread_cond_broadcast(&q->done);
    if (rc != MX_OK && !q->stop) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 100000000L; /* 0.1 s */
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&q->wake, &q->mu, &ts);
    }
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

/* ---- open / admit / flush / close */

static void queue_free(mx_ledger_queue *q) {
  for (qrow *r = q->head, *next; r; r = next) {
    next = r->next;
    free_row(r);
  }
  mx__decisions_close(q->reader);
  mx__decisions_close(q->log);
  mx_idmap_free(q->pend_users);
  mx_idmap_free(q->offers);
  free(q->pend_count);
  free(q->offer_count);
  free(q->offer_pend);
  free(q->offer_max);
  free(q->offer_since);
  free(q->path);
  free(q->run_id);
  free(q->script);
  free(q->script_hash);
  free(q->script_sha256);
  free(q->contacts_kind);
  free(q->offer_kind);
  free(q->offer_field);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->wake);
  pthread_cond_destroy(&q->done);
  free(q);
}

int mx__ledger_queue_open(const mx_ledger_queue_options *opt, mx_ledger_queue **out, mx_error *err) {
  *out = NULL;
  mx_ledger_queue *q = calloc(1, sizeof *q);
  if (!q) return mx_error_set(err, MX_ENOMEM, "out of memory");
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->wake, NULL);
  pthread_cond_init(&q->done, NULL);
  const mx_ledger_caps *c = &opt->caps;
  q->flush_rows = opt->flush_rows ? opt->flush_rows : 256;
  q->max_rows = opt->max_rows ? opt->max_rows : 65536;
  q->flush_seconds = opt->flush_seconds > 0 ? opt->flush_seconds : 0.05;
  q->busy_timeout = opt->busy_timeout > 0 ? opt->busy_timeout : 10;
  q->contacts_max = c->contacts_max;
  q->contacts_days = c->contacts_days;
  q->offer_default_max = c->offer_kind ? c->offer_default_max : -1;
  q->path = dup_or_null(opt->ledger_path);
  q->run_id = mx__strdup(opt->run_id ? opt->run_id : "serve");
  q->script = mx__strdup(opt->script ? opt->script : "(serve)");
  q->script_hash = mx__strdup(opt->script_hash ? opt->script_hash : "");
  q->script_sha256 = mx__strdup(opt->script_sha256 ? opt->script_sha256 : "");
  q->contacts_kind = dup_or_null(c->contacts_kind);
  q->offer_kind = dup_or_null(c->offer_kind);
  q->offer_field = mx__strdup(c->offer_field ? c->offer_field : "offer");
  q->offer_since = dup_or_null(c->offer_since);
  q->pend_users = mx_idmap_create();
  q->offers = mx_idmap_create();
  int rc = MX_OK;
  if (!q->path || !q->run_id || !q->script || !q->script_hash || !q->script_sha256 ||
      !q->offer_field || !q->pend_users || !q->offers ||
      (c->contacts_kind && !q->contacts_kind) || (c->offer_kind && !q->offer_kind) ||
      (c->offer_since && !q->offer_since)) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  if ((rc = mx__decisions_open_wait(q->path, 1, q->busy_timeout, &q->reader, err)) != MX_OK) goto fail;
  if (q->offer_kind) {
    for (int i = 0; i < c->n_offers; i++) {
      int64_t s = offer_slot(q, c->offer_ids[i]);
      if (s < 0) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      q->offer_max[s] = c->offer_max[i];
    }
    q->data_version = -1;
    if ((rc = refresh_offer_counts(q, err)) != MX_OK) goto fail;
  }
  if (pthread_create(&q->writer, NULL, writer_main, q) != 0) {
    rc = mx_error_set(err, MX_ENOMEM, "cannot start the ledger writer: %s", strerror(errno));
    goto fail;
  }
  q->started = 1;
  *out = q;
  return MX_OK;
fail:
  queue_free(q);
  return rc;
}

static qrow *make_row(const mx_queued_decision *d, const char *when) {
  size_t lk = strlen(d->kind) + 1, lu = d->user ? d->user_len + 1 : 0,
         lr = strlen(d->record_json) + 1, ls = d->reason_len + 1,
         lp = d->params ? strlen(d->params) + 1 : 0, lt = strlen(when) + 1;
  qrow *r = malloc(sizeof *r + lk + lu + lr + ls + lp + lt);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  char *p = (char *)(r + 1);
  r->kind = memcpy(p, d->kind, lk), p += lk;
  if (d->user) {
    r->user = memcpy(p, d->user, d->user_len), p += lu;
    r->user[d->user_len] = '\0';
    r->user_len = d->user_len;
  }
  r->record = memcpy(p, d->record_json, lr), p += lr;
  r->reason = memcpy(p, d->reason ? d->reason : "", d->reason_len), p += ls;
  r->reason[d->reason_len] = '\0';
  r->reason_len = d->reason_len;
  if (d->params) r->params = memcpy(p, d->params, lp), p += lp;
  r->time = memcpy(p, when, lt);
  snprintf(r->hash, sizeof r->hash, "%s", d->script_hash ? d->script_hash : "");
  snprintf(r->sha, sizeof r->sha, "%s", d->script_sha256 ? d->script_sha256 : "");
  return r;
}

/* Append made rows (under the lock). */
static void enqueue(mx_ledger_queue *q, qrow *r) {
  if (q->queued == 0) q->oldest = mx__now_seconds();
  if (q->tail) q->tail->next = r;
  else q->head = r;
  q->tail = r;
  q->queued++;
  q->admit_seq++;
}

/* After an admission that found `before` rows queued: an idle writer waits
 * without a deadline, so it is woken by the rows that end its idleness
 * (however many one call brought) and by a full batch. */
static void wake_writer(mx_ledger_queue *q, size_t before) {
  if ((before == 0 && q->queued > 0) || q->queued >= q->flush_rows) pthread_cond_signal(&q->wake);
}

static int queue_full(mx_ledger_queue *q, size_t n, mx_error *err) {
  if (q->queued + q->in_flight + n <= q->max_rows) return MX_OK;
  return mx_error_set(err, MX_ELIMIT, "the ledger queue is full (%zu rows not yet written%s%s)",
                      q->queued + q->in_flight, q->last_rc ? ": " : "",
                      q->last_rc ? q->last_err.message : "");
}

int mx__ledger_queue_admit_queries(mx_ledger_queue *q, const mx_query_row *rows, size_t n,
                                  mx_error *err) {
  qrow **made = calloc(n ? n : 1, sizeof *made);
  int rc = made ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == MX_OK; i++) {
    const mx_query_row *r = &rows[i];
    mx_queued_decision d = {r->role, r->user, r->user ? strlen(r->user) : 0, r->text,
                            r->session, r->session ? strlen(r->session) : 0, NULL, r->source,
                            NULL, NULL};
    if (!(made[i] = make_row(&d, ""))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else {
      made[i]->query = 1;
      made[i]->at = r->at;
      if (!r->session) made[i]->reason = NULL;
    }
  }
  pthread_mutex_lock(&q->mu);
  size_t before = q->queued;
  if (rc == MX_OK) rc = queue_full(q, n, err);
  for (size_t i = 0; i < n && rc == MX_OK; i++) {
    enqueue(q, made[i]);
    made[i] = NULL;
  }
  if (rc == MX_OK) wake_writer(q, before);
  pthread_mutex_unlock(&q->mu);
  for (size_t i = 0; made && i < n; i++) free_row(made[i]);
  free(made);
  return rc;
}

int mx__ledger_queue_admit(mx_ledger_queue *q, const mx_queued_decision *rows, size_t n,
                          int64_t now, const char **refused, mx_error *err) {
  for (size_t i = 0; i < n; i++) refused[i] = NULL;
  if (n == 0) return MX_OK;
  char when[32], since[32];
  mx_format_time(now, 0, when, sizeof when);
  mx_format_time(now - (int64_t)(q->contacts_days * 86400.0), 0, since, sizeof since);
  qrow **made = calloc(n, sizeof *made);
  if (!made) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = MX_OK;
  for (size_t i = 0; i < n && rc == MX_OK; i++)
    if (!(made[i] = make_row(&rows[i], when))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  pthread_mutex_lock(&q->mu);
  size_t before = q->queued;
  if (rc == MX_OK) rc = queue_full(q, n, err);
  /* decide every row first (counting the earlier ones), then queue them */
  long *offer_taken = NULL;
  if (rc == MX_OK && q->offer_kind && !(offer_taken = calloc(n, sizeof *offer_taken)))
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  if (rc == MX_OK && q->offer_kind) rc = refresh_offer_counts(q, err);
  for (size_t i = 0; i < n && rc == MX_OK; i++) {
    const mx_queued_decision *d = &rows[i];
    if (q->contacts_kind && d->user && strcmp(d->kind, q->contacts_kind) == 0) {
      long in_ledger = 0;
      if ((rc = mx__decisions_count_user(q->reader, q->contacts_kind, d->user, d->user_len, since,
                                        &in_ledger, err)) != MX_OK)
        break;
      long *pend = pending_slot(q, d->user, d->user_len);
      if (!pend) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      long earlier = 0; /* accepted rows of this request for the same user */
      for (size_t j = 0; j < i; j++)
        if (!refused[j] && made[j]->contact && made[j]->user_len == d->user_len &&
            memcmp(made[j]->user, d->user, d->user_len) == 0)
          earlier++;
      if (in_ledger + *pend + earlier >= q->contacts_max) {
        refused[i] = "contact cap reached for this user";
        continue;
      }
      made[i]->contact = 1;
    }
    if (q->offer_kind && d->offer && strcmp(d->kind, q->offer_kind) == 0) {
      int64_t s = offer_slot(q, d->offer);
      if (s < 0) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        break;
      }
      long taken = 0;
      for (size_t j = 0; j < i; j++) taken += !refused[j] && offer_taken[j] == s + 1;
      if (q->offer_max[s] >= 0 && q->offer_count[s] + q->offer_pend[s] + taken >= q->offer_max[s]) {
        refused[i] = "offer cap reached";
        made[i]->contact = 0;
        continue;
      }
      offer_taken[i] = s + 1;
    }
  }
  if (rc == MX_OK) {
    for (size_t i = 0; i < n; i++) {
      if (refused[i]) {
        q->refused++;
        free_row(made[i]);
        made[i] = NULL;
        continue;
      }
      if (made[i]->contact) (*pending_slot(q, made[i]->user, made[i]->user_len))++;
      if (offer_taken && offer_taken[i]) {
        q->offer_pend[offer_taken[i] - 1]++;
        made[i]->offer = offer_taken[i];
      }
      enqueue(q, made[i]);
      made[i] = NULL;
    }
    wake_writer(q, before);
  }
  pthread_mutex_unlock(&q->mu);
  for (size_t i = 0; i < n; i++) free_row(made[i]);
  free(made);
  free(offer_taken);
  return rc;
}

int mx__ledger_queue_flush(mx_ledger_queue *q, mx_error *err) {
  pthread_mutex_lock(&q->mu);
  uint64_t target = q->admit_seq;
  uint64_t errors = q->write_errors;
  int rc = MX_OK;
  while (q->done_seq < target) {
    q->flush_req = 1;
    pthread_cond_signal(&q->wake);
    pthread_cond_wait(&q->done, &q->mu);
    if (q->write_errors != errors) {
      rc = q->last_rc;
      if (err) *err = q->last_err;
      break;
    }
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void mx__ledger_queue_stats_get(mx_ledger_queue *q, mx_ledger_queue_stats *s) {
  pthread_mutex_lock(&q->mu);
  s->admitted = q->admit_seq;
  s->refused = q->refused;
  s->written = q->done_seq;
  s->batches = q->batches;
  s->write_errors = q->write_errors;
  s->queued = q->queued + q->in_flight;
  pthread_mutex_unlock(&q->mu);
}

int mx__ledger_queue_close(mx_ledger_queue *q, mx_error *err) {
  if (!q) return MX_OK;
  int rc = mx__ledger_queue_flush(q, err);
  pthread_mutex_lock(&q->mu);
  q->stop = 1;
  pthread_cond_signal(&q->wake);
  pthread_mutex_unlock(&q->mu);
  if (q->started) pthread_join(q->writer, NULL);
  if (rc == MX_OK && q->last_rc != MX_OK) {
    rc = q->last_rc;
    if (err) *err = q->last_err;
  }
  queue_free(q);
  return rc;
}
