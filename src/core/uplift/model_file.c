/* Uplift model files (.mxu; layout in merx/uplift.h). The payload is a
 * sequence of little-endian u32 / u64 / f64 values and length-prefixed
 * strings; the reader checks every length against what is left, so a
 * truncated or corrupt file is refused, never read past its end. */
#include "merx/uplift.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'M', 'E', 'R', 'X', 'U', 'P', 'L', '\0'};
static const char MODEL_MAGIC[8] = {'M', 'E', 'R', 'X', 'M', 'D', 'L', '\0'};
#define CHECK_SEED 0x75706c6966740001ull
#define MAX_STRING (1u << 20)
#define MAX_FEATURES 100000u
#define MAX_WIDTH (1u << 20)

typedef struct {
  unsigned char *p;
  size_t n, cap;
  int oom;
} wbuf;

static void put(wbuf *b, const void *v, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->n, v, n);
  b->n += n;
}
/* The formats are little-endian; merx targets little-endian machines (as
 * the .mxm format does), so values are copied as they are in memory. */
static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }
static void put_f64(wbuf *b, double v) { put(b, &v, 8); }
static void put_str(wbuf *b, const char *s) {
  uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX; /* UINT32_MAX: NULL */
  put_u32(b, n);
  if (s) put(b, s, n);
}

