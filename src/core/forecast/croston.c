/* Intermittent demand: Croston (1972), the Syntetos-Boylan approximation
 * (SBA, Syntetos & Boylan 2005: Croston x (1 - alpha/2), removing Croston's
 * bias) and TSB (Teunter, Syntetos & Babai 2011: the demand probability is
 * smoothed every period, so forecasts decay when demand stops). The
 * Syntetos-Boylan-Croston classification uses ADI = periods per non-zero
 * demand and CV2 of the non-zero sizes, cut-offs 1.32 and 0.49. */
#include <math.h>

#include "core/forecast/internal.h"

#define CROSTON_ALPHA 0.1
#define TSB_ALPHA 0.1
#define TSB_BETA 0.05

double fc_intermittent(const double *y, size_t n, int variant) {
  size_t nz = 0, first = n;
  double sum = 0;
  for (size_t t = 0; t < n; t++)
    if (y[t] != 0) {
      if (first == n) first = t;
      nz++;
      sum += y[t];
    }
  if (nz == 0) return 0;
  if (variant == FC_TSB) {
    double p = (double)nz / (double)n, z = sum / (double)nz;
    for (size_t t = 0; t < n; t++) {
      int d = y[t] != 0;
      p += TSB_BETA * (d - p);
      if (d) z += TSB_ALPHA * (y[t] - z);
    }
    return p * z;
  }
  /* Croston: sizes z and intervals p updated only at demand periods,
   * initialised with the first demand and its interval from the start */
  double z = y[first], p = (double)(first + 1);
  size_t last = first;
  for (size_t t = first + 1; t < n; t++)
    if (y[t] != 0) {
      z += CROSTON_ALPHA * (y[t] - z);
      p += CROSTON_ALPHA * ((double)(t - last) - p);
      last = t;
    }
  double f = z / p;
  if (variant == FC_SBA) f *= 1 - CROSTON_ALPHA / 2;
  return f;
}

int fc_classify(const double *y, size_t n, double *adi, double *cv2) {
  size_t nz = 0;
  double s = 0, s2 = 0;
  for (size_t t = 0; t < n; t++)
    if (y[t] != 0) {
      nz++;
      s += y[t];
      s2 += y[t] * y[t];
    }
  double a = nz ? (double)n / (double)nz : INFINITY;
  double c = 0;
  if (nz > 1) {
    double mean = s / (double)nz;
    double var = (s2 - (double)nz * mean * mean) / (double)(nz - 1);
    c = mean != 0 ? var / (mean * mean) : 0;
    if (c < 0) c = 0;
  }
  if (adi) *adi = a;
  if (cv2) *cv2 = c;
  return a > 1.32;
}
