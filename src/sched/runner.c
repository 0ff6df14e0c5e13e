/* One scheduled run = one child process: `merx run SCRIPT --out STAGING
 * [--store DIR] ...`.
 *
 * The child writes into a staging directory OUTPUTS/JOB/.tmp-SLOT-... ; only a
 * successful run is committed, by renaming the staging directory to
 * OUTPUTS/JOB/SLOT (atomically exchanging it with an earlier result of the
 * same slot, so a rerun replaces the slot's outputs in one step). A failed,
 * timed-out or killed run leaves nothing under OUTPUTS/JOB/SLOT, and a daemon
 * that dies mid-run leaves only a staging directory, removed at the next start.
 *
 * The child leads its own process group (so a timeout kills whatever it
 * started) and asks the kernel to SIGKILL it when the scheduler dies
 * (PR_SET_PDEATHSIG), so no run outlives a crashed daemon unsupervised. Its
 * stdout and stderr go to OUTPUTS/.logs/JOB/SLOT.aN.log. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "merx/script.h"
#include "sched/internal.h"
#include "util/sha256.h"
#include "util/util.h"

double mx__wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void mx__slot_dirname(int64_t slot, char *buf, size_t size) {
  mx_civil c;
  mx__civil_split(slot, &c);
  snprintf(buf, size, "%04lld-%02d-%02dT%02d-%02d-%02dZ", (long long)c.year, c.mon, c.mday,
           c.hour, c.min, c.sec);
}

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", a, b);
  return s;
}

void mx__remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = path_join(path, e->d_name);
        if (p) mx__remove_tree(p);
        free(p);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

void mx__outputs_clean_staging(const char *root, const char *job) {
  char *dir = path_join(root, job);
  if (!dir) return;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strncmp(e->d_name, ".tmp-", 5) != 0 && strncmp(e->d_name, ".old-", 5) != 0) continue;
      char *p = path_join(dir, e->d_name);
      if (p) mx__remove_tree(p);
      free(p);
    }
    closedir(d);
  }
  free(dir);
}

/* The run's environment: what merx and its libraries read, not the rest of
 * the daemon's (cloud credentials, tokens of other tools). Kept: PATH, HOME,
 * LANG, LC_*, TZ, TZDIR, LD_LIBRARY_PATH (to find libmerx), MERX_* (merx's own
 * settings), OPENBLAS_* and OMP_* (BLAS threads), the variables the LLM
 * config names as secrets (key_env, webhook credentials: from
 * $MERX_LLM_CONFIG and MERX_LLM_KEY_ENV), and the job's `env` names. */
static int env_passes(const char *entry, const mx_job *job, char *const *secrets) {
  static const char *const names[] = {"PATH", "HOME", "LANG", "TZ", "TZDIR", "LD_LIBRARY_PATH"};
  static const char *const prefixes[] = {"LC_", "MERX_", "OPENBLAS_", "OMP_"};
  size_t n = strcspn(entry, "=");
  if (!entry[n]) return 0;
#define SAME(name) (strlen(name) == n && strncmp(entry, name, n) == 0)
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (SAME(names[i])) return 1;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0) return 1;
  for (char *const *s = secrets; *s; s++)
    if (SAME(*s)) return 1;
  for (int i = 0; i < job->nenv; i++)
    if (SAME(job->env[i])) return 1;
#undef SAME
  return 0;
}

/* NULL-terminated copy of the passing entries of environ (the strings are
 * environ's; free only the array). NULL when memory ran out. */
static char **child_environment(const mx_job *job) {
  extern char **environ;
  /* Errors in the config are the run's to report; here only names matter. */
  char **secrets = mx_script_secret_env();
  if (!secrets) return NULL;
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 1, sizeof *env);
  if (env) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (env_passes(environ[i], job, secrets)) env[k++] = environ[i];
  }
  mx_script_names_free(secrets);
  return env;
}

