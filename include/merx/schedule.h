/* merx — scheduled script runs: cron expressions, IANA time zones, the
 * schedule file and the scheduler itself (the run history: runs.h).
 *
 * Times are int64_t seconds since the Unix epoch (UTC) unless named "local"
 * ("local seconds" = the wall-clock reading of a zone encoded as if it were UTC,
 * i.e. utc + offset).
 *
 * Daylight saving (documented in docs/cli/schedule.md): a cron time that does
 * not exist on a day (skipped by a spring-forward gap) fires once, at the first
 * valid instant after the gap; a time that occurs twice (fall-back overlap)
 * fires once, at its first occurrence. */
#ifndef MERX_SCHEDULE_H
#define MERX_SCHEDULE_H

#include <stdint.h>
#include "merx/error.h"
#include "merx/runs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------- cron */

/* A parsed 5-field cron expression: one bit per allowed value. */
typedef struct mx_cron {
  uint64_t minute; /* bits 0..59 */
  uint32_t hour;   /* bits 0..23 */
  uint32_t dom;    /* bits 1..31 */
  uint16_t month;  /* bits 1..12 */
  uint8_t dow;     /* bits 0..6, Sunday = 0 (7 is accepted as Sunday) */
  /* Vixie cron: when both day fields are restricted (neither starts with '*'),
   * a day matches if EITHER matches; otherwise both must match. */
  uint8_t dom_star, dow_star;
} mx_cron;

/* Parse "m h dom mon dow" (ranges a-b, steps a-b/n and "star"/n, lists a,b, names
 * jan..dec and sun..sat, case-insensitive) or @hourly, @daily (@midnight),
 * @weekly, @monthly, @yearly (@annually). On error err->field names the cron
 * field ("minute", "hour", "day-of-month", "month", "day-of-week") and the
 * message quotes the offending value. */
MX_API int mx_cron_parse(const char *expr, mx_cron *out, mx_error *err);

/* Does the local civil time (fields as in struct tm: mon 1..12, wday 0..6)
 * match? */
MX_API int mx_cron_matches(const mx_cron *c, int year, int mon, int mday, int hour, int min);

/* ------------------------------------------------------------- time zones */

/* A zone loaded from a TZif file (RFC 8536) of the system zoneinfo
 * (/usr/share/zoneinfo, or $TZDIR), with its POSIX TZ footer rule for instants
 * after the last listed transition. Immutable once loaded, so it may be shared
 * between threads. */
typedef struct mx_tz mx_tz;

/* Load zone `name` ("Europe/London", "UTC"). Names with "..", a leading '/' or
 * characters outside [A-Za-z0-9/_+-] are refused. *out owned by the caller
 * (mx_tz_free). MX_ENOTFOUND for an unknown zone. */
MX_API int mx_tz_load(const char *name, mx_tz **out, mx_error *err);
MX_API void mx_tz_free(mx_tz *tz);
MX_API const char *mx_tz_name(const mx_tz *tz);
/* UTC offset (seconds east of Greenwich) in effect at instant t. */
MX_API int32_t mx_tz_offset(const mx_tz *tz, int64_t t);
/* The instant a local wall-clock reading maps to under the scheduler's rule:
 * the first occurrence when it occurs twice, the end of the gap (the moment
 * clocks jump forward) when it does not exist. *exists tells which (1 = once
 * or twice, 0 = in a gap); may be NULL. */
MX_API int64_t mx_tz_resolve(const mx_tz *tz, int64_t local, int *exists);
/* Format instant t as "YYYY-MM-DDTHH:MM:SS+HH:MM" in the zone. buf >= 32 bytes. */
MX_API char *mx_tz_format(const mx_tz *tz, int64_t t, char *buf, size_t size);

/* The next fire instant strictly after `after` of cron c in zone tz (the DST
 * rule above). MX_ENOTFOUND when none exists within 8 years (e.g. "0 0 30 2 *"). */
MX_API int mx_cron_next(const mx_cron *c, const mx_tz *tz, int64_t after, int64_t *next);

/* ------------------------------------------------------- schedule file */

