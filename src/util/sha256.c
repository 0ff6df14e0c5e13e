/* SHA-256 (FIPS 180-4) over libcrypto's compression function, for the
 * digests of committed run outputs (an operator checks them with
 * `sha256sum`) and the HMAC of pseudonyms, where it is the cost of keyed
 * ingest: libcrypto picks SHA-NI or AVX2 code at run time, several times
 * faster than portable C.
 *
 * The low-level SHA256_* calls are OpenSSL 3's deprecated API, chosen on
 * purpose: their state is a plain struct that a pseudonym copies (the HMAC
 * key's inner and outer states, pseudonym.c) without an allocation, where
 * EVP_MD_CTX_copy_ex allocates per copy. OPENSSL_API_COMPAT keeps them
 * declared without the deprecation warning, in this file only. */
#define OPENSSL_API_COMPAT 10101
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/sha256.h"

void mx__sha256_init(mx_sha256 *s) {
  SHA256_Init(&s->ctx);
  s->len = 0;
}

void mx__sha256_update(mx_sha256 *s, const void *data, size_t len) {
  SHA256_Update(&s->ctx, data, len);
  s->len += len;
}

void mx__sha256_final(mx_sha256 *s, unsigned char out[32]) { SHA256_Final(out, &s->ctx); }

void mx__sha256_hex(mx_sha256 *s, char out[65]) {
  unsigned char d[32];
  mx__sha256_final(s, d);
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[64] = 0;
}

int mx__sha256_file(const char *path, char out[65], uint64_t *bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  mx_sha256 s;
  mx__sha256_init(&s);
  unsigned char buf[65536];
  size_t r;
  while ((r = fread(buf, 1, sizeof buf, f)) > 0) mx__sha256_update(&s, buf, r);
  int bad = ferror(f);
  fclose(f);
  if (bad) return -1;
  if (bytes) *bytes = s.len;
  mx__sha256_hex(&s, out);
  return 0;
}
