/* Secrets out of messages: the one place where text that came from outside
 * (an HTTP answer, a server's error body) is cleaned before merx quotes it in
 * an error, a log line or a stored run record.
 *
 * Two nets, because a server that echoes a request can echo any header:
 *   - exact bytes: every secret this process sent (the LLM key, webhook
 *     credentials) is registered by the code that reads it from the
 *     environment (mx__secret_add) and replaced wherever it appears;
 *   - shapes: "Bearer TOKEN" and "sk-TOKEN" (OpenAI-style keys) are redacted
 *     even when the secret is not one of ours (a proxy's, another tenant's).
 * The registry holds copies for the life of the process (secrets already live
 * in its environment); it is guarded by a mutex so threads may add and
 * redact at once. */
#include "util/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SECRETS 64
#define MIN_SECRET 4 /* shorter "secrets" would blank ordinary words */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];
static size_t secret_len[MAX_SECRETS];
static int n_secrets;

static const char MARK[] = "[redacted]";

void mx__secure_zero(void *p, size_t n) {
  volatile unsigned char *b = p;
  while (n--) *b++ = 0;
}

void mx__secret_add(const char *secret) {
  size_t n = secret ? strlen(secret) : 0;
  if (n < MIN_SECRET) return;
  pthread_mutex_lock(&lock);
  int known = 0;
  for (int i = 0; i < n_secrets; i++) known |= secret_len[i] == n && memcmp(secrets[i], secret, n) == 0;
  if (!known && n_secrets < MAX_SECRETS && (secrets[n_secrets] = mx__strdup(secret)))
    secret_len[n_secrets++] = n;
  pthread_mutex_unlock(&lock);
}

static int token_char(unsigned char c) {
  return isalnum(c) || strchr("-._~+/=", c) != NULL;
}

/* Length of a bearer-shaped token starting at p (0: none): "Bearer" (any
 * case) + blanks + token characters, or "sk-" + at least 6 key characters;
 * *keep gets how many leading bytes stay visible ("Bearer ", "sk-"). */
static size_t shaped(const char *p, size_t left, size_t *keep) {
  size_t k = 0;
  if (left > 7 && strncasecmp(p, "bearer", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
    k = 6;
    while (k < left && (p[k] == ' ' || p[k] == '\t')) k++;
  } else if (left > 3 && memcmp(p, "sk-", 3) == 0) {
    k = 3;
  } else {
    return 0;
  }
  size_t e = k;
  while (e < left && token_char((unsigned char)p[e])) e++;
  if (e - k < (k == 3 ? 6u : 1u)) return 0;
  *keep = k;
  return e;
}

size_t mx__redact(const char *in, size_t len, char *out, size_t size) {
  if (size == 0) return 0;
  size_t j = 0;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < len && j + 1 < size;) {
    size_t hit = 0, keep = 0;
    for (int s = 0; s < n_secrets; s++)
      if (secret_len[s] > hit && secret_len[s] <= len - i && memcmp(in + i, secrets[s], secret_len[s]) == 0)
        hit = secret_len[s];
    /* a shape starts at a word boundary ("task-list" is no key) */
    if (!hit && (i == 0 || !isalnum((unsigned char)in[i - 1]))) hit = shaped(in + i, len - i, &keep);
    if (!hit) {
      out[j++] = in[i++];
      continue;
    }
    for (size_t k = 0; k < keep && j + 1 < size; k++) out[j++] = in[i + k];
    for (size_t k = 0; k < sizeof MARK - 1 && j + 1 < size; k++) out[j++] = MARK[k];
    i += hit;
  }
  pthread_mutex_unlock(&lock);
  out[j] = 0;
  return j;
}

/* ------------------------------------------------ personal data (minimum data)
 * Shapes only, no dictionary: an e-mail address (local@domain.tld) and a phone
 * number (a run of digits and separators with at least 9 digits that starts
 * with '+' or holds a separator between digit groups, so a bare epoch time or
 * an order number is not one). */
static int email_char(unsigned char c) { return isalnum(c) || strchr("._%+-", c); }

static size_t email_at(const char *s, size_t len, size_t at, size_t *start) {
  size_t a = at;
  while (a > 0 && email_char((unsigned char)s[a - 1])) a--;
  if (a == at) return 0;
  size_t e = at + 1, dot = 0;
  while (e < len && (isalnum((unsigned char)s[e]) || s[e] == '.' || s[e] == '-')) e++;
  while (e > at + 1 && s[e - 1] == '.') e--; /* a sentence's full stop */
  for (size_t k = at + 1; k < e; k++)
    if (s[k] == '.') dot = k;
  if (!dot || dot >= e - 2 || dot == at + 1) return 0;
  *start = a;
  return e - a;
}

static size_t phone_at(const char *s, size_t len, size_t i) {
  if (!(s[i] == '+' || s[i] == '(' || isdigit((unsigned char)s[i]))) return 0;
  if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '(')) return 0;
  size_t e = i, digits = 0, seps = 0;
  if (s[e] == '+' || s[e] == '(') e++;
  while (e < len) {
    if (isdigit((unsigned char)s[e])) {
      digits++;
      e++;
      continue;
    }
    size_t k = e; /* separators count only when a digit follows them */
    while (k < len && k - e < 3 && strchr(" -().", s[k])) k++;
    if (k == e || k >= len || !isdigit((unsigned char)s[k])) break;
    seps++;
    e = k;
  }
  if (s[i] == '(') seps++;
  if (e < len && isalpha((unsigned char)s[e])) return 0;
  if (digits < 9 || digits > 15 || (s[i] != '+' && seps == 0)) return 0;
  return e - i;
}

int mx__personal_find(const char *s, size_t len, const char **what) {
  for (size_t i = 0; i < len; i++) {
    size_t start;
    if (s[i] == '@' && email_at(s, len, i, &start)) {
      if (what) *what = "an e-mail address";
      return 1;
    }
    if (phone_at(s, len, i)) {
      if (what) *what = "a phone number";
      return 1;
    }
  }
  return 0;
}

size_t mx__redact_personal(const char *in, size_t len, char *out, size_t size) {
  static const char email_mark[] = "[email]", phone_mark[] = "[phone]";
  size_t o = 0;
  for (size_t i = 0; i < len && o + 1 < size;) {
    size_t start = 0, n;
    /* an address is found at its '@': take back the local part already copied */
    if (in[i] == '@' && (n = email_at(in, len, i, &start)) && i - start <= o) {
      o -= i - start;
      for (const char *m = email_mark; *m && o + 1 < size;) out[o++] = *m++;
      i = start + n;
    } else if ((n = phone_at(in, len, i))) {
      for (const char *m = phone_mark; *m && o + 1 < size;) out[o++] = *m++;
      i += n;
    } else {
      out[o++] = in[i++];
    }
  }
  if (size) out[o < size ? o : size - 1] = 0;
  return o;
}
