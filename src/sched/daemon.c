/* The scheduler loop: fire due slots, dispatch them under the overlap policy,
 * supervise children (timeouts, retries with exponential backoff), catch up
 * missed slots after downtime, reload on SIGHUP, stop cleanly on SIGTERM.
 *
 * Single-threaded: signals only write a byte to a self-pipe that poll()
 * watches, so every decision is taken in the loop, in order. All state that
 * must survive a crash lives in the store: per job the latest slot dealt with
 * (sched_state), and per attempt a `runs` row written before the child starts
 * and completed when it ends. A slot is "on time" when the loop sees it
 * within LATE_TOLERANCE seconds; older slots are "missed" and follow the
 * job's `missed` policy, as do slots whose run was interrupted by a crash or
 * a stop. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/internal.h"
#include "util/util.h"

#define LATE_TOLERANCE 60.0          /* seconds: later than this, a slot was missed */
#define LOOKBACK_MAX (400.0 * 86400)  /* catch-up never looks further back */
#define BACKOFF_MAX 86400.0
#define MISSED_ROWS_MAX 100          /* missed slots recorded per catch-up and job */

typedef struct {
  char *job;
  int64_t slot;
  int attempt;
  double due; /* scheduler clock */
  int queued; /* a caught-up slot or a retry: waits for the job's running run under forbid */
  int handles; /* recording it advances the job's handled-slot state (not a --rerun) */
} pending;

typedef struct {
  mx_child c;
  char *job;
  int64_t slot;
  int attempt;
  int64_t row;
} active;

typedef struct {
  const mx_sched_options *opt;
  const char *path;
  mx_schedule *s;
  int64_t *next; /* per job of s: next slot to fire (INT64_MAX: none) */
  mx_runs *db;
  pending *q;
  int nq, capq;
  active *a;
  int na, capa;
  int failures;
  int stopping;
  char exe[4096];
  /* interrupted slots found at start: (job, slot) */
  char **ijob;
  int64_t *islot;
  int ni, capi;
} sched;

static int g_pipe[2] = {-1, -1};
static volatile sig_atomic_t g_term, g_hup;

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGTERM || sig == SIGINT) g_term++;
  if (sig == SIGHUP) g_hup = 1;
  char b = 1;
  if (write(g_pipe[1], &b, 1) < 0) { /* pipe full: a wakeup is pending anyway */ }
  errno = saved;
}