int mx_uplift_save(const mx_uplift_model *m, const char *path, mx_error *err) {
  wbuf b = {0};
  put(&b, MAGIC, 8);
  put_u32(&b, MX_UPLIFT_FORMAT_VERSION);
  put_u32(&b, 0);
  put_u64(&b, 0); /* payload size, patched below */
  size_t start = b.n;
  put_u32(&b, (uint32_t)m->learner);
  put_u32(&b, (uint32_t)m->binary);
  put_str(&b, m->treatment);
  put_str(&b, m->outcome);
  put_str(&b, m->user);
  put_str(&b, m->treated_arm);
  put_str(&b, m->control_arm);
  put_f64(&b, m->reg);
  put_f64(&b, m->propensity);
  put_f64(&b, m->test_share);
  put_u64(&b, m->seed);
  put_u64(&b, m->train_rows);
  put_u32(&b, m->embed_dims);
  put_u64(&b, m->embed_fingerprint);
  put_u32(&b, m->n_features);
  for (uint32_t q = 0; q < m->n_features; q++) {
    const mx_uplift_feature *f = &m->features[q];
    put_str(&b, f->name);
    put_u32(&b, (uint32_t)f->kind);
    put_f64(&b, f->mean);
    put_f64(&b, f->scale);
    put_u32(&b, f->dim);
    put_u32(&b, f->n_levels);
    for (uint32_t l = 0; l < f->n_levels; l++) put_str(&b, f->levels[l]);
  }
  put_u32(&b, m->width);
  put_u32(&b, (uint32_t)m->n_coef);
  for (int c = 0; c < m->n_coef; c++)
    for (uint32_t j = 0; j < m->width; j++) put_f64(&b, m->coef[c][j]);
  if (b.oom) {
    free(b.p);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  uint64_t size = b.n - start;
  memcpy(b.p + 16, &size, 8);
  put_u64(&b, mx_hash64(b.p + start, size, CHECK_SEED));
  if (b.oom) {
    free(b.p);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int rc = mx__atomic_write(path, b.p, b.n, err);
  free(b.p);
  return rc;
}

typedef struct {
  const unsigned char *p;
  size_t n, at;
  int bad;
} rbuf;

static int get(rbuf *r, void *v, size_t n) {
  if (r->bad || r->n - r->at < n) {
    r->bad = 1;
    memset(v, 0, n);
    return -1;
  }
  memcpy(v, r->p + r->at, n);
  r->at += n;
  return 0;
}
static uint32_t get_u32(rbuf *r) {
  uint32_t v;
  get(r, &v, 4);
  return v;
}
static uint64_t get_u64(rbuf *r) {
  uint64_t v;
  get(r, &v, 8);
  return v;
}
static double get_f64(rbuf *r) {
  double v;
  get(r, &v, 8);
  return v;
}
/* A string (NULL when stored as absent, or on error with r->bad set). */
static char *get_str(rbuf *r, int *oom) {
  uint32_t n = get_u32(r);
  if (r->bad || n == UINT32_MAX) return NULL;
  if (n > MAX_STRING || r->n - r->at < n) {
    r->bad = 1;
    return NULL;
  }
  char *s = mx__strndup((const char *)r->p + r->at, n);
  if (!s) *oom = 1;
  r->at += n;
  return s;
}

static int corrupt(mx_error *err, const char *path, const char *what) {
  return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "corrupt uplift model file: %s", what);
}

int mx_uplift_load(const char *path, mx_uplift_model **out, mx_error *err) {
  *out = NULL;
  char *data;
  size_t len;
  int rc = mx__read_file(path, &data, &len, err);
  if (rc) return rc;
  const unsigned char *d = (const unsigned char *)data;
  if (len < 8 || memcmp(d, MAGIC, 8) != 0) {
    int is_model = len >= 8 && memcmp(d, MODEL_MAGIC, 8) == 0;
    free(data);
    return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "%s",
                       is_model ? "an embedding model (.mxm), not an uplift model"
                                : "not a merx uplift model (bad magic)");
  }
  uint32_t version;
  uint64_t size;
  if (len < 24) {
    free(data);
    return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "truncated uplift model file (%zu bytes)", len);
  }
  memcpy(&version, d + 8, 4);
  memcpy(&size, d + 16, 8);
  if (version != MX_UPLIFT_FORMAT_VERSION) {
    free(data);
    return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                       "uplift model format version %u is not supported (this merx reads version %d)",
                       version, MX_UPLIFT_FORMAT_VERSION);
  }
  if (size > len || len - 32 < size) {
    free(data);
    return mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL,
                       "truncated uplift model file (%zu bytes; the header promises %llu)", len,
                       (unsigned long long)size + 32);
  }
  if (len - 32 != size) {
    free(data);
    return corrupt(err, path, "bytes after the checksum");
  }
  uint64_t check;
  memcpy(&check, d + 24 + size, 8);
  if (mx_hash64(d + 24, size, CHECK_SEED) != check) {
    free(data);
    return corrupt(err, path, "checksum mismatch");
  }
  rbuf r = {d + 24, size, 0, 0};
  int oom = 0;
  mx_uplift_model *m = calloc(1, sizeof *m);
  if (!m) {
    free(data);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  m->learner = (mx_uplift_learner)get_u32(&r);
  m->binary = (int)get_u32(&r);
  m->treatment = get_str(&r, &oom);
  m->outcome = get_str(&r, &oom);
  m->user = get_str(&r, &oom);
  m->treated_arm = get_str(&r, &oom);
  m->control_arm = get_str(&r, &oom);
  m->reg = get_f64(&r);
  m->propensity = get_f64(&r);
  m->test_share = get_f64(&r);
  m->seed = get_u64(&r);
  m->train_rows = get_u64(&r);
  m->embed_dims = get_u32(&r);
  m->embed_fingerprint = get_u64(&r);
  uint32_t nf = get_u32(&r);
  const char *bad = NULL;
  if (!r.bad && nf > MAX_FEATURES) bad = "too many features";
  if (!bad && !r.bad && (m->learner != MX_UPLIFT_T_LEARNER && m->learner != MX_UPLIFT_TRANSFORMED))
    bad = "unknown learner";
  if (!bad && !r.bad && (!m->treatment || !m->outcome || !m->treated_arm || !m->control_arm))
    bad = "missing column names";
  if (!bad && !r.bad) {
    m->features = calloc(nf ? nf : 1, sizeof *m->features);
    if (!m->features) oom = 1;
  }
  for (uint32_t q = 0; !bad && !r.bad && !oom && q < nf; q++) {
    mx_uplift_feature *f = &m->features[q];
    m->n_features = q + 1;
    f->name = get_str(&r, &oom);
    f->kind = (mx_uplift_feature_kind)get_u32(&r);
    f->mean = get_f64(&r);
    f->scale = get_f64(&r);
    f->dim = get_u32(&r);
    uint32_t nl = get_u32(&r);
    if (r.bad) break;
    if (!f->name || f->kind > MX_UPLIFT_EMBEDDING || !isfinite(f->mean) || !(f->scale > 0) ||
        nl > MAX_WIDTH || (f->kind == MX_UPLIFT_EMBEDDING && f->dim >= m->embed_dims) ||
        (f->kind != MX_UPLIFT_CATEGORICAL && nl != 0)) {
      bad = "bad feature record";
      break;
    }
    if (nl) {
      f->levels = calloc(nl, sizeof *f->levels);
      if (!f->levels) {
        oom = 1;
        break;
      }
      for (uint32_t l = 0; l < nl && !r.bad && !oom; l++) {
        f->levels[l] = get_str(&r, &oom);
        f->n_levels = l + 1;
        if (!f->levels[l] && !oom) r.bad = 1;
      }
    }
  }
  if (!bad && !r.bad && !oom) {
    m->width = get_u32(&r);
    m->n_coef = (int)get_u32(&r);
    uint64_t want = 1;
    for (uint32_t q = 0; q < m->n_features; q++)
      want += m->features[q].kind == MX_UPLIFT_CATEGORICAL ? m->features[q].n_levels : 1;
    if (!r.bad && (m->width != want || m->width > MAX_WIDTH ||
                   m->n_coef != (m->learner == MX_UPLIFT_T_LEARNER ? 2 : 1)))
      bad = "the coefficient table does not match the features";
    for (int c = 0; !bad && !r.bad && !oom && c < m->n_coef; c++) {
      m->coef[c] = malloc(m->width * sizeof(double));
      if (!m->coef[c]) {
        oom = 1;
        break;
      }
      for (uint32_t j = 0; j < m->width; j++) {
        m->coef[c][j] = get_f64(&r);
        if (!isfinite(m->coef[c][j])) bad = "a coefficient is not finite";
      }
    }
    if (!bad && !r.bad && r.at != r.n) bad = "trailing bytes after the coefficients";
  }
  free(data);
  if (oom) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  else if (r.bad) rc = corrupt(err, path, "a record runs past the end of the payload");
  else if (bad) rc = corrupt(err, path, bad);
  if (rc) {
    mx_uplift_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
}
