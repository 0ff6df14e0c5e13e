/* "Did you mean ...?": the known name closest to a misspelt one, shared by
 * the CLI (unknown flags) and the Lua API (unknown option keys). */
#include "util/util.h"

#include <string.h>

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, Damerau 1964), so "segmnets" is one edit from "segments".
 * Names are short: longer ones are not worth suggesting for. */
#define NAME_MAX_LEN 63

static size_t osa_distance(const char *a, size_t na, const char *b, size_t nb) {
  unsigned char d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1]; /* distances <= NAME_MAX_LEN */
  for (size_t i = 0; i <= na; i++) d[i][0] = (unsigned char)i;
  for (size_t j = 0; j <= nb; j++) d[0][j] = (unsigned char)j;
  for (size_t i = 1; i <= na; i++)
    for (size_t j = 1; j <= nb; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t v = (size_t)d[i - 1][j - 1] + cost;
      if ((size_t)d[i - 1][j] + 1 < v) v = (size_t)d[i - 1][j] + 1;
      if ((size_t)d[i][j - 1] + 1 < v) v = (size_t)d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          (size_t)d[i - 2][j - 2] + 1 < v)
        v = (size_t)d[i - 2][j - 2] + 1;
      d[i][j] = (unsigned char)v;
    }
  return d[na][nb];
}

char *mx__words_join(const char *words, char *buf, size_t size) {
  size_t k = 0;
  if (size == 0) return buf;
  for (const char *p = words; *p;) {
    while (*p == ' ') p++;
    const char *s = p;
    while (*p && *p != ' ') p++;
    size_t n = (size_t)(p - s);
    if (n == 0) break;
    if (k > 0 && k + 2 < size) {
      memcpy(buf + k, ", ", 2);
      k += 2;
    }
    if (k + n >= size) n = size - 1 - k;
    memcpy(buf + k, s, n);
    k += n;
  }
  buf[k] = '\0';
  return buf;
}

const char *mx__closest_word(const char *word, size_t len, const char *words, size_t *out_len) {
  const char *best = NULL;
  size_t best_len = 0, best_dist = (size_t)-1;
  if (len == 0 || len > NAME_MAX_LEN) return NULL;
  for (const char *p = words; *p;) {
    while (*p == ' ') p++;
    const char *s = p;
    while (*p && *p != ' ' && *p != '=' && *p != '*') p++;
    size_t n = (size_t)(p - s);
    while (*p && *p != ' ') p++;
    if (n == 0 || n > NAME_MAX_LEN) continue;
    size_t dist = osa_distance(word, len, s, n);
    /* a likely typo: at most a third of the letters of the longer name
     * wrong (one for short names), and not a whole different name; or a
     * shortened name ("pack" for "pack_size") */
    size_t longer = n > len ? n : len, shorter = n < len ? n : len;
    size_t limit = longer / 3 > 1 ? longer / 3 : 1;
    if (shorter >= 3 && memcmp(word, s, shorter) == 0 && dist > limit) dist = limit;
    if (dist <= limit && dist < longer && dist < best_dist) {
      best = s;
      best_len = n;
      best_dist = dist;
    }
  }
  if (out_len) *out_len = best_len;
  return best;
}
