/* RFM scoring (merx/rfm.h): per-customer last purchase, distinct orders
 * and spend, accumulated row by row, then quintile scores and a segment.
 * The engine of merx.data.rfm. */
#include "merx/rfm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/idmap.h"
#include "util/util.h"

/* Longest prefix of an order id compared: customer and order form one
 * id-map key in a fixed buffer. */
#define ORDER_MAX 500

struct mx_rfm {
  mx_idmap *users, *orders; /* orders: "customer \x1f order", NULL without */
  size_t cap;               /* customers the arrays hold */
  double *last, *money, *freq;
  mx_rfm_row *rows;         /* mx_rfm_score's answer */
};

void mx_rfm_free(mx_rfm *r) {
  if (!r) return;
  mx_idmap_free(r->users);
  mx_idmap_free(r->orders);
  free(r->last);
  free(r->money);
  free(r->freq);
  free(r->rows);
  free(r);
}

/* Room for ncap customers; new frequencies start at 0. */
static int grow(mx_rfm *r, size_t ncap) {
  double *a1 = realloc(r->last, ncap * sizeof *a1);
  if (!a1) return MX_ENOMEM;
  r->last = a1;
  double *a2 = realloc(r->money, ncap * sizeof *a2);
  if (!a2) return MX_ENOMEM;
  r->money = a2;
  double *a3 = realloc(r->freq, ncap * sizeof *a3);
  if (!a3) return MX_ENOMEM;
  r->freq = a3;
  memset(r->freq + r->cap, 0, (ncap - r->cap) * sizeof *r->freq);
  r->cap = ncap;
  return MX_OK;
}

int mx_rfm_create(int with_orders, mx_rfm **out, mx_error *err) {
  *out = NULL;
  mx_rfm *r = calloc(1, sizeof *r);
  if (!r) return mx_error_set(err, MX_ENOMEM, "out of memory");
  r->users = mx_idmap_create();
  r->orders = with_orders ? mx_idmap_create() : NULL;
  if (!r->users || (with_orders && !r->orders) || grow(r, 1024) != MX_OK) {
    mx_rfm_free(r);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  *out = r;
  return MX_OK;
}

int mx_rfm_add(mx_rfm *r, const char *user, size_t user_len, double time, double value,
               const char *order, size_t order_len, mx_error *err) {
  uint32_t before = mx_idmap_size(r->users);
  int64_t g = mx_idmap_intern(r->users, user, user_len);
  if (g < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if ((size_t)g >= r->cap && grow(r, r->cap * 2) != MX_OK)
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (mx_idmap_size(r->users) != before) {
    r->last[g] = time;
    r->money[g] = 0;
  }
  if (time > r->last[g]) r->last[g] = time;
  r->money[g] += value;
  if (!r->orders) {
    r->freq[g] += 1;
    return MX_OK;
  }
  char kb[ORDER_MAX + 100];
  int kl = snprintf(kb, sizeof kb, "%lld\x1f%.*s", (long long)g,
                    (int)(order_len > ORDER_MAX ? ORDER_MAX : order_len), order);
  uint32_t s0 = mx_idmap_size(r->orders);
  if (mx_idmap_intern(r->orders, kb, (size_t)kl) < 0)
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (mx_idmap_size(r->orders) != s0) r->freq[g] += 1;
  return MX_OK;
}

/* Quintile scores 1..5 of v (higher value -> higher score; ties share the
 * score of their first rank). */
typedef struct { double v; uint32_t i; } vi;
static int by_v(const void *a, const void *b) {
  const vi *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->i < y->i ? -1 : (x->i > y->i);
}
static void quintiles(const double *v, uint32_t n, int *score, vi *tmp) {
  for (uint32_t i = 0; i < n; i++) tmp[i] = (vi){v[i], i};
  qsort(tmp, n, sizeof *tmp, by_v);
  uint32_t start = 0;
  for (uint32_t k = 0; k < n; k++) {
    if (k > 0 && tmp[k].v != tmp[k - 1].v) start = k;
    score[tmp[k].i] = 1 + (int)((uint64_t)start * 5 / n);
  }
}

const char *mx_rfm_segment(int r, int f) {
  if (r >= 4 && f >= 4) return "champions";
  if (r >= 3 && f >= 3) return "loyal";
  if (r >= 4) return "new";
  if (r <= 2 && f >= 4) return "at_risk";
  if (r <= 2 && f <= 2) return "hibernating";
  return "needs_attention";
}

int mx_rfm_score(mx_rfm *r, int64_t now, const mx_rfm_row **rows, uint32_t *n, mx_error *err) {
  *rows = NULL;
  *n = 0;
  uint32_t nu = mx_idmap_size(r->users);
  mx_rfm_row *out = realloc(r->rows, (nu + 1) * sizeof *out);
  vi *tmp = malloc((nu + 1) * sizeof *tmp);
  int *score = malloc(3 * ((size_t)nu + 1) * sizeof *score);
  if (out) r->rows = out;
  if (!out || !tmp || !score) {
    free(tmp);
    free(score);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int *rs = score, *fs = score + nu + 1, *ms = score + 2 * ((size_t)nu + 1);
  quintiles(r->last, nu, rs, tmp); /* later = more recent = better */
  quintiles(r->freq, nu, fs, tmp);
  quintiles(r->money, nu, ms, tmp);
  free(tmp);
  for (uint32_t g = 0; g < nu; g++) {
    out[g].r = rs[g];
    out[g].f = fs[g];
    out[g].m = ms[g];
    out[g].user = mx_idmap_name(r->users, g);
    out[g].recency = floor(((double)now - r->last[g]) / 86400.0);
    out[g].frequency = (uint64_t)r->freq[g];
    out[g].monetary = r->money[g];
    out[g].segment = mx_rfm_segment(out[g].r, out[g].f);
  }
  free(score);
  *rows = out;
  *n = nu;
  return MX_OK;
}