typedef enum { MX_OVERLAP_FORBID = 0, MX_OVERLAP_ALLOW, MX_OVERLAP_REPLACE } mx_overlap;
typedef enum { MX_MISSED_LATEST = 0, MX_MISSED_SKIP, MX_MISSED_ALL } mx_missed;

/* At most this many missed slots per job are run after downtime under
 * missed = "all" (the most recent ones); older ones are recorded as missed. */
#define MX_MISSED_ALL_MAX 100

typedef struct mx_job {
  char *name;      /* [A-Za-z0-9._-]+, unique in the file */
  char *cron_text; /* as written */
  mx_cron cron;
  mx_tz *tz;       /* owned */
  char *script;    /* path resolved against the schedule file's directory; NULL for a
                      vacuum job */
  int vacuum;      /* `vacuum = true`: the store's retention, `merx vacuum --store DIR
                      --now SLOT`, instead of a script (needs a store folder) */
  int nparams;
  char **param_keys, **param_values; /* --set KEY=VALUE, in sorted key order */
  double timeout;     /* seconds, > 0 (default 300) */
  int retries;        /* extra attempts after a failure (default 0) */
  double retry_delay; /* first backoff, seconds (default 30); doubles per attempt */
  mx_overlap overlap;
  mx_missed missed;
  /* Names of environment variables passed to the run beyond merx's clean
   * set (the file's `env` list, then the job's). */
  int nenv;
  char **env;
  int ndata;          /* read-only data folders (`data`), resolved against the file's */
  char **data;        /* directory, each an existing folder: `merx run --data DIR` */
} mx_job;

typedef struct mx_schedule {
  char *path;        /* the schedule file as given */
  char *store;       /* SQLite run history, resolved against the file's directory
                        (STORE_DIR/ledger.db with a store folder) */
  char *outputs;     /* output root (default "outputs"), resolved likewise */
  int njobs;
  mx_job *jobs;
  char *store_dir;   /* the store folder every run commits to (`store = "DIR"` or
                        MERX_STORE); NULL when `store` names a .db run history */
} mx_schedule;

/* Load and validate a schedule file (Lua returning a table) in a restricted
 * Lua state (base/string/table/math only, no file or OS access, instruction
 * and memory caps). Refuses invalid cron fields, unknown zones, missing
 * scripts, duplicate names, non-positive timeouts and unknown keys, naming the
 * file and the job. *out owned by the caller (mx_schedule_free). */
MX_API int mx_schedule_load(const char *path, mx_schedule **out, mx_error *err);
MX_API void mx_schedule_free(mx_schedule *s);
/* Make dir (created when missing) the schedule's store folder, over its file's
 * `store`: run history in DIR/ledger.db, and every run gets --store DIR. */
MX_API int mx_schedule_use_store(mx_schedule *s, const char *dir, mx_error *err);

/* ------------------------------------------------------------ scheduler */

typedef struct mx_sched_options {
  int once;          /* run due slots, wait for them (and their retries), return */
  double now_offset; /* added to the real clock (testing and rehearsals: --now) */
  double grace;      /* seconds between SIGTERM and SIGKILL for a child (default 10) */
  const char *exe;   /* binary to run `EXE run SCRIPT ...` with; NULL = /proc/self/exe */
  /* Rerun one slot of one job (implies once; no catch-up, state untouched):
   * rerun_slot must be a fire time of the job. */
  const char *rerun_job;
  int64_t rerun_slot;
  /* Log sink: one line per event, without trailing newline. NULL = silent. */
  void (*log)(void *ctx, const char *line);
  void *log_ctx;
  const char *store_dir; /* store folder over the file's `store` (--store); NULL: none */
} mx_sched_options;

/* Run the scheduler for the schedule file `path`: takes the store lock
 * (MX_ESTATE if another daemon holds it), catches up missed slots, then (unless
 * opt->once) fires jobs until SIGTERM/SIGINT (current runs are stopped cleanly:
 * SIGTERM, then SIGKILL after the grace period; nothing partial is committed).
 * SIGHUP reloads the file; an invalid file is logged and the old schedule kept.
 * Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGCHLD for its duration. */
MX_API int mx_sched_run(const char *path, const mx_sched_options *opt, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
