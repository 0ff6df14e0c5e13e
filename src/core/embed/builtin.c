/* The built-in text embedder: hashed word, word-pair and character n-gram
 * features (see merx/embed.h for the method and references). */
#include "merx/embed.h"
#include "merx/search.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Seeds that separate the three feature families in hash space. */
#define SEED_WORD 0x776f7264ULL
#define SEED_PAIR 0x70616972ULL
#define SEED_CHAR 0x63686172ULL
#define SEED_SIGN 0x7369676eULL
#define PAIR_WEIGHT 0.7f

mx_builtin_embed_options mx_builtin_embed_defaults(void) {
  mx_builtin_embed_options o;
  o.dim = 256;
  o.char_min = 3;
  o.char_max = 5;
  o.word_bigrams = 1;
  o.subword_weight = 0.5f;
  o.seed = 0;
  return o;
}

void mx_builtin_embed_name(const mx_builtin_embed_options *o, char *buf, size_t size) {
  snprintf(buf, size, "builtin:d%u:c%d-%d:b%d:s%.2f:h%llu", o->dim, o->char_min, o->char_max,
           o->word_bigrams, (double)o->subword_weight, (unsigned long long)o->seed);
}

static int check(const mx_builtin_embed_options *o, mx_error *err) {
  if (o->dim < 2 || o->dim > 65536)
    return mx_error_set(err, MX_EINVAL, "built-in embedder: dimension must be in 2..65536");
  if (o->char_min < 0 || o->char_max < o->char_min || o->char_max > 16 ||
      (o->char_min == 0 && o->char_max != 0))
    return mx_error_set(err, MX_EINVAL, "built-in embedder: character n-grams must satisfy 1 <= min <= max <= 16 (or 0-0)");
  if (!(o->subword_weight >= 0 && o->subword_weight <= 1))
    return mx_error_set(err, MX_EINVAL, "built-in embedder: subword weight must be in 0..1");
  return MX_OK;
}

/* Expect literal prefix at *p, then an unsigned integer; advance *p. */
static int take_uint(const char **p, const char *prefix, unsigned long long *v) {
  size_t n = strlen(prefix);
  if (strncmp(*p, prefix, n) != 0 || !isdigit((unsigned char)(*p)[n])) return -1;
  char *end;
  errno = 0;
  *v = strtoull(*p + n, &end, 10);
  if (errno) return -1;
  *p = end;
  return 0;
}

int mx_builtin_embed_parse(const char *name, mx_builtin_embed_options *o, mx_error *err) {
  unsigned long long dim, cmin, cmax, bigr, seed;
  const char *p = name;
  char *end;
  double sw = -1;
  if (take_uint(&p, "builtin:d", &dim) || take_uint(&p, ":c", &cmin) ||
      take_uint(&p, "-", &cmax) || take_uint(&p, ":b", &bigr) || strncmp(p, ":s", 2) != 0 ||
      (sw = strtod(p + 2, &end), end == p + 2) || (p = end, take_uint(&p, ":h", &seed)) ||
      *p != 0 || dim > 65536 || cmin > 16 || cmax > 16)
    return mx_error_set(err, MX_EINVAL, "not a built-in embedder name: '%s'", name);
  o->dim = (uint32_t)dim;
  o->char_min = (int)cmin;
  o->char_max = (int)cmax;
  o->word_bigrams = bigr != 0;
  o->subword_weight = (float)sw;
  o->seed = seed;
  return check(o, err);
}

static inline void add_feature(float *v, uint32_t dim, const void *bytes, size_t len,
                               uint64_t seed, float w) {
  uint64_t h = mx_hash64(bytes, len, seed);
  uint64_t s = mx_hash64(bytes, len, seed ^ SEED_SIGN);
  v[h % dim] += (s >> 63) ? -w : w;
}

static void normalise(float *v, uint32_t dim) {
  double ss = 0;
  for (uint32_t j = 0; j < dim; j++) ss += (double)v[j] * v[j];
  if (ss <= 0) return;
  float inv = (float)(1.0 / sqrt(ss));
  for (uint32_t j = 0; j < dim; j++) v[j] *= inv;
}

static inline int is_word_byte(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch >= 0x80;
}

/* Embed one text into out (dim floats) using scratch (dim floats + a text
 * buffer grown as needed). */
