/* Keyed pseudonyms (pseudonym.h). */
#include "util/pseudonym.h"

#include <stdlib.h>
#include <string.h>

#include "merx/error.h"
#include "merx/idmap.h"

#include "util/util.h"

void mx__hmac_key_init(mx_hmac_key *k, const void *key, size_t len) {
  unsigned char block[64] = {0}, pad[64];
  if (len > sizeof block) { /* RFC 2104: longer keys are hashed first */
    mx_sha256 s;
    mx__sha256_init(&s);
    mx__sha256_update(&s, key, len);
    mx__sha256_final(&s, block);
  } else if (len) {
    memcpy(block, key, len);
  }
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  mx__sha256_init(&k->inner);
  mx__sha256_update(&k->inner, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  mx__sha256_init(&k->outer);
  mx__sha256_update(&k->outer, pad, 64);
  mx__secure_zero(block, sizeof block);
  mx__secure_zero(pad, sizeof pad);
}

void mx__hmac_sha256(const mx_hmac_key *k, const void *msg, size_t len, unsigned char out[32]) {
  mx_sha256 s = k->inner;
  unsigned char inner[32];
  mx__sha256_update(&s, msg, len);
  mx__sha256_final(&s, inner);
  s = k->outer;
  mx__sha256_update(&s, inner, sizeof inner);
  mx__sha256_final(&s, out);
}

void mx__pseudonym(const mx_hmac_key *k, const char *id, size_t len,
                  char out[MX_PSEUDONYM_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char d[32];
  mx__hmac_sha256(k, id, len, d);
  for (int i = 0; i < MX_PSEUDONYM_LEN / 2; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[MX_PSEUDONYM_LEN] = 0;
}

void mx__hmac_key_clear(mx_hmac_key *k) { mx__secure_zero(k, sizeof *k); }

uint64_t mx__hmac_key_check(const mx_hmac_key *k) {
  static const char label[] = "merx store key check v1";
  unsigned char d[32];
  mx__hmac_sha256(k, label, sizeof label - 1, d);
  uint64_t c = 0;
  for (int i = 0; i < 8; i++) c = c << 8 | d[i];
  return c ? c : 1;
}

int mx__pseudonym_key_match(uint64_t check, const mx_hmac_key *key, const char *what,
                           mx_error *err) {
  if (!check) return MX_OK;
  if (!key)
    return mx_error_at(err, MX_EINVAL, what, 0, 0, NULL,
                       "its user ids are pseudonyms (trained with a store key), so a real id "
                       "must be hashed with that key: give the store (--store DIR or "
                       "MERX_STORE) or MERX_STORE_KEY");
  if (mx__hmac_key_check(key) != check)
    return mx_error_at(err, MX_EINVAL, what, 0, 0, NULL,
                       "its user ids are pseudonyms of another store key than the one given "
                       "(a different store, or the key was replaced): no id would be found");
  return MX_OK;
}

int mx__pseudonym_shaped(const char *id, size_t len) {
  if (len != MX_PSEUDONYM_LEN) return 0;
  for (size_t i = 0; i < len; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
  return 1;
}

const char *mx__pseudonym_user(const mx_hmac_key *key, const char *id, size_t len,
                              char out[MX_PSEUDONYM_LEN + 1]) {
  if (!key || mx__pseudonym_shaped(id, len)) return id;
  mx__pseudonym(key, id, len, out);
  return out;
}

int64_t mx__pseudonym_find(const mx_idmap *ids, const mx_hmac_key *key, const char *id,
                          size_t len) {
  int64_t i = mx_idmap_find(ids, id, len);
  if (i >= 0 || !key) return i;
  char p[MX_PSEUDONYM_LEN + 1];
  mx__pseudonym(key, id, len, p);
  return mx_idmap_find(ids, p, MX_PSEUDONYM_LEN);
}

struct mx_pseudonymiser {
  mx_hmac_key key;
  mx_idmap *seen; /* raw id -> index into names */
  char *names;    /* (MX_PSEUDONYM_LEN + 1) bytes per id */
  size_t cap;
  char scratch[MX_PSEUDONYM_LEN + 1]; /* mx__pseudonymise_rewrite's answer */
};

mx_pseudonymiser *mx__pseudonymiser_create(const mx_hmac_key *key) {
  mx_pseudonymiser *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->key = *key;
  if (!(p->seen = mx_idmap_create())) {
    free(p);
    return NULL;
  }
  return p;
}

void mx__pseudonymiser_free(mx_pseudonymiser *p) {
  if (!p) return;
  mx__hmac_key_clear(&p->key);
  mx_idmap_free(p->seen);
  free(p->names);
  free(p);
}

const char *mx__pseudonymise(mx_pseudonymiser *p, const char *id, size_t len) {
  enum { W = MX_PSEUDONYM_LEN + 1 };
  uint32_t before = mx_idmap_size(p->seen);
  if (before >= p->cap) { /* room first, so an interned id always has its slot */
    size_t cap = p->cap ? 2 * p->cap : 1024;
    char *n = realloc(p->names, cap * W);
    if (!n) return NULL;
    p->names = n;
    p->cap = cap;
  }
  int64_t i = mx_idmap_intern(p->seen, id, len);
  if (i < 0) return NULL;
  if ((uint32_t)i == before) mx__pseudonym(&p->key, id, len, p->names + (size_t)i * W);
  return p->names + (size_t)i * W;
}

const char *mx__pseudonym_lookup_rewrite(void *ctx, const char *id, size_t len, size_t *out_len) {
  mx_pseudonym_lookup *l = ctx;
  *out_len = len;
  if (mx_idmap_find(l->ids, id, len) >= 0) return id;
  if (!l->p) {
    if (!mx__pseudonym_shaped(id, len)) l->needs_key = 1;
    return id;
  }
  const char *p = mx__pseudonymise(l->p, id, len);
  if (p) *out_len = MX_PSEUDONYM_LEN;
  return p;
}

const char *mx__pseudonymise_rewrite_rows(void *ctx, const char *id, size_t len, size_t *out_len) {
  const char *p = mx__pseudonymise(ctx, id, len);
  *out_len = MX_PSEUDONYM_LEN;
  return p;
}

const mx_hmac_key *mx__pseudonymiser_key(const mx_pseudonymiser *p) { return &p->key; }

const char *mx__pseudonymise_rewrite(void *ctx, const char *id, size_t len, size_t *out_len) {
  /* called once per distinct id by the dataset loader: no memo to fill */
  mx_pseudonymiser *p = ctx;
  mx__pseudonym(&p->key, id, len, p->scratch);
  *out_len = MX_PSEUDONYM_LEN;
  return p->scratch;
}
