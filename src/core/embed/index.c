/* An embedding index is four files that are one unit: EMB.npy (vectors),
 * EMB.ids and EMB.texts (row order) and EMB.meta.json. They are written
 * together (mx__atomic_publish: all temporaries complete before the first
 * rename, the metadata renamed last) and the metadata carries a fingerprint
 * of the vectors and ids (and one of the texts), so a mix left by a crash
 * between renames, or files copied from different runs, is refused on load
 * instead of answering with other items' ids (issue #14.3). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/search.h"
#include "util/util.h"

void mx_embed_sidecar(const char *npy, const char *suffix, char *buf, size_t size) {
  size_t n = strlen(npy);
  if (n > 4 && strcmp(npy + n - 4, ".npy") == 0) n -= 4;
  snprintf(buf, size, "%.*s%s", (int)n, npy, suffix);
}

uint64_t mx_embed_fingerprint(const float *vec, uint64_t rows, uint64_t dim, const char *ids,
                                  size_t ids_len) {
  uint64_t h = mx_hash64(vec, (size_t)(rows * dim) * sizeof *vec, 0x6d78656d62ULL);
  return mx_hash64(ids, ids_len, h);
}

uint64_t mx_embed_texts_fingerprint(uint64_t fingerprint, const char *texts, size_t len) {
  return mx_hash64(texts, len, fingerprint);
}

/* The 16-hex-digit string of key in the metadata; 1 found, 0 absent. */
static int meta_hex(json_t *root, const char *key, uint64_t *out) {
  const char *s = json_string_value(json_object_get(root, key));
  if (!s) return 0;
  char *end;
  *out = strtoull(s, &end, 16);
  return *s && *end == '\0' ? 1 : -1;
}

int mx_embed_check(const char *npy, const float *vec, uint64_t rows, uint64_t dim,
                       mx_error *err) {
  char meta_path[1200], ids_path[1200], texts_path[1200];
  mx_embed_sidecar(npy, ".meta.json", meta_path, sizeof meta_path);
  mx_embed_sidecar(npy, ".ids", ids_path, sizeof ids_path);
  mx_embed_sidecar(npy, ".texts", texts_path, sizeof texts_path);
  json_error_t je;
  json_t *root = json_load_file(meta_path, 0, &je);
  if (!root)
    return mx_error_at(err, MX_EIO, meta_path, je.line > 0 ? je.line : 0, 0, NULL,
                       "cannot read the index metadata: %s", je.text);
  uint64_t want = 0, want_texts = 0;
  int has = meta_hex(root, "fingerprint", &want);
  int has_texts = meta_hex(root, "texts_fingerprint", &want_texts);
  json_decref(root);
  if (has < 0 || has_texts < 0)
    return mx_error_at(err, MX_EFORMAT, meta_path, 0, 0, "fingerprint", "not a hex fingerprint");
  if (has == 0) return MX_OK; /* written before fingerprints existed */
  char *buf;
  size_t len;
  int rc = mx__read_file(ids_path, &buf, &len, err);
  if (rc) return rc;
  uint64_t got = mx_embed_fingerprint(vec, rows, dim, buf, len);
  free(buf);
  const char *which = NULL;
  if (got != want) {
    which = ids_path;
  } else if (has_texts && mx__read_file(texts_path, &buf, &len, NULL) == MX_OK) {
    /* the texts are optional (search prints none without them) */
    if (mx_embed_texts_fingerprint(got, buf, len) != want_texts) which = texts_path;
    free(buf);
  }
  if (which)
    return mx_error_at(err, MX_EFORMAT, npy, 0, 0, NULL,
                       "the vectors, %s and %s are not from the same `merx embed` run "
                       "(content fingerprint differs: an interrupted write or files copied "
                       "from different runs); run merx embed again",
                       which, meta_path);
  return MX_OK;
}
