/* Internal helpers of the scheduler (src/sched), not part of the public API. */
#ifndef MERX_SCHED_INTERNAL_H
#define MERX_SCHED_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include "merx/schedule.h"

/* ---- civil calendar (tz.c; days <-> dates are util/calendar.c) */
typedef struct {
  int64_t year;
  int mon, mday, hour, min, sec, wday; /* mon 1..12, wday 0 = Sunday */
} mx_civil;

/* Split "local seconds" (wall clock encoded as if UTC) into fields. */
void mx__civil_split(int64_t local, mx_civil *c);

/* ---- one child run (runner.c) */
typedef struct mx_child {
  pid_t pid;          /* process group leader too (setpgid in the child) */
  char *tmp_dir;      /* outputs staging directory (owned) */
  char *final_dir;    /* where a successful run's outputs are committed (owned) */
  char *log_path;     /* child's stdout+stderr (inside tmp_dir) */
  double started;     /* wall clock, epoch seconds */
  double deadline;    /* monotonic seconds at which the run is killed */
  double kill_at;     /* monotonic: SIGKILL after SIGTERM was sent (0 = not sent) */
  int timed_out, stopped, replaced;
} mx_child;

/* Start `exe run SCRIPT --out TMP --timeout T --now SLOT [--store DIR] --set k=v ...`
 * for (job, slot); store_dir may be NULL (not for a vacuum job, which runs
 * `exe vacuum --json --now SLOT --store DIR`).
 * Creates outputs/JOB/.tmp-SLOT-PID-N/ as staging; the child gets its own
 * process group and dies with the scheduler (PR_SET_PDEATHSIG), so a killed
 * daemon leaves at most a staging directory, never a partial final one.
 * Its stdout and stderr go to outputs/.logs/JOB/SLOT.aATTEMPT.log. */
int mx__child_start(const char *exe, const char *outputs_root, const char *store_dir,
                   const mx_job *job, int64_t slot, int attempt, double timeout, mx_child *c,
                   mx_error *err);
/* Send sig to the child's process group. */
void mx__child_signal(mx_child *c, int sig);
/* After the child exited with wait status ws, commit or discard its outputs.
 * Returns the final status text ("success", "failed", "timeout", "stopped",
 * "replaced") and fills exit code, error text (tail of the log) and the JSON
 * list of committed files with their digests. Strings owned by the caller. */
const char *mx__child_finish(mx_child *c, int ws, int *exit_code, char **error, char **outputs,
                            char **output_dir);
/* Remove the staging directory and free the child's strings. */
void mx__child_release(mx_child *c);
/* Directory name of a slot: "2026-03-08T07-00-00Z" (UTC, no colons). */
void mx__slot_dirname(int64_t slot, char *buf, size_t size);
/* Remove leftover staging directories under outputs/JOB/ (from a killed daemon). */
void mx__outputs_clean_staging(const char *outputs_root, const char *job);
/* rm -rf (best effort). */
void mx__remove_tree(const char *path);

/* ---- clocks */
double mx__wall_seconds(void);

#endif
