/* Served decisions on their way to the ledger: a bounded queue drained by
 * one writer thread in batches (every flush_rows rows or flush_seconds,
 * and on flush/close), with caps enforced at admission against the ledger
 * plus what is queued, under one lock, so concurrent requests cannot
 * overshoot a cap.
 *
 * Caps keep the meaning they have in batch runs (lua/merx/campaign.lua):
 *  - contacts: at most `max` decisions of `kind` per user over the last
 *    `days` days (campaign:cap{contacts = {max, days, kind}}), counted in
 *    the ledger (this server's and any other run's rows) plus this queue;
 *  - per offer: at most N decisions of `kind` whose record field `field`
 *    (default "offer") has a given value, since `since` (ISO date; NULL:
 *    ever) — the offer's stock, as campaign:cap{per_offer = {id = n}},
 *    counted in the ledger (brought up to date at each admission after any
 *    commit to it, by this server, another server or a batch run) plus this
 *    queue. Two writers admitting within one flush window, before either
 *    commits, can still overlap by what they admit in it.
 *
 * What a crash loses: rows admitted but not yet written — at most
 * flush_rows rows or flush_seconds of decisions (more while the ledger is
 * locked or failing: rows then stay queued, up to max_rows, and admission
 * fails with MX_ELIMIT once the queue is full). A row counts against caps
 * from admission, so a lost row only ever made the caps stricter. */
#ifndef MERX_STORE_LEDGER_QUEUE_H
#define MERX_STORE_LEDGER_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "merx/error.h"

typedef struct mx_ledger_caps {
  const char *contacts_kind; /* NULL: no contact cap */
  long contacts_max;
  double contacts_days;
  const char *offer_kind;    /* NULL: no per-offer cap */
  const char *offer_field;   /* NULL: "offer" */
  const char *offer_since;   /* ISO 8601; NULL: ever */
  int n_offers;
  const char *const *offer_ids;
  const long *offer_max;
  long offer_default_max;    /* other values; < 0: uncapped */
} mx_ledger_caps;

typedef struct mx_ledger_queue_options {
  const char *ledger_path;
  size_t flush_rows;       /* default 256 */
  double flush_seconds;    /* default 0.05 */
  size_t max_rows;         /* bound of the queue; default 65536 */
  double busy_timeout;     /* seconds a batch waits for the ledger's lock; default 10 */
  /* lineage of the rows (borrowed; copied at open) */
  const char *run_id;      /* each batch commits as RUN_ID-bN */
  const char *script;
  const char *script_hash;
  const char *script_sha256;
  mx_ledger_caps caps;
} mx_ledger_queue_options;

typedef struct mx_ledger_queue mx_ledger_queue;

/* One decision of a request (strings borrowed for the call). */
typedef struct mx_queued_decision {
  const char *kind;
  const char *user;   /* NULL: none */
  size_t user_len;
  const char *record_json;
  const char *reason;
  size_t reason_len;
  const char *offer;  /* the value of the caps' offer field, or NULL */
  const char *params; /* JSON object (e.g. {"function": NAME}); NULL: {} */
  /* lineage of this row (the script may change on a reload); NULL: the queue's */
  const char *script_hash;   /* 16 hex digits, as merx run writes it */
  const char *script_sha256;
} mx_queued_decision;

/* Create the ledger when missing, read the per-offer counts and start the
 * writer. *out owned by the caller (mx__ledger_queue_close). */
int mx__ledger_queue_open(const mx_ledger_queue_options *opt, mx_ledger_queue **out, mx_error *err);

/* Admit a request's decisions at time now (epoch seconds): each one under
 * the caps, counting the ones before it. refused[i] is NULL when rows[i]
 * was queued, else a static text naming the cap. MX_ELIMIT (nothing
 * queued) when the queue is full; MX_EIO when the ledger cannot be read. */
int mx__ledger_queue_admit(mx_ledger_queue *q, const mx_queued_decision *rows, size_t n,
                          int64_t now, const char **refused, mx_error *err);

/* Stored queries (store/queries.h) on their way to the ledger in the same
 * batches, without caps (rows borrowed for the call; text redacted when
 * written). MX_ELIMIT (nothing queued) when the queue is full. */
struct mx_query_row;
int mx__ledger_queue_admit_queries(mx_ledger_queue *q, const struct mx_query_row *rows, size_t n,
                                  mx_error *err);

/* Wait until every row admitted so far is written (or the writer failed:
 * its error). */
int mx__ledger_queue_flush(mx_ledger_queue *q, mx_error *err);

typedef struct mx_ledger_queue_stats {
  uint64_t admitted, refused, written, batches, write_errors;
  size_t queued;
} mx_ledger_queue_stats;
void mx__ledger_queue_stats_get(mx_ledger_queue *q, mx_ledger_queue_stats *s);

/* Flush, stop the writer and free. Returns the flush's status; accepts NULL. */
int mx__ledger_queue_close(mx_ledger_queue *q, mx_error *err);

#endif