int mx__child_start(const char *exe, const char *root, const char *store_dir, const mx_job *job,
                   int64_t slot, int attempt, double timeout, mx_child *c, mx_error *err) {
  static unsigned counter;
  memset(c, 0, sizeof *c);
  c->pid = -1;
  char slotname[40], name[160];
  mx__slot_dirname(slot, slotname, sizeof slotname);
  char *jobdir = path_join(root, job->name);
  snprintf(name, sizeof name, ".tmp-%s-%ld-%u", slotname, (long)getpid(), counter++);
  c->tmp_dir = jobdir ? path_join(jobdir, name) : NULL;
  c->final_dir = jobdir ? path_join(jobdir, slotname) : NULL;
  char logdir[4096];
  snprintf(logdir, sizeof logdir, "%s/.logs/%s", root, job->name);
  snprintf(name, sizeof name, "%s.a%d.log", slotname, attempt);
  c->log_path = path_join(logdir, name);
  free(jobdir);
  if (!c->tmp_dir || !c->final_dir || !c->log_path) {
    mx__child_release(c);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (mx__mkdir_p(c->tmp_dir) != 0 || mx__mkdir_p(logdir) != 0) {
    int rc = mx_error_set(err, MX_EIO, "cannot create %s: %s", c->tmp_dir, strerror(errno));
    mx__child_release(c);
    return rc;
  }
  int logfd = open(c->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (logfd < 0) {
    int rc = mx_error_set(err, MX_EIO, "cannot create %s: %s", c->log_path, strerror(errno));
    mx__child_release(c);
    return rc;
  }
  /* argv: EXE run SCRIPT --out DIR --timeout T --set k=v ..., or for a
   * vacuum job EXE vacuum --store DIR --now SLOT --json (the ages measured
   * from the slot, so a catch-up deletes what the on-time run would have) */
  if (job->vacuum && !store_dir) {
    close(logfd);
    mx__child_release(c);
    return mx_error_set(err, MX_EINVAL,
                        "job '%s': a vacuum job needs a store folder (store = \"DIR\", "
                        "--store or MERX_STORE)",
                        job->name);
  }
  int argc = 0;
  char **argv = calloc((size_t)(12 + 2 * job->nparams + 2 * job->ndata), sizeof *argv);
  char tbuf[32];
  snprintf(tbuf, sizeof tbuf, "%g", timeout);
  char **sets = calloc((size_t)(job->nparams ? job->nparams : 1), sizeof *sets);
  char **envp = child_environment(job);
  if (!argv || !sets || !envp) {
    free(argv);
    free(sets);
    free(envp);
    close(logfd);
    mx__child_release(c);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  argv[argc++] = (char *)exe;
  char nowbuf[32];
  snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)slot);
  if (job->vacuum) {
    argv[argc++] = "vacuum";
    argv[argc++] = "--json";
  } else {
    argv[argc++] = "run";
    argv[argc++] = job->script;
    argv[argc++] = "--out";
    argv[argc++] = c->tmp_dir;
    argv[argc++] = "--timeout";
    argv[argc++] = tbuf;
  }
  /* merx.now() is the slot's scheduled instant, so a retry, a catch-up or a
   * rerun of a slot computes what the on-time run would have. */
  argv[argc++] = "--now";
  argv[argc++] = nowbuf;
  /* every slot commits to the deployment's ledger, so caps and "already
   * contacted" checks see the decisions of earlier slots */
  if (store_dir) {
    argv[argc++] = "--store";
    argv[argc++] = (char *)store_dir;
  }
  for (int i = 0; i < job->nparams; i++) {
    size_t n = strlen(job->param_keys[i]) + strlen(job->param_values[i]) + 2;
    sets[i] = malloc(n);
    if (sets[i]) snprintf(sets[i], n, "%s=%s", job->param_keys[i], job->param_values[i]);
    argv[argc++] = "--set";
    argv[argc++] = sets[i] ? sets[i] : "";
  }
  for (int i = 0; i < job->ndata; i++) { /* read-only data folders */
    argv[argc++] = "--data";
    argv[argc++] = job->data[i];
  }
  argv[argc] = NULL;
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    /* Child: only async-signal-safe calls until exec. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the scheduler died before prctl */
    signal(SIGPIPE, SIG_DFL); /* the scheduler ignores it; exec keeps ignored signals */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) dup2(nul, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    execve(exe, argv, envp);
    static const char msg[] = "merx schedule: cannot execute the runner\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
    _exit(127);
  }
  int saved = errno;
  close(logfd);
  for (int i = 0; i < job->nparams; i++) free(sets[i]);
  free(sets);
  free(argv);
  free(envp);
  if (pid < 0) {
    mx__child_release(c);
    return mx_error_set(err, MX_EIO, "fork failed: %s", strerror(saved));
  }
  setpgid(pid, pid); /* also from the parent, so signalling the group never races */
  c->pid = pid;
  c->started = mx__wall_seconds();
  c->deadline = mx__now_seconds() + timeout;
  return MX_OK;
}

