/* Internal to src/net: the content-addressed embedding cache and the parsers
 * of server answers (separate from the transfers so tests/fuzz/fuzz_json.c
 * can feed them arbitrary bytes). */
#ifndef MERX_NET_INTERNAL_H
#define MERX_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

/* The cache key of one text: "model\x1fdimensions\x1ftext" — everything that
 * determines the vector. *key is malloc'd (caller frees); *len excludes the NUL. */
int mx__embed_cache_key(const char *model, uint32_t dimensions, const char *text, char **key,
                       size_t *len);
/* Look key up in dir. Returns 1 and a malloc'd vector (*vec, *dim) on a hit,
 * 0 on a miss. A damaged entry (bad size, checksum or a different key under
 * the same hash) is a miss. */
int mx__embed_cache_get(const char *dir, const char *key, size_t len, float **vec, uint32_t *dim);
/* Store one vector; the entry appears complete or not at all (temporary file
 * + rename). */
int mx__embed_cache_put(const char *dir, const char *key, size_t len, const float *vec,
                       uint32_t dim, mx_error *err);

/* Parse and validate one embeddings answer (body: len bytes, need not be
 * NUL-terminated) for a batch of count inputs. On MX_OK, *vecs (malloc'd,
 * caller frees; NULL when count is 0) holds count x *dim finite floats, row
 * i = the entry with "index" i (or at position i when entries carry no
 * index), every row set exactly once. *dim: in = the dimension already known
 * (0: none), out = the answer's; want_dim (0: any) is the configured one. On
 * an error *vecs is NULL and err names url: MX_ENET for text that is not
 * JSON, MX_EFORMAT for a wrong shape (the server's "error.message" quoted when
 * present). */
int mx__openai_parse_embeddings(const char *url, const char *body, size_t len, size_t count,
                               uint32_t want_dim, uint32_t *dim, float **vecs, mx_error *err);
/* Parse a chat completion answer: *reply (malloc'd, caller frees) = the
 * first choice's message content. On an error *reply is NULL. */
int mx__openai_parse_chat(const char *url, const char *body, size_t len, char **reply,
                         mx_error *err);
/* A short, single-line excerpt of a server's error body for messages: at
 * most 200 bytes of body with control bytes as spaces, "..." when cut;
 * always NUL-terminated within size. */
void mx__http_error_excerpt(const char *body, size_t len, char *out, size_t size);

#endif