static int embed_one(const char *text, const mx_builtin_embed_options *o, float *out,
                     float *sub, char **buf, size_t *cap) {
  uint32_t dim = o->dim;
  size_t n = strlen(text);
  if (n + 3 > *cap) {
    size_t c = (n + 3) * 2;
    char *b = realloc(*buf, c);
    if (!b) return MX_ENOMEM;
    *buf = b;
    *cap = c;
  }
  memset(out, 0, dim * sizeof *out);
  memset(sub, 0, dim * sizeof *sub);
  char *w = *buf; /* "<word>" with room for the marks */
  int have_prev = 0;
  size_t i = 0;
  uint64_t prev_h = 0;
  while (i < n) {
    while (i < n && !is_word_byte((unsigned char)text[i])) i++;
    if (i >= n) break;
    size_t len = 0;
    w[0] = '<';
    while (i < n && is_word_byte((unsigned char)text[i])) {
      unsigned char ch = (unsigned char)text[i++];
      w[1 + len++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
    }
    w[1 + len] = '>';
    add_feature(out, dim, w + 1, len, o->seed ^ SEED_WORD, 1.0f);
    uint64_t h = mx_hash64(w + 1, len, o->seed ^ SEED_PAIR);
    if (o->word_bigrams && have_prev) {
      /* A pair is keyed by the two word hashes (order matters). */
      uint64_t hh[2] = {prev_h, h};
      add_feature(out, dim, hh, sizeof hh, o->seed ^ SEED_PAIR, PAIR_WEIGHT);
    }
    have_prev = 1;
    prev_h = h;
    if (o->char_min > 0) {
      size_t padded = len + 2;
      for (int g = o->char_min; g <= o->char_max; g++) {
        if ((size_t)g > padded) break;
        for (size_t s = 0; s + (size_t)g <= padded; s++)
          add_feature(sub, dim, w + s, (size_t)g, o->seed ^ SEED_CHAR ^ ((uint64_t)g << 40), 1.0f);
      }
    }
  }
  normalise(out, dim);
  normalise(sub, dim);
  float a = 1.0f - o->subword_weight, b = o->subword_weight;
  for (uint32_t j = 0; j < dim; j++) out[j] = a * out[j] + b * sub[j];
  normalise(out, dim);
  return MX_OK;
}

typedef struct job {
  const char *const *texts;
  size_t n;
  const mx_builtin_embed_options *o;
  float *out;
} job;

static int embed_range(void *ctx, int t, int nt) {
  job *j = ctx;
  size_t lo = j->n * (size_t)t / (size_t)nt, hi = j->n * (size_t)(t + 1) / (size_t)nt;
  float *sub = malloc(j->o->dim * sizeof *sub);
  char *buf = NULL;
  size_t cap = 0;
  int rc = sub ? MX_OK : MX_ENOMEM;
  for (size_t i = lo; i < hi && rc == MX_OK; i++)
    rc = embed_one(j->texts[i] ? j->texts[i] : "", j->o, j->out + i * j->o->dim, sub, &buf, &cap);
  free(sub);
  free(buf);
  return rc;
}

int mx_builtin_embed(const char *const *texts, size_t n, const mx_builtin_embed_options *o,
                     int threads, float *out, mx_error *err) {
  int rc = check(o, err);
  if (rc) return rc;
  job j = {texts, n, o, out};
  int nt = mx__threads_resolve(threads);
  if ((size_t)nt > n / 256 + 1) nt = (int)(n / 256 + 1);
  rc = mx__parallel_run(nt, embed_range, &j);
  if (rc) return mx_error_set(err, rc, "built-in embedder: out of memory");
  return MX_OK;
}

size_t mx_cosine_topk(const float *rows, size_t n, uint32_t dim, const float *query, size_t k,
                      uint32_t *idx, float *score) {
  /* the ranking of merx/search.h without taste or filters (no allocation) */
  mx_embed_index ix;
  memset(&ix, 0, sizeof ix);
  ix.rows = (float *)rows;
  ix.n = n;
  ix.dim = dim;
  mx_search_query q = {query, NULL, 0, NULL, k};
  size_t got = 0;
  mx_search_rank(&ix, &q, idx, score, &got, NULL);
  return got;
}