void mx__child_signal(mx_child *c, int sig) {
  if (c->pid > 0) kill(-c->pid, sig);
}

/* Append {"path","bytes","digest"} for every regular file under dir. */
static int digest_tree(const char *dir, const char *rel, FILE *json, int *first) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  /* Sorted, so the list (and so the row) is the same for identical outputs. */
  char **names = NULL;
  size_t n = 0, cap = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    names[n++] = mx__strdup(e->d_name);
  }
  closedir(d);
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (names[i] && names[k] && strcmp(names[i], names[k]) > 0) {
        char *t = names[i];
        names[i] = names[k];
        names[k] = t;
      }
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    if (!names[i]) continue;
    char *p = path_join(dir, names[i]);
    char *r = rel[0] ? path_join(rel, names[i]) : mx__strdup(names[i]);
    struct stat st;
    if (p && r && lstat(p, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        rc |= digest_tree(p, r, json, first);
      } else if (S_ISREG(st.st_mode)) {
        char hex[65];
        uint64_t bytes = 0;
        if (mx__sha256_file(p, hex, &bytes) == 0) {
          fputs(*first ? "" : ",", json);
          *first = 0;
          fputs("{\"path\":", json);
          mx__json_escape(json, r, strlen(r));
          fprintf(json, ",\"bytes\":%llu,\"digest\":\"sha256:%s\"}", (unsigned long long)bytes,
                  hex);
        } else {
          rc = -1;
        }
      }
    }
    free(p);
    free(r);
    free(names[i]);
  }
  free(names);
  return rc;
}

static void fsync_dir(const char *path) {
  char *slash = strrchr(path, '/');
  char buf[4096];
  if (slash) snprintf(buf, sizeof buf, "%.*s", (int)(slash - path), path);
  else snprintf(buf, sizeof buf, ".");
  int fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* rename staging -> final; an existing final directory is swapped out in one
 * step (renameat2 RENAME_EXCHANGE) and then removed. */
static int commit_dir(const char *tmp, const char *final) {
  if (rename(tmp, final) == 0) {
    fsync_dir(final);
    return 0;
  }
  if (errno != ENOTEMPTY && errno != EEXIST) return -1;
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
    fsync_dir(final);
    mx__remove_tree(tmp); /* now holds the previous outputs */
    return 0;
  }
  /* Filesystems without RENAME_EXCHANGE: move the old one aside first. */
  char old[4200];
  snprintf(old, sizeof old, "%s.old-%ld", tmp, (long)getpid());
  char *slash = strrchr(tmp, '/');
  if (slash) snprintf(old, sizeof old, "%.*s/.old-%s", (int)(slash - tmp), tmp, slash + 1);
  if (rename(final, old) != 0) return -1;
  if (rename(tmp, final) != 0) {
    if (rename(old, final) != 0) { /* leave the old outputs under .old- */ }
    return -1;
  }
  fsync_dir(final);
  mx__remove_tree(old);
  return 0;
}

