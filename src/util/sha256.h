/* SHA-256 digests (FIPS 180-4): run outputs, the script and input files of a
 * committed run (its lineage), and the HMAC of pseudonyms (pseudonym.h).
 * The compression is libcrypto's (SHA-NI or AVX2 where the CPU has them). */
#ifndef MERX_UTIL_SHA256_H
#define MERX_UTIL_SHA256_H
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

/* A plain value: copying it forks the hash (the HMAC key states are copied
 * per id), and copies may be used from different threads. */
typedef struct {
  SHA256_CTX ctx; /* libcrypto's state */
  uint64_t len;   /* bytes hashed */
} mx_sha256;

void mx__sha256_init(mx_sha256 *s);
void mx__sha256_update(mx_sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest. */
void mx__sha256_final(mx_sha256 *s, unsigned char out[32]);
/* Finish and write 64 lowercase hex digits + NUL. */
void mx__sha256_hex(mx_sha256 *s, char out[65]);
/* Digest of a whole file; 0 or -1 (unreadable). *bytes = its size (may be NULL). */
int mx__sha256_file(const char *path, char out[65], uint64_t *bytes);
#endif
