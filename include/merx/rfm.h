/* merx — RFM scoring: recency, frequency and monetary value per customer
 * from purchase rows, with quintile scores and a segment.
 *
 * The engine of merx.data.rfm, usable from C: create an accumulator, add one
 * purchase row at a time (customer, time in epoch seconds, value, and an
 * order id when frequency counts orders), then score. Per customer, in order
 * of first appearance:
 *   recency   = floor((now - last purchase time) / 86400) days
 *   frequency = distinct order ids (compared on their first 500 bytes), or
 *               rows without order ids
 *   monetary  = sum of the values
 * and quintile scores r, f, m in 1..5 (5 = best: latest, most, largest).
 * A quintile score is 1 + floor(5 (k - 1) / n) for the first rank k of a
 * value among the n customers in ascending order, so ties share a score.
 * The segment follows (r, f): champions (r, f >= 4), loyal (r, f >= 3), new
 * (r >= 4), at_risk (r <= 2, f >= 4), hibernating (r, f <= 2), else
 * needs_attention. */
#ifndef MERX_RFM_H
#define MERX_RFM_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mx_rfm mx_rfm;

/* One customer's figures (mx_rfm_score). */
typedef struct mx_rfm_row {
  const char *user;     /* borrowed from the accumulator */
  double recency;       /* days */
  uint64_t frequency;
  double monetary;
  int r, f, m;          /* 1..5 */
  const char *segment;  /* static text */
} mx_rfm_row;

/* An accumulator; with_orders: frequency counts distinct order ids (each
 * row's order argument), else rows. *out owned by the caller (mx_rfm_free).
 * MX_ENOMEM or MX_OK. */
MX_API int mx_rfm_create(int with_orders, mx_rfm **out, mx_error *err);
MX_API void mx_rfm_free(mx_rfm *r);

/* One purchase row (order / order_len read only with orders). MX_ENOMEM
 * (the row may be counted in part: free the accumulator) or MX_OK. */
MX_API int mx_rfm_add(mx_rfm *r, const char *user, size_t user_len, double time, double value,
                      const char *order, size_t order_len, mx_error *err);

/* Score the customers so far as of now (epoch seconds): *rows (borrowed
 * from r, valid until the next add, score or free) holds *n customers in
 * order of first appearance. MX_ENOMEM or MX_OK. */
MX_API int mx_rfm_score(mx_rfm *r, int64_t now, const mx_rfm_row **rows, uint32_t *n,
                        mx_error *err);

/* The segment of scores (r, f), as above. */
MX_API const char *mx_rfm_segment(int r, int f);

#ifdef __cplusplus
}
#endif
#endif