/* The last ~600 bytes of the log, from a line start, for the error column. */
static char *log_tail(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return mx__strdup("");
  char buf[601];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  long from = size > 600 ? size - 600 : 0;
  fseek(f, from, SEEK_SET);
  size_t n = fread(buf, 1, 600, f);
  fclose(f);
  buf[n] = 0;
  char *s = buf;
  if (from > 0) {
    char *nl = strchr(s, '\n');
    if (nl && nl[1]) s = nl + 1;
  }
  size_t len = strlen(s);
  while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) s[--len] = 0;
  /* The runs table and `merx runs --json` never hold a bearer-shaped token,
   * whatever the script printed. */
  char clean[sizeof buf * 2];
  mx__redact(s, len, clean, sizeof clean);
  return mx__strdup(clean);
}

const char *mx__child_finish(mx_child *c, int ws, int *exit_code, char **error, char **outputs,
                            char **output_dir) {
  *exit_code = -1;
  *error = NULL;
  *outputs = mx__strdup("[]");
  *output_dir = mx__strdup("");
  const char *status;
  int ok = 0;
  if (WIFEXITED(ws)) {
    *exit_code = WEXITSTATUS(ws);
    ok = *exit_code == 0;
  }
  /* `merx run --timeout` stops the script itself at the same deadline; a
   * failure at the deadline is the timeout whichever side acted first. */
  if (!ok && !c->stopped && !c->replaced && mx__now_seconds() >= c->deadline - 0.05)
    c->timed_out = 1;
  if (c->replaced) status = "replaced";
  else if (c->stopped) status = "stopped";
  else if (c->timed_out) status = "timeout";
  else status = ok ? "success" : "failed";
  /* A run that finished on its own despite a late signal still counts. */
  if (ok && (c->stopped || c->replaced) && !c->timed_out) status = "success";
  if (ok && c->timed_out) status = "timeout";
  if (strcmp(status, "success") == 0) {
    char *buf = NULL;
    size_t len = 0;
    FILE *json = open_memstream(&buf, &len);
    int first = 1;
    if (json) {
      fputc('[', json);
      digest_tree(c->tmp_dir, "", json, &first);
      fputc(']', json);
      fclose(json);
    }
    if (commit_dir(c->tmp_dir, c->final_dir) == 0) {
      free(*outputs);
      *outputs = buf ? buf : mx__strdup("[]");
      free(*output_dir);
      *output_dir = mx__strdup(c->final_dir);
      return status;
    }
    free(buf);
    char msg[600];
    snprintf(msg, sizeof msg, "cannot commit outputs to %s: %s", c->final_dir, strerror(errno));
    *error = mx__strdup(msg);
    return "failed";
  }
  char *tail = log_tail(c->log_path);
  char msg[1024];
  if (WIFSIGNALED(ws))
    snprintf(msg, sizeof msg, "%s%skilled by signal %d", c->timed_out ? "timed out; " : "",
             c->stopped ? "stopped; " : "", WTERMSIG(ws));
  else
    snprintf(msg, sizeof msg, "%sexit status %d", c->timed_out ? "timed out; " : "", *exit_code);
  size_t n = strlen(msg) + strlen(tail) + 4;
  *error = malloc(n);
  if (*error) snprintf(*error, n, "%s%s%s", msg, tail[0] ? ": " : "", tail);
  free(tail);
  return status;
}

void mx__child_release(mx_child *c) {
  if (c->tmp_dir) mx__remove_tree(c->tmp_dir);
  free(c->tmp_dir);
  free(c->final_dir);
  free(c->log_path);
  c->tmp_dir = c->final_dir = c->log_path = NULL;
}