static void logf_(sched *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(sched *S, const char *fmt, ...) {
  if (!S->opt->log) return;
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  S->opt->log(S->opt->log_ctx, buf);
}

static double now_clock(const sched *S) { return mx__wall_seconds() + S->opt->now_offset; }

static mx_job *find_job(sched *S, const char *name) {
  for (int i = 0; i < S->s->njobs; i++)
    if (strcmp(S->s->jobs[i].name, name) == 0) return &S->s->jobs[i];
  return NULL;
}

static int enqueue(sched *S, const char *job, int64_t slot, int attempt, double due, int queued) {
  if (S->nq == S->capq) {
    int nc = S->capq ? S->capq * 2 : 16;
    pending *nq = realloc(S->q, (size_t)nc * sizeof *nq);
    if (!nq) return MX_ENOMEM;
    S->q = nq;
    S->capq = nc;
  }
  pending *p = &S->q[S->nq];
  if (!(p->job = mx__strdup(job))) return MX_ENOMEM;
  p->slot = slot;
  p->attempt = attempt;
  p->due = due;
  p->queued = queued;
  p->handles = 1;
  S->nq++;
  return MX_OK;
}

static void dequeue(sched *S, int i) {
  free(S->q[i].job);
  memmove(&S->q[i], &S->q[i + 1], (size_t)(S->nq - i - 1) * sizeof *S->q);
  S->nq--;
}

/* Record a slot that will not run (status 'missed' or 'skipped'). */
static void record_not_run(sched *S, const mx_job *j, int64_t slot, int attempt, int handles,
                           const char *status, const char *why) {
  char local[40];
  mx_tz_format(j->tz, slot, local, sizeof local);
  mx_run_row row = {0};
  row.job = j->name;
  row.scheduled = slot;
  row.scheduled_local = local;
  row.attempt = attempt;
  row.status = status;
  row.exit_code = -1;
  row.error = why;
  mx_error err;
  if ((handles ? mx_runs_insert_handled : mx_runs_insert)(S->db, &row, NULL, &err) != MX_OK) {
    char buf[1200];
    logf_(S, "store error: %s", mx_error_format(&err, buf, sizeof buf));
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Deal with every slot of job j in (last handled, now]: on-time slots run;
 * late ones (and interrupted ones) follow the missed policy. */
static int catch_up(sched *S, int ji, double now) {
  mx_job *j = &S->s->jobs[ji];
  mx_error err;
  int64_t last;
  int found;
  int64_t inow = (int64_t)floor(now);
  if (mx_runs_state_get(S->db, j->name, &last, &found, &err) != MX_OK) return MX_EIO;
  if (!found) last = inow - (int64_t)LATE_TOLERANCE; /* a new job starts from now */
  if (last < inow - (int64_t)LOOKBACK_MAX) last = inow - (int64_t)LOOKBACK_MAX;
  /* Keep only the newest MX_MISSED_ALL_MAX + 1 slots in a ring; count the rest. */
  enum { RING = MX_MISSED_ALL_MAX + 1 + 64 };
  int64_t *late = malloc((RING + (size_t)S->ni) * sizeof *late);
  if (!late) return MX_ENOMEM;
  int64_t ring[RING];
  long total = 0;
  int64_t t = last, newest = last, newest_dropped = last;
  while (mx_cron_next(&j->cron, j->tz, t, &t) == MX_OK && t <= inow) {
    newest = t;
    /* The state only advances when a slot's row is written, so slots this
     * process already queued come round again: they are in hand. */
    int queued = 0;
    for (int k = 0; k < S->nq && !queued; k++)
      queued = S->q[k].job && S->q[k].slot == t && strcmp(S->q[k].job, j->name) == 0;
    if (queued) continue;
    if (total >= RING) newest_dropped = ring[total % RING];
    ring[total % RING] = t;
    total++;
  }
  int nlate = 0, ontime_n = 0;
  int64_t ontime[RING];
  long kept = total < RING ? total : RING;
  for (long k = total - kept; k < total; k++) {
    int64_t s = ring[k % RING];
    if (now - (double)s <= LATE_TOLERANCE) ontime[ontime_n++] = s;
    else late[nlate++] = s;
  }
  long dropped = total - kept; /* older than the ring: missed, not recorded */
  /* Interrupted slots of this job (crash or stop) rejoin as late slots. */
  for (int k = 0; k < S->ni; k++) {
    if (!S->ijob[k] || strcmp(S->ijob[k], j->name) != 0) continue;
    if ((double)S->islot[k] < now - LOOKBACK_MAX) continue;
    int dup = 0;
    for (int m = 0; m < nlate; m++) dup |= late[m] == S->islot[k];
    for (int m = 0; m < ontime_n; m++) dup |= ontime[m] == S->islot[k];
    if (!dup) late[nlate++] = S->islot[k];
    free(S->ijob[k]);
    S->ijob[k] = NULL;
  }
  qsort(late, (size_t)nlate, sizeof *late, cmp_i64);
  int run_from = nlate; /* late[run_from..] run, late[..run_from) are missed */
  if (j->missed == MX_MISSED_LATEST && nlate > 0 && ontime_n == 0) run_from = nlate - 1;
  if (j->missed == MX_MISSED_ALL)
    run_from = nlate > MX_MISSED_ALL_MAX ? nlate - MX_MISSED_ALL_MAX : 0;
  long nmissed = dropped + run_from;
  if (nmissed > 0) {
    char a[40], b[40];
    mx_tz_format(j->tz, run_from ? late[0] : newest, a, sizeof a);
    mx_tz_format(j->tz, run_from ? late[run_from - 1] : newest, b, sizeof b);
    logf_(S, "job=%s missed %ld slot(s) %s .. %s (missed=%s)", j->name, nmissed,
          dropped ? "(older ones not recorded)" : a, b,
          j->missed == MX_MISSED_SKIP ? "skip" : j->missed == MX_MISSED_ALL ? "all" : "latest");
  }
  for (int k = run_from > MISSED_ROWS_MAX ? run_from - MISSED_ROWS_MAX : 0; k < run_from; k++)
    record_not_run(S, j, late[k], 1, 1, "missed",
                   j->missed == MX_MISSED_SKIP ? "missed while the scheduler was down (missed=skip)"
                                               : "missed while the scheduler was down");
  /* Caught-up slots queue behind each other (overlap = "forbid" would skip all
   * but the first as overlapping it), and so does an on-time slot due with
   * them; a slot that fires on its own while the job runs is still skipped. */
  int rc = MX_OK, catching_up = nlate > run_from;
  for (int k = run_from; k < nlate && rc == MX_OK; k++) {
    char a[40];
    logf_(S, "job=%s catching up slot %s", j->name, mx_tz_format(j->tz, late[k], a, sizeof a));
    rc = enqueue(S, j->name, late[k], 1, now, 1);
  }
  for (int k = 0; k < ontime_n && rc == MX_OK; k++)
    rc = enqueue(S, j->name, ontime[k], 1, now, catching_up);
  free(late);
  if (rc != MX_OK) return rc;
  /* Queued slots advance the state when their row is written (start_run,
   * record_not_run), never here: a crash before that finds them again. Only
   * the starting point of a new job and slots too old to record move it now. */
  if (!found && mx_runs_state_set(S->db, j->name, last, &err) != MX_OK) return MX_EIO;
  if (dropped > 0 && mx_runs_state_set(S->db, j->name, newest_dropped, &err) != MX_OK)
    return MX_EIO;
  int64_t nx;
  S->next[ji] = mx_cron_next(&j->cron, j->tz, newest > inow ? newest : inow, &nx) == MX_OK
                    ? nx
                    : INT64_MAX;
  return MX_OK;
}

static int start_run(sched *S, mx_job *j, const pending *p) {
  if (S->na == S->capa) {
    int nc = S->capa ? S->capa * 2 : 8;
    active *na = realloc(S->a, (size_t)nc * sizeof *na);
    if (!na) return MX_ENOMEM;
    S->a = na;
    S->capa = nc;
  }
  active *a = &S->a[S->na];
  memset(a, 0, sizeof *a);
  char local[40];
  mx_tz_format(j->tz, p->slot, local, sizeof local);
  mx_run_row row = {0};
  row.job = j->name;
  row.scheduled = p->slot;
  row.scheduled_local = local;
  row.attempt = p->attempt;
  row.status = "running";
  row.started = mx__wall_seconds();
  row.exit_code = -1;
  mx_error err;
  mx_error_clear(&err);
  /* The row exists before the child does: a crash in between is seen as an
   * abandoned run and caught up, never as a slot that silently vanished. */
  if ((p->handles ? mx_runs_insert_handled : mx_runs_insert)(S->db, &row, &a->row, &err) !=
      MX_OK) {
    char buf[1200];
    logf_(S, "store error: %s", mx_error_format(&err, buf, sizeof buf));
    return MX_EIO;
  }
  if (mx__child_start(S->exe, S->s->outputs, S->s->store_dir, j, p->slot, p->attempt, j->timeout,
                     &a->c, &err) != MX_OK) {
    char buf[1200];
    mx_error_format(&err, buf, sizeof buf);
    logf_(S, "job=%s slot=%s attempt=%d status=failed error=%s", j->name, local, p->attempt, buf);
    mx_runs_finish(S->db, a->row, "failed", mx__wall_seconds(), -1, buf, "", "[]", NULL);
    S->failures++;
    return MX_OK;
  }
  a->job = mx__strdup(j->name);
  a->slot = p->slot;
  a->attempt = p->attempt;
  S->na++;
  logf_(S, "job=%s slot=%s attempt=%d status=running pid=%ld", j->name, local, p->attempt,
        (long)a->c.pid);
  return MX_OK;
}

static void dispatch(sched *S, double now) {
  for (int i = 0; i < S->nq;) {
    pending *p = &S->q[i];
    if (p->due > now) {
      i++;
      continue;
    }
    mx_job *j = find_job(S, p->job);
    if (!j) {
      logf_(S, "job=%s no longer in the schedule; dropping its pending run", p->job);
      dequeue(S, i);
      continue;
    }
    if (j->overlap == MX_OVERLAP_REPLACE) {
      /* Several due slots of one job (catch-up): only the newest runs. */
      int newer = 0;
      for (int k = 0; k < S->nq; k++)
        newer |= k != i && S->q[k].job && strcmp(S->q[k].job, j->name) == 0 &&
                 S->q[k].due <= now && S->q[k].slot > p->slot;
      if (newer) {
        record_not_run(S, j, p->slot, p->attempt, p->handles, "replaced",
                       "a newer slot was due at the same time (overlap=replace)");
        dequeue(S, i);
        continue;
      }
    }
    int busy = 0, waiting = 0;
    for (int k = 0; k < S->na; k++) {
      if (strcmp(S->a[k].job, j->name) != 0) continue;
      busy++;
      if (j->overlap == MX_OVERLAP_REPLACE) {
        if (!S->a[k].c.replaced) {
          S->a[k].c.replaced = 1;
          mx__child_signal(&S->a[k].c, SIGTERM);
          S->a[k].c.kill_at = mx__now_seconds() + S->opt->grace;
        }
        waiting = 1;
      }
    }
    if (busy && j->overlap == MX_OVERLAP_FORBID && p->queued) { /* its turn comes */
      i++;
      continue;
    }
    if (busy && j->overlap == MX_OVERLAP_FORBID) {
      char local[40];
      mx_tz_format(j->tz, p->slot, local, sizeof local);
      logf_(S, "job=%s slot=%s attempt=%d status=skipped (previous run still running, "
               "overlap=forbid)",
            j->name, local, p->attempt);
      record_not_run(S, j, p->slot, p->attempt, p->handles, "skipped",
                     "the previous run was still running (overlap=forbid)");
      dequeue(S, i);
      continue;
    }
    if (waiting) { /* replace: start once the replaced run has exited */
      i++;
      continue;
    }
    pending item = *p;
    p->job = NULL;
    dequeue(S, i);
    start_run(S, j, &item);
    free(item.job);
  }
}

static void reap(sched *S, double now) {
  for (;;) {
    int ws;
    pid_t pid = waitpid(-1, &ws, WNOHANG);
    if (pid <= 0) break;
    int k;
    for (k = 0; k < S->na && S->a[k].c.pid != pid; k++) {}
    if (k == S->na) continue;
    active *a = &S->a[k];
    int code;
    char *error, *outputs, *outdir;
    const char *status = mx__child_finish(&a->c, ws, &code, &error, &outputs, &outdir);
    double ended = mx__wall_seconds();
    mx_error err;
    if (mx_runs_finish(S->db, a->row, status, ended, code, error ? error : "", outdir, outputs,
                       &err) != MX_OK) {
      char buf[1200];
      logf_(S, "store error: %s", mx_error_format(&err, buf, sizeof buf));
    }
    mx_job *j = find_job(S, a->job);
    char local[40] = "";
    if (j) mx_tz_format(j->tz, a->slot, local, sizeof local);
    if (error)
      for (char *c = error; *c; c++)
        if (*c == '\n' || *c == '\r') *c = '|';
    logf_(S, "job=%s slot=%s attempt=%d status=%s exit=%d seconds=%.1f%s%s", a->job, local,
          a->attempt, status, code, ended - a->c.started, error ? " error=" : "",
          error ? error : "");
    int failed = strcmp(status, "failed") == 0 || strcmp(status, "timeout") == 0;
    int retry = failed && j && !S->stopping && a->attempt <= j->retries;
    if (failed && !retry) S->failures++; /* a slot that finally failed */
    if (retry) {
      /* Exponential backoff: retry_delay * 2^(attempt-1), capped. */
      double delay = j->retry_delay * pow(2.0, a->attempt - 1);
      if (delay > BACKOFF_MAX) delay = BACKOFF_MAX;
      logf_(S, "job=%s slot=%s retry %d of %d in %g s", a->job, local, a->attempt, j->retries,
            delay);
      enqueue(S, a->job, a->slot, a->attempt + 1, now + delay, 1); /* the same slot: never skipped */
    }
    free(error);
    free(outputs);
    free(outdir);
    mx__child_release(&a->c);
    free(a->job);
    memmove(&S->a[k], &S->a[k + 1], (size_t)(S->na - k - 1) * sizeof *S->a);
    S->na--;
  }
}

static void supervise(sched *S) {
  double mono = mx__now_seconds();
  for (int k = 0; k < S->na; k++) {
    mx_child *c = &S->a[k].c;
    if (!c->timed_out && !c->stopped && !c->replaced && mono >= c->deadline) {
      c->timed_out = 1;
      mx__child_signal(c, SIGTERM);
      c->kill_at = mono + S->opt->grace;
    }
    if (c->kill_at > 0 && mono >= c->kill_at) {
      mx__child_signal(c, SIGKILL);
      c->kill_at = -1;
    }
  }
}

static void stop_all(sched *S, int hard) {
  for (int k = 0; k < S->na; k++) {
    mx_child *c = &S->a[k].c;
    c->stopped = 1;
    mx__child_signal(c, hard ? SIGKILL : SIGTERM);
    if (!hard && c->kill_at == 0) c->kill_at = mx__now_seconds() + S->opt->grace;
  }
  while (S->nq) dequeue(S, S->nq - 1);
}

static void reload(sched *S, double now) {
  mx_schedule *ns = NULL;
  mx_error err;
  mx_error_clear(&err);
  if (mx_schedule_load(S->path, &ns, &err) != MX_OK ||
      (S->opt->store_dir && mx_schedule_use_store(ns, S->opt->store_dir, &err) != MX_OK)) {
    mx_schedule_free(ns);
    char buf[1200];
    logf_(S, "reload refused, keeping the previous schedule: %s",
          mx_error_format(&err, buf, sizeof buf));
    return;
  }
  if (strcmp(ns->store, S->s->store) != 0 || strcmp(ns->outputs, S->s->outputs) != 0) {
    logf_(S, "reload refused, keeping the previous schedule: %s: 'store' and 'outputs' cannot "
             "change while running (restart the scheduler)",
          S->path);
    mx_schedule_free(ns);
    return;
  }
  int64_t *next = malloc((size_t)(ns->njobs ? ns->njobs : 1) * sizeof *next);
  if (!next) {
    mx_schedule_free(ns);
    logf_(S, "reload refused: out of memory");
    return;
  }
  int64_t inow = (int64_t)floor(now);
  for (int i = 0; i < ns->njobs; i++) {
    mx_job *nj = &ns->jobs[i], *oj = find_job(S, nj->name);
    if (oj && strcmp(oj->cron_text, nj->cron_text) == 0 &&
        strcmp(mx_tz_name(oj->tz), mx_tz_name(nj->tz)) == 0) {
      next[i] = S->next[oj - S->s->jobs];
      continue;
    }
    /* A new or re-timed job starts from now: no catch-up of slots it never had. */
    mx_runs_state_set(S->db, nj->name, inow, &err);
    int64_t nx;
    next[i] = mx_cron_next(&nj->cron, nj->tz, inow, &nx) == MX_OK ? nx : INT64_MAX;
  }
  mx_schedule_free(S->s);
  free(S->next);
  S->s = ns;
  S->next = next;
  logf_(S, "reloaded %s: %d job(s)", S->path, ns->njobs);
}

static void collect_interrupted(void *ctx, const char *job, int64_t slot) {
  sched *S = ctx;
  if (S->ni == S->capi) {
    int nc = S->capi ? S->capi * 2 : 16;
    char **nj = realloc(S->ijob, (size_t)nc * sizeof *nj);
    if (nj) S->ijob = nj;
    int64_t *ns = realloc(S->islot, (size_t)nc * sizeof *ns);
    if (ns) S->islot = ns;
    if (!nj || !ns) return;
    S->capi = nc;
  }
  S->ijob[S->ni] = mx__strdup(job);
  S->islot[S->ni] = slot;
  S->ni++;
}

/* One scheduler per store: an exclusive flock on STORE.lock, held for the
 * process lifetime (released by the kernel even on SIGKILL). */
static int take_lock(const char *store, int *fd_out, mx_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s.lock", store);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return mx_error_set(err, MX_EIO, "cannot open %s: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    if (n > 0) pid[n] = 0;
    pid[strcspn(pid, "\n")] = 0;
    close(fd);
    return mx_error_at(err, MX_ESTATE, store, 0, 0, NULL,
                       "another scheduler (pid %s) is running with this store",
                       pid[0] ? pid : "?");
  }
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) { /* informative only */ }
  *fd_out = fd;
  return MX_OK;
}

int mx_sched_run(const char *path, const mx_sched_options *opt, mx_error *err) {
  sched S;
  memset(&S, 0, sizeof S);
  S.opt = opt;
  S.path = path;
  int rc = mx_schedule_load(path, &S.s, err);
  if (rc == MX_OK && opt->store_dir) rc = mx_schedule_use_store(S.s, opt->store_dir, err);
  if (rc != MX_OK) {
    mx_schedule_free(S.s);
    return rc;
  }
  if (opt->exe) {
    snprintf(S.exe, sizeof S.exe, "%s", opt->exe);
  } else {
    ssize_t n = readlink("/proc/self/exe", S.exe, sizeof S.exe - 1);
    if (n <= 0) {
      mx_schedule_free(S.s);
      return mx_error_set(err, MX_EIO, "cannot find the merx binary: %s", strerror(errno));
    }
    S.exe[n] = 0;
  }
  int lockfd = -1;
  const char *slash = strrchr(S.s->store, '/');
  if (slash && slash != S.s->store) { /* the store's directory may not exist yet */
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - S.s->store), S.s->store);
    mx__mkdir_p(dir);
  }
  if ((rc = take_lock(S.s->store, &lockfd, err)) != MX_OK) {
    mx_schedule_free(S.s);
    return rc;
  }
  if ((rc = mx_runs_open(S.s->store, 0, &S.db, err)) != MX_OK) goto out;
  mx__mkdir_p(S.s->outputs);
  /* Whatever was running when a previous scheduler died is abandoned now. */
  int nab = mx_runs_abandon_running(S.db, mx__wall_seconds(), err);
  if (nab < 0) {
    rc = nab;
    goto out;
  }
  if (nab > 0) logf_(&S, "%d run(s) abandoned by a previous scheduler", nab);
  if ((rc = mx_runs_interrupted(S.db, collect_interrupted, &S, err)) != MX_OK) goto out;
  for (int i = 0; i < S.s->njobs; i++) mx__outputs_clean_staging(S.s->outputs, S.s->jobs[i].name);

  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    rc = mx_error_set(err, MX_EIO, "pipe: %s", strerror(errno));
    goto out;
  }
  g_term = 0;
  g_hup = 0;
  struct sigaction sa, old_term, old_int, old_hup, old_chld;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGHUP, &sa, &old_hup);
  sigaction(SIGCHLD, &sa, &old_chld);
  /* A vanished log reader (journal restart, closed pipe) must not kill the
   * scheduler; children get SIGPIPE back before exec. */
  struct sigaction ign, old_pipe;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old_pipe);

  S.next = malloc((size_t)(S.s->njobs ? S.s->njobs : 1) * sizeof *S.next);
  if (!S.next) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto out_signals;
  }
  double now = now_clock(&S);
  int once = opt->once || opt->rerun_job;
  if (opt->rerun_job) {
    mx_job *j = find_job(&S, opt->rerun_job);
    int64_t check;
    if (!j) {
      rc = mx_error_at(err, MX_ENOTFOUND, path, 0, 0, NULL, "no job named '%s'", opt->rerun_job);
      goto out_signals;
    }
    if (mx_cron_next(&j->cron, j->tz, opt->rerun_slot - 1, &check) != MX_OK ||
        check != opt->rerun_slot) {
      char a[40];
      rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "%s is not a fire time of job '%s' ('%s' in %s)",
                       mx_tz_format(j->tz, opt->rerun_slot, a, sizeof a), j->name, j->cron_text,
                       mx_tz_name(j->tz));
      goto out_signals;
    }
    for (int i = 0; i < S.s->njobs; i++) S.next[i] = INT64_MAX;
    if ((rc = enqueue(&S, j->name, opt->rerun_slot, 1, now, 0)) != MX_OK) {
      rc = mx_error_set(err, rc, "out of memory");
      goto out_signals;
    }
    S.q[S.nq - 1].handles = 0; /* a rerun never moves catch-up's starting point */
  } else {
    for (int i = 0; i < S.s->njobs; i++) {
      if ((rc = catch_up(&S, i, now)) != MX_OK) {
        rc = mx_error_set(err, rc, "cannot read the scheduler state in %s", S.s->store);
        goto out_signals;
      }
    }
  }
  /* Test hook for the crash window between catch-up and the first run's row
   * (tests/cli/kill_schedule.sh): die here as a SIGKILL would. */
  if (getenv("MERX_TEST_SCHED_KILL_AFTER_CATCH_UP")) raise(SIGKILL);
  logf_(&S, "%s %s: %d job(s), store %s",
        opt->rerun_job ? "rerunning one slot of" : once ? "running due jobs of" : "scheduling", path,
        S.s->njobs, S.s->store);
  int seen_term = 0;
  for (;;) {
    now = now_clock(&S);
    if (g_term > seen_term) {
      seen_term = g_term;
      if (!S.stopping) logf_(&S, "stopping: %d run(s) in progress", S.na);
      stop_all(&S, seen_term > 1);
      S.stopping = 1;
    }
    if (g_hup && !S.stopping) {
      g_hup = 0;
      reload(&S, now);
    }
    reap(&S, now);
    supervise(&S);
    if (!S.stopping && !once)
      for (int i = 0; i < S.s->njobs; i++)
        if (S.next[i] <= (int64_t)floor(now)) catch_up(&S, i, now);
    if (!S.stopping) dispatch(&S, now);
    if ((S.stopping || once) && S.na == 0 && S.nq == 0) break;
    /* Sleep until the next thing to do, at most a minute (clock changes). */
    double wait = 60, mono = mx__now_seconds();
    if (!S.stopping && !once)
      for (int i = 0; i < S.s->njobs; i++)
        if (S.next[i] != INT64_MAX && (double)S.next[i] - now < wait)
          wait = (double)S.next[i] - now;
    for (int i = 0; i < S.nq; i++)
      if (S.q[i].due > now && S.q[i].due - now < wait) wait = S.q[i].due - now;
    for (int k = 0; k < S.na; k++) {
      const mx_child *c = &S.a[k].c;
      if (!c->timed_out && !c->stopped && !c->replaced && c->deadline - mono < wait)
        wait = c->deadline - mono;
      if (c->kill_at > 0 && c->kill_at - mono < wait) wait = c->kill_at - mono;
    }
    if (wait < 0) wait = 0;
    struct pollfd pfd = {g_pipe[0], POLLIN, 0};
    poll(&pfd, 1, (int)(wait * 1000) + 1);
    char drain[64];
    while (read(g_pipe[0], drain, sizeof drain) > 0) {}
  }
  logf_(&S, "%s", S.stopping ? "stopped" : "done");
  rc = MX_OK;
  if (once && S.failures > 0)
    rc = mx_error_at(err, MX_ESCRIPT, path, 0, 0, NULL, "%d run(s) failed (see `merx runs %s`)",
                     S.failures, path);
out_signals:
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGHUP, &old_hup, NULL);
  sigaction(SIGCHLD, &old_chld, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  close(g_pipe[0]);
  close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
out:
  for (int k = 0; k < S.na; k++) { /* only on an early error exit */
    mx__child_signal(&S.a[k].c, SIGKILL);
    mx__child_release(&S.a[k].c);
    free(S.a[k].job);
  }
  free(S.a);
  while (S.nq) dequeue(&S, S.nq - 1);
  free(S.q);
  for (int k = 0; k < S.ni; k++) free(S.ijob[k]);
  free(S.ijob);
  free(S.islot);
  free(S.next);
  mx_runs_close(S.db);
  mx_schedule_free(S.s);
  if (lockfd >= 0) close(lockfd);
  return rc;
}
