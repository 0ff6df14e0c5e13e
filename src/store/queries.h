/* Stored search queries and chat turns (minimum data, PRIVACY.md): kept only
 * when the store's policy says `store_queries = yes`, in the ledger's
 * `queries` table (created by the first row, so a store that never keeps a
 * query has no such table):
 *
 *   queries(id, at, source, user, session, role, text)
 *
 * at is the wall clock (ISO 8601 UTC) when the query was asked; source the
 * command or route ("search", "serve/search", "serve/answer"); user the
 * asker's id as the caller gives it (a pseudonym with a store key:
 * mx__pseudonym_user) or NULL; session /v1/answer's session id or NULL; role
 * "query", "question" or "answer". Text and session pass through
 * mx__redact_personal (e-mail addresses and phone numbers become [email] /
 * [phone]) here, the one place that writes them. They obey retention
 * (`retain_queries_days`, retention.h) and erasure (forget.h). */
#ifndef MERX_STORE_QUERIES_H
#define MERX_STORE_QUERIES_H

#include <stdint.h>

#include "merx/error.h"
#include "store/decisions.h"

typedef struct mx_query_row {
  int64_t at;        /* epoch seconds */
  const char *source, *user, *session, *role, *text; /* user, session may be NULL */
} mx_query_row;

/* Insert rows (inside mx__decisions_begin/commit), redacted. */
int mx__queries_add(mx_decision_log *log, const mx_query_row *rows, size_t n, mx_error *err);

/* Open (creating) the store's ledger and add rows in one transaction: for a
 * command that asks a few queries (merx search). */
int mx__queries_store(const char *dir, const mx_query_row *rows, size_t n, mx_error *err);

#endif
