/* Keyed pseudonyms of user ids: HMAC-SHA256 (RFC 2104, FIPS 198-1) over the
 * id bytes with the store's secret key, the first 16 bytes as 32 lowercase
 * hex digits. The same key gives the same pseudonym in every run, command
 * and machine, so data pseudonymised at ingest joins with the ledger; without
 * the key a pseudonym cannot be linked back to its id (PRIVACY.md).
 *
 * The key's inner and outer SHA-256 states are computed once, so one
 * pseudonym of a short id costs two SHA-256 blocks per side. */
#ifndef MERX_UTIL_PSEUDONYM_H
#define MERX_UTIL_PSEUDONYM_H
#include <stddef.h>

#include "merx/error.h"
#include "merx/idmap.h"
#include "util/sha256.h"

#define MX_PSEUDONYM_LEN 32 /* hex digits, without the NUL */

typedef struct mx_hmac_key {
  mx_sha256 inner, outer; /* states after the padded key block */
} mx_hmac_key;

/* Prepare key (len bytes, any length). */
void mx__hmac_key_init(mx_hmac_key *k, const void *key, size_t len);
/* HMAC-SHA256 of msg under k. */
void mx__hmac_sha256(const mx_hmac_key *k, const void *msg, size_t len, unsigned char out[32]);
/* The pseudonym of id (len bytes): MX_PSEUDONYM_LEN hex digits + NUL. */
void mx__pseudonym(const mx_hmac_key *k, const char *id, size_t len,
                  char out[MX_PSEUDONYM_LEN + 1]);
/* Wipe k's derived state. */
void mx__hmac_key_clear(mx_hmac_key *k);
/* k's check value (never 0): 8 bytes of its HMAC of a fixed label. A model
 * whose user ids are pseudonyms records it (mx_model.pseudonym_key), so a
 * command holding another key refuses instead of finding nobody. It tells
 * no more about the key than any pseudonym does. */
uint64_t mx__hmac_key_check(const mx_hmac_key *k);

/* Real ids arriving at a table of pseudonyms (a model's users): check
 * holds the table's key check value (0: plain ids, nothing to do), key the
 * key at hand (NULL: none). MX_OK when ids can be looked up; MX_EINVAL with
 * a message naming what (a model file) when the table needs a key and key
 * is NULL or another key. */
int mx__pseudonym_key_match(uint64_t check, const mx_hmac_key *key, const char *what,
                           mx_error *err);
/* 1 when id has a pseudonym's shape (MX_PSEUDONYM_LEN lowercase hex digits). */
int mx__pseudonym_shaped(const char *id, size_t len);
/* The id a user arriving at a keyed store is recorded under (PRIVACY.md):
 * id itself when key is NULL or id already has a pseudonym's shape (it is
 * taken for one, never hashed again: a client may send the pseudonym an
 * export gave it), else its pseudonym, written to out. The one rule for
 * merx.emit's user, /v1/decide's args.user and stored queries' users. */
const char *mx__pseudonym_user(const mx_hmac_key *key, const char *id, size_t len,
                              char out[MX_PSEUDONYM_LEN + 1]);
/* Index of id (len bytes) in ids, a table of pseudonyms of key: the id as
 * given (already a pseudonym), else its pseudonym's; -1 when neither. key
 * NULL: the id as given only. A real id equal to another person's pseudonym
 * would need a 128-bit collision. Thread-safe (k is only read). */
int64_t mx__pseudonym_find(const mx_idmap *ids, const mx_hmac_key *key, const char *id,
                          size_t len);

/* Pseudonyms of many ids with each distinct id hashed once (ingest of a file
 * where a customer has many rows). Holds raw ids in memory only. */
typedef struct mx_pseudonymiser mx_pseudonymiser;
/* Copies key; NULL when out of memory. */
mx_pseudonymiser *mx__pseudonymiser_create(const mx_hmac_key *key);
/* Wipes and frees; accepts NULL. */
void mx__pseudonymiser_free(mx_pseudonymiser *p);
/* The pseudonym of id (NUL-terminated, MX_PSEUDONYM_LEN bytes), borrowed until
 * the next call; NULL when out of memory. */
const char *mx__pseudonymise(mx_pseudonymiser *p, const char *id, size_t len);
/* The same as an mx_ingest_options user_rewrite callback (ctx: the
 * pseudonymiser), without the memo: the dataset loader calls it once per
 * distinct id. */
const char *mx__pseudonymise_rewrite(void *ctx, const char *id, size_t len, size_t *out_len);
/* The same with the memo (mx__pseudonymise), for readers that call it per row. */
const char *mx__pseudonymise_rewrite_rows(void *ctx, const char *id, size_t len, size_t *out_len);
/* Row-by-row readers mapping ids to a table of pseudonyms (a test file
 * against a model's users): a user_rewrite callback (ctx: this) that keeps
 * an id found in ids as given and replaces another by its pseudonym, hashed
 * once per distinct id (p's memo). p NULL (no key): ids stay as given, and a
 * missing one not of a pseudonym's shape sets needs_key. */
typedef struct mx_pseudonym_lookup {
  const mx_idmap *ids;
  mx_pseudonymiser *p;
  int needs_key;
} mx_pseudonym_lookup;
const char *mx__pseudonym_lookup_rewrite(void *ctx, const char *id, size_t len, size_t *out_len);
/* The key p hashes with (borrowed). */
const mx_hmac_key *mx__pseudonymiser_key(const mx_pseudonymiser *p);
/* mx_id_list_read (merx/idlist.h) for a map of pseudonyms (a model's users
 * whose key check value is check, PRIVACY.md): an id not found as given is
 * looked up as its pseudonym under key; with key NULL, such an id that is not
 * of a pseudonym's shape fails with MX_EINVAL (the key is needed). */
struct mx_id_list_stats;
int mx__id_list_read_keyed(const char *path, const mx_idmap *map, uint64_t check,
                          const mx_hmac_key *key, const char *what, int fail_unknown,
                          uint32_t **out, uint32_t *n, struct mx_id_list_stats *st, mx_error *err);

#endif
