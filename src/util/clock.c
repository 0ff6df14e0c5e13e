/* Clocks and resource use: monotonic seconds, peak RSS. */
#include "util/util.h"

#include <sys/resource.h>
#include <time.h>

/* ---- clocks */
double mx__now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t mx__peak_rss_bytes(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024u;
}
