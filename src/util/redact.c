/* Secrets out of messages: the one place where text that came from outside
 * (an HTTP answer, a server's error body) is cleaned before merx quotes it in
 * an error, a log line or a stored run record.
 *
 * Two nets, because a server that echoes a request can echo any header:
 *   - exact bytes: every secret this process sent (the LLM key, webhook
 *     credentials) is registered by the code that reads it from the
 *     environment (mx_secret_add) and replaced wherever it appears;
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

void mx_secure_zero(void *p, size_t n) {
  volatile unsigned char *b = p;
  while (n--) *b++ = 0;
}

void mx_secret_add(const char *secret) {
  size_t n = secret ? strlen(secret) : 0;
  if (n < MIN_SECRET) return;
  pthread_mutex_lock(&lock);
  int known = 0;
  for (int i = 0; i < n_secrets; i++) known |= secret_len[i] == n && memcmp(secrets[i], secret, n) == 0;
  if (!known && n_secrets < MAX_SECRETS && (secrets[n_secrets] = mx_strdup(secret)))
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

size_t mx_redact(const char *in, size_t len, char *out, size_t size) {
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
