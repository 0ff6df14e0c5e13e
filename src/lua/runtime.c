/* One script run: state, limits, error reporting, commit (merx/script.h).
 *
 * Limits. Memory goes through a counting allocator: past the soft limit
 * (--memory) the allocator keeps serving and flags the run, and the hook
 * stops the script with a normal error (so the message handler gives the
 * line and a traceback); a hard limit 1/8 above it makes allocations fail, for
 * the case where a single C call allocates a lot at once (Lua then raises a
 * memory error, which skips the message handler, so the report uses the last
 * script position the allocator saw). Time, signals and memory arm the
 * count hook only when they fire (watchdog.c: a hook of any count costs Lua
 * 5.4 a trap on every instruction); the hook then checks the limits. Once a
 * run is stopped it stays stopped: the hook fires on every instruction and
 * raises again, and the sandbox's pcall/xpcall/coroutine.resume re-raise, so no
 * handler can swallow the stop; a run that was stopped never commits, even
 * when the script returns normally. */
#include "merx/script.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/config.h"
#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/allocate.h"
#include "merx/data.h"
#include "store/privacy.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/sha256.h"

static volatile sig_atomic_t g_interrupted;

void mx_script_interrupt(void) {
  g_interrupted = 1;
  mx__watch_interrupt();
}
int mx__script_interrupted(void) { return g_interrupted != 0; }

void mx__run_cancel(const mx_run *run, mx_cancel *c) {
  c->deadline = run->deadline;
  c->interrupt = &g_interrupted;
}

mx_script_options mx_script_defaults(void) {
  mx_script_options o;
  memset(&o, 0, sizeof o);
  o.out_dir = "out";
  o.timeout = 300;
  o.memory_mb = 1024;
  o.shard_count = 1;
  o.csv = 1;
  return o;
}

void mx_script_result_free(mx_script_result *r) {
  if (!r) return;
  free(r->traceback);
  r->traceback = NULL;
}

static void hook(lua_State *L, lua_Debug *ar);

/* Call the hook at the next instruction of the running script: on the main
 * state and on the coroutine running now (hooks are per Lua thread).
 * Async-signal-safe (watchdog.c calls it from its signal handler). */
void mx__run_arm_hook(mx_run *run) {
  lua_State *co = run->running;
  if (run->L) lua_sethook(run->L, hook, LUA_MASKCOUNT, 1);
  if (co && co != run->L) lua_sethook(co, hook, LUA_MASKCOUNT, 1);
}

/* The script position, for out-of-memory reports (a memory error skips the
 * message handler). Called by the allocator as it refuses, before the
 * error unwinds the stack; lua_getinfo "Sl" allocates nothing. */
static void note_position(mx_run *run) {
  lua_State *L = run->running ? run->running : run->L;
  lua_Debug ar;
  if (!L || !run->sandboxed) return;
  for (int level = 0; lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
      snprintf(run->last_source, sizeof run->last_source, "%s", ar.short_src);
      run->last_line = ar.currentline;
      return;
    }
}

int mx__run_charge(mx_run *run, size_t bytes) {
  if (run->mem_limit) {
    if (run->mem_used + bytes > run->mem_hard) return -1;
    if (run->mem_used + bytes > run->mem_limit && !run->mem_over) {
      run->mem_over = 1;
      mx__run_arm_hook(run);
    }
  }
  run->mem_used += bytes;
  return 0;
}

int mx__run_add_file(mx_run *run, const mx_atomic_file *af) {
  if (run->n_files == run->cap_files) {
    int nc = run->cap_files ? run->cap_files * 2 : 8;
    mx_atomic_file *nf = realloc(run->files, (size_t)nc * sizeof *nf);
    if (!nf) return -1;
    run->files = nf;
    run->cap_files = nc;
  }
  run->files[run->n_files] = *af;
  return run->n_files++;
}

void mx__run_uncharge(mx_run *run, size_t bytes) {
  run->mem_used = bytes > run->mem_used ? 0 : run->mem_used - bytes;
}

static void *run_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  mx_run *run = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    mx__run_uncharge(run, old);
    return NULL;
  }
  if (run->mem_limit && nsize > old) {
    size_t next = run->mem_used - old + nsize;
    if (next > run->mem_limit && !run->mem_over) {
      run->mem_over = 1;
      /* stop at the next instruction, while the script line is still
       * known (lua_sethook is safe to call asynchronously, as lua.c does
       * from its SIGINT handler) */
      mx__run_arm_hook(run);
    }
    /* after the above, so a refusal here always has mem_over set: a memory
     * error without it is the system's, not the --memory limit */
    if (next > run->mem_hard) {
      note_position(run);
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (!p) {
    note_position(run);
    return NULL;
  }
  run->mem_used = run->mem_used - old + nsize;
  return p;
}

/* Stop the run with a message located at the running script line. */
static void stop_run(lua_State *L, mx_run *run, const char *what) {
  lua_Debug ar;
  const char *src = "?";
  int line = 0;
  for (int level = 0; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) {
      src = ar.short_src;
      line = ar.currentline;
      break;
    }
  }
  if (line > 0)
    snprintf(run->stop_msg, sizeof run->stop_msg, "%s:%d: %s", src, line, what);
  else /* the script has returned: name it */
    snprintf(run->stop_msg, sizeof run->stop_msg, "%s: %s",
             run->script_path ? run->script_path : "(command line)", what);
  run->stopped = 1;
}

/* Stop the run if a limit or a signal says so; 1 when it is stopped. */
static int check_limits(lua_State *L, mx_run *run) {
  if (run->stopped) return 1;
  char what[200];
  if (g_interrupted)
    snprintf(what, sizeof what, "script interrupted by a signal");
  else if (run->mem_over)
    snprintf(what, sizeof what, "memory limit of %zu MB exceeded %s", run->mem_limit >> 20,
             run->during ? run->during : "(--memory)");
  else if (run->deadline > 0 && mx__now_seconds() > run->deadline)
    snprintf(what, sizeof what, "time limit of %g s exceeded %s", run->timeout,
             run->during ? run->during : "(--timeout)");
  else
    return 0;
  stop_run(L, run, what);
  /* from now on, the hook fires on every instruction */
  lua_sethook(L, hook, LUA_MASKCOUNT, 1);
  mx__run_arm_hook(run);
  return 1;
}

int mx__run_poll(lua_State *L, mx_run *run) {
  return run && run->sandboxed && check_limits(L, run);
}

static void hook(lua_State *L, lua_Debug *ar) {
  void *ud;
  lua_getallocf(L, &ud);
  mx_run *run = ud;
  (void)ar;
  if (!check_limits(L, run)) {
    /* armed for nothing (an alarm for a limit since lifted): free running again */
    lua_sethook(L, NULL, 0, 0);
    return;
  }
  lua_pushstring(L, run->stop_msg);
  lua_error(L);
}

/* Message handler: {message, traceback}. Non-string error objects are
 * described, and given the position of the code that raised them. */
/* Does msg start with a position, "CHUNK:LINE:"? */
static int has_position(const char *msg) {
  for (const char *p = msg; *p && *p != '\n'; p++) {
    if (*p != ':' || p == msg || p[1] < '0' || p[1] > '9') continue;
    const char *q = p + 1;
    while (*q >= '0' && *q <= '9') q++;
    if (*q == ':') return 1;
  }
  return 0;
}

/* Push msg prefixed with the position of the innermost Lua code on the
 * stack (error("x", 0), error objects with __tostring), so every report
 * names a script line as merx/script.h promises. */
static const char *locate(lua_State *L, const char *msg) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
      return lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
  return msg;
}

int mx__run_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg) {
    if (!has_position(msg)) msg = locate(L, msg);
  } else {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
      if (!has_position(msg)) msg = locate(L, msg);
    } else {
      lua_Debug ar;
      int level = 1, found = 0;
      while (lua_getstack(L, level++, &ar))
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
          found = 1;
          break;
        }
      if (found)
        msg = lua_pushfstring(L, "%s:%d: (error object is a %s value)", ar.short_src,
                              ar.currentline, luaL_typename(L, 1));
      else
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  lua_createtable(L, 2, 0);
  lua_pushstring(L, msg);
  lua_rawseti(L, -2, 1);
  luaL_traceback(L, L, NULL, 1);
  lua_rawseti(L, -2, 2);
  return 1;
}

static void warn_to_stderr(void *ud, const char *msg, int tocont) {
  mx_run *run = ud;
  FILE *f = run->err ? run->err : stderr;
  if (!run->warn_midline && !tocont && msg[0] == '@') return; /* control message (@on/@off) */
  if (!run->warn_midline) fputs("merx: warning: ", f);
  fputs(msg, f);
  if (!tocont) fputc('\n', f);
  run->warn_midline = tocont;
}

/* Open the (patched) standard libraries and push the merx module. */
/* Protected set-up (every step allocates, and an allocation failure outside
 * a protected call would make Lua abort the process): args are the loaded
 * chunk and the run (light userdata). Binds the run to the state, prepares
 * the sandbox and the merx module and makes the sandboxed environment, with
 * merx in it, the chunk's _ENV. */
int mx__run_setup(lua_State *L) {
  mx__lua_set_run(L, lua_touserdata(L, 2));
  lua_settop(L, 1);
  mx__sandbox_prepare(L);
  mx__luaopen_merx(L);
  int merx_idx = lua_gettop(L);
  mx__sandbox_push_env(L);
  lua_pushvalue(L, merx_idx);
  lua_setfield(L, -2, "merx");
  lua_setupvalue(L, 1, 1);
  return 0;
}

void mx__run_set_limits(mx_run *run, double timeout, size_t memory_mb) {
  run->timeout = timeout;
  if (memory_mb) {
    run->mem_limit = memory_mb << 20;
    size_t slack = run->mem_limit / 8;
    if (slack < ((size_t)4 << 20)) slack = (size_t)4 << 20;
    run->mem_hard = run->mem_limit + slack;
  }
}

/* A state whose allocator and warnings are the run's. */
lua_State *mx__run_open_state(mx_run *run) {
  lua_State *L = lua_newstate(run_alloc, run);
  if (!L) return NULL;
  run->L = L;
  /* generational collection, as the stock lua5.4 interpreter uses: rule
   * scripts make many short-lived tables and strings */
  lua_gc(L, LUA_GCGEN, 0, 0);
  lua_setwarnf(L, warn_to_stderr, run);
  lua_warning(L, "@on", 0);
  return L;
}

/* Arm the deadline: from here on the run's limits hold (watchdog.c). */
void mx__run_start_clock(lua_State *L, mx_run *run) {
  (void)L;
  run->deadline = run->timeout > 0 ? mx__now_seconds() + run->timeout : 0;
  mx__watch_arm(run);
  if (run->stopped || run->mem_over) mx__run_arm_hook(run);
}

/* Load a text chunk, let bind_env (called protected with the chunk and the run)
 * bind its _ENV, then run it under the run's limits. Returns the status;
 * the chunk's nresults results, or the error, are left on the stack. */
int mx__run_chunk(lua_State *L, mx_run *run, const char *code, size_t len, const char *name,
                     lua_CFunction bind_env, int nresults, int msgh_idx) {
  int status = luaL_loadbufferx(L, code, len, name, "t");
  if (status != LUA_OK) return status;
  lua_pushcfunction(L, bind_env);
  lua_pushvalue(L, -2);
  lua_pushlightuserdata(L, run);
  status = lua_pcall(L, 2, 0, msgh_idx);
  if (status != LUA_OK) return status;
  mx__run_start_clock(L, run);
  return lua_pcall(L, 0, nresults, msgh_idx);
}

/* The run is over: any finalizer or later hook raises at once. */
void mx__run_end(mx_run *run) {
  mx__watch_disarm(run);
  run->ended = 1;
  if (!run->stopped) snprintf(run->stop_msg, sizeof run->stop_msg, "run has ended");
  run->stopped = 1;
}

int mx__run_load_key(mx_run *run, mx_error *err) {
  mx_hmac_key key;
  int has = 0;
  int rc = mx__store_key(run->store_dir, &key, &has, err);
  if (rc != MX_OK || !has) return rc;
  run->pseudo = mx__pseudonymiser_create(&key);
  mx__hmac_key_clear(&key);
  return run->pseudo ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
}

void mx__run_free(mx_run *run) {
  if (!run) return;
  for (int i = 0; i < run->n_files; i++) mx__atomic_abort(&run->files[i]);
  free(run->files);
  mx__plan_free(run->plan);
  mx__exp_stage_free(run->experiments);
  mx__run_ledger_writes_free(run);
  free(run->script_path);
  free(run->script_dir);
  free(run->out_dir);
  for (int i = 0; i < run->n_data_dirs; i++) free(run->data_dirs[i]);
  free(run->data_dirs);
  free(run->log_path);
  free(run->store_dir);
  mx__pseudonymiser_free(run->pseudo);
  mx__reid_free(run->reid);
  mx__run_inputs_free(run);
  for (int i = 0; i < run->n_params; i++) {
    free(run->param_keys[i]);
    free(run->param_values[i]);
  }
  free(run->param_keys);
  free(run->param_values);
  free(run->solve_path);
  free(run->duals_path);
  mx_alloc_duals_free(run->duals);
  free(run->duals);
  mx_alloc_duals_free(run->solved);
  free(run->solved);
  free(run);
}

/* Absolute form of a directory path that may not exist yet. */
static char *absolute(const char *p) {
  char *r = realpath(p, NULL);
  if (r) return r;
  if (p[0] == '/') return mx__strdup(p);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  size_t n = strlen(cwd) + strlen(p) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", cwd, p);
  return s;
}

static char *dir_of(const char *path) {
  char *r = realpath(path, NULL);
  if (!r) return NULL;
  char *slash = strrchr(r, '/');
  if (slash == r) slash[1] = '\0';
  else if (slash) *slash = '\0';
  return r;
}

static void make_run_id(char *buf, size_t size, uint64_t script_hash) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char t[32];
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(t, sizeof t, "%Y%m%dT%H%M%SZ", &tm);
  uint64_t seed[3] = {(uint64_t)ts.tv_nsec, (uint64_t)getpid(), script_hash};
  snprintf(buf, size, "%s-%08llx", t,
           (unsigned long long)(mx_hash64(seed, sizeof seed, 7) & 0xffffffffULL));
}

static int fail(mx_error *err, int code, const char *msg) {
  return mx_error_set(err, code, "%s", msg);
}

/* The report of a failed protected call with the message handler: the
 * message ("SCRIPT:LINE: message", or the stop message of a run stopped by a
 * limit or a signal) into err, with code MX_ESCRIPT, MX_ELIMIT, MX_ENOMEM or
 * MX_EINTERRUPTED, and the traceback (malloc'd) into *traceback when given.
 * name: the script, for errors without a position. */
int mx__run_error(lua_State *L, mx_run *run, int status, const char *name, char **traceback,
                 mx_error *err) {
  char msg[1024];
  int code_err = MX_ESCRIPT;
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, 1);
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_pop(L, 1);
    lua_rawgeti(L, -1, 2);
    if (traceback && lua_tostring(L, -1)) *traceback = mx__strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  } else if (status == LUA_ERRMEM && !run->mem_over) {
    /* the system refused memory below the --memory limit */
    if (run->last_line > 0)
      snprintf(msg, sizeof msg, "%s:%d: out of memory", run->last_source, run->last_line);
    else
      snprintf(msg, sizeof msg, "%s: out of memory", name);
    code_err = MX_ENOMEM;
  } else if (status == LUA_ERRMEM) {
    if (run->last_line > 0)
      snprintf(msg, sizeof msg, "%s:%d: memory limit of %zu MB exceeded %s",
               run->last_source, run->last_line, run->mem_limit >> 20,
               run->during ? run->during : "(--memory)");
    else
      snprintf(msg, sizeof msg, "%s: memory limit of %zu MB exceeded %s",
               name, run->mem_limit >> 20, run->during ? run->during : "(--memory)");
    code_err = MX_ELIMIT;
  } else {
    /* no handler ran: a syntax error (located by the parser) or an error
     * inside the message handler itself */
    const char *m = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
    if (has_position(m))
      snprintf(msg, sizeof msg, "%s", m);
    else if (status == LUA_ERRSYNTAX) /* refused at the first byte: the binary-chunk mark */
      snprintf(msg, sizeof msg, "%s:1: %s", name, m);
    else if (run->last_line > 0)
      snprintf(msg, sizeof msg, "%s:%d: %s", run->last_source, run->last_line, m);
    else
      snprintf(msg, sizeof msg, "%s: %s", name, m);
  }
  if (run->stopped) {
    snprintf(msg, sizeof msg, "%s", run->stop_msg);
    code_err = g_interrupted ? MX_EINTERRUPTED : MX_ELIMIT;
  } else if (run->mem_over && status != LUA_ERRMEM) {
    if (run->last_line > 0)
      snprintf(msg, sizeof msg, "%s:%d: memory limit of %zu MB exceeded %s",
               run->last_source, run->last_line, run->mem_limit >> 20,
               run->during ? run->during : "(--memory)");
    else
      snprintf(msg, sizeof msg, "%s: memory limit of %zu MB exceeded %s",
               name, run->mem_limit >> 20, run->during ? run->during : "(--memory)");
    code_err = MX_ELIMIT;
  }
  return fail(err, code_err, msg);
}

int mx__run_set_data_dirs(mx_run *run, int n, const char *const *dirs, mx_error *err) {
  if (n > 0 && !(run->data_dirs = calloc((size_t)n, sizeof(char *))))
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    /* real paths: mx__lua_path compares where a file really is */
    struct stat st;
    char *real = realpath(dirs[i], NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      int rc = mx_error_at(err, MX_EIO, dirs[i], 0, 0, NULL, "data folder: %s",
                           real ? "not a directory" : strerror(errno));
      free(real);
      return rc;
    }
    run->data_dirs[run->n_data_dirs++] = real;
  }
  return MX_OK;
}

int mx_script_run(const mx_script_options *opt, mx_script_result *result, mx_error *err) {
  mx_script_result local;
  if (!result) result = &local;
  memset(result, 0, sizeof *result);
  mx_error_clear(err);
  if (!opt->path && !opt->code) return mx_error_set(err, MX_EINVAL, "no script given");

  mx_run *run = calloc(1, sizeof *run);
  if (!run) return mx_error_set(err, MX_ENOMEM, "out of memory");
  run->sandboxed = 1;
  run->dry_run = opt->dry_run || opt->solve_path; /* --solve writes nothing but the prices */
  run->out = opt->out ? opt->out : stdout;
  run->err = opt->err ? opt->err : stderr;
  run->shard_index = opt->shard_index;
  run->shard_count = opt->shard_count ? opt->shard_count : 1;
  mx__run_set_limits(run, opt->timeout, opt->memory_mb);
  if (opt->has_now) {
    run->now = opt->now;
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    run->now = ts.tv_sec;
  }
  run->plan = mx__plan_create();
  const char *out_dir = opt->out_dir && *opt->out_dir ? opt->out_dir : "out";
  run->out_dir = absolute(out_dir);
  char *code = NULL;
  size_t code_len = 0;
  int rc = MX_OK;
  if (!run->plan || !run->out_dir) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (opt->solve_path && run->shard_count > 1) {
    rc = mx_error_set(err, MX_EINVAL, "--solve prices the whole run: give it no --shard");
    goto done;
  }
  if (opt->solve_path && opt->duals_path) {
    rc = mx_error_set(err, MX_EINVAL, "--solve and --duals: give one of them");
    goto done;
  }
  run->solve_shards = opt->solve_shards;
  if (opt->solve_path && !(run->solve_path = mx__strdup(opt->solve_path))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if (opt->duals_path) {
    run->duals_path = mx__strdup(opt->duals_path);
    run->duals = calloc(1, sizeof *run->duals);
    if (!run->duals_path || !run->duals) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    if ((rc = mx_alloc_duals_load(opt->duals_path, run->duals, err)) != MX_OK) goto done;
    /* the prices shape every decision: part of the run's lineage */
    char *real = realpath(opt->duals_path, NULL);
    int noted = real ? mx__run_note_input(run, real) : 0;
    free(real);
    if (noted != 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
  }
  run->busy_timeout = opt->busy_timeout;
  if (opt->reidentify_path && !opt->store_dir) {
    rc = mx_error_set(err, MX_EINVAL, "--reidentify needs a store with a key (--store DIR)");
    goto done;
  }
  if (opt->store_dir) {
    /* the store's ledger is the decision log; the store holds no outputs */
    if (opt->log_path) {
      rc = mx_error_set(err, MX_EINVAL, "give a store or a decision log, not both");
      goto done;
    }
    /* a dry run reads the ledger (merx.history) but creates nothing */
    if (!opt->dry_run && (rc = mx__store_create(opt->store_dir, err)) != MX_OK) goto done;
    run->store_dir = absolute(opt->store_dir);
    run->log_path = run->store_dir ? mx__store_ledger_path(run->store_dir) : NULL;
    if (!run->log_path) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    if ((rc = mx__run_load_key(run, err)) != MX_OK) goto done;
    if (opt->reidentify_path && (rc = mx__reid_load(run, opt->reidentify_path, err)) != MX_OK)
      goto done;
    size_t n = strlen(run->store_dir);
    if (strncmp(run->out_dir, run->store_dir, n) == 0 &&
        (run->out_dir[n] == '/' || run->out_dir[n] == '\0')) {
      rc = mx_error_at(err, MX_EINVAL, out_dir, 0, 0, NULL,
                       "the output folder is inside the store %s: merx owns the store; "
                       "choose another --out", opt->store_dir);
      goto done;
    }
  } else if (opt->log_path == NULL) {
    size_t n = strlen(run->out_dir) + 16;
    run->log_path = malloc(n);
    if (run->log_path) snprintf(run->log_path, n, "%s/decisions.db", run->out_dir);
  } else if (*opt->log_path) {
    run->log_path = absolute(opt->log_path);
  }
  if ((rc = mx__run_set_data_dirs(run, opt->n_data_dirs, opt->data_dirs, err)) != MX_OK) goto done;
  if (opt->n_params > 0) {
    run->param_keys = calloc((size_t)opt->n_params, sizeof(char *));
    run->param_values = calloc((size_t)opt->n_params, sizeof(char *));
    if (!run->param_keys || !run->param_values) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    for (int i = 0; i < opt->n_params; i++) {
      run->param_keys[i] = mx__strdup(opt->param_keys[i]);
      run->param_values[i] = mx__strdup(opt->param_values[i]);
      run->n_params++;
    }
  }
  const char *chunkname;
  if (opt->path) {
    if ((rc = mx__read_file(opt->path, &code, &code_len, err)) != MX_OK) goto done;
    run->script_path = mx__strdup(opt->path);
    run->script_dir = dir_of(opt->path);
    if (!run->script_dir) {
      rc = mx_error_at(err, MX_EIO, opt->path, 0, 0, NULL, "cannot resolve the script's directory: %s",
                       strerror(errno));
      goto done;
    }
    chunkname = NULL;
  } else {
    code_len = strlen(opt->code);
    code = mx__strndup(opt->code, code_len);
    run->script_dir = absolute(".");
    chunkname = "=(command line)";
  }
  if (!code || !run->script_dir) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  run->script_hash = mx_hash64(code, code_len, 0);
  mx_sha256 sha;
  mx__sha256_init(&sha);
  mx__sha256_update(&sha, code, code_len);
  mx__sha256_hex(&sha, run->script_sha256);
  make_run_id(run->run_id, sizeof run->run_id, run->script_hash);

  lua_State *L = mx__run_open_state(run);
  if (!L) {
    rc = mx_error_set(err, MX_ENOMEM, "cannot create a Lua state");
    goto done;
  }

  /* Set-up runs in protected mode too (the allocator may refuse). */
  lua_pushcfunction(L, mx__run_msgh);
  int msgh_idx = lua_gettop(L);
  char namebuf[PATH_MAX + 2];
  if (!chunkname) {
    snprintf(namebuf, sizeof namebuf, "@%s", opt->path);
    chunkname = namebuf;
  }
  /* a first line starting with '#' (#!/usr/bin/env merx run) is skipped,
   * keeping the newline so line numbers stay right */
  if (code_len > 0 && code[0] == '#') {
    size_t i = 0;
    while (i < code_len && code[i] != '\n') code[i++] = ' ';
    code[0] = '-';
    if (code_len > 1) code[1] = '-';
  }
  /* prepare the sandbox and the merx module, bind _ENV, run */
  int status = mx__run_chunk(L, run, code, code_len, chunkname, mx__run_setup, 0, msgh_idx);
  /* the limits hold up to the commit: a script that overran in a C call and
   * then returned (or was signalled meanwhile) commits nothing */
  if (status == LUA_OK && check_limits(L, run)) status = LUA_ERRRUN;
  if (status != LUA_OK)
    rc = mx__run_error(L, run, status, opt->path ? opt->path : "(command line)",
                      &result->traceback, err);
  result->decisions = mx__plan_count(run->plan);
  snprintf(result->run_id, sizeof result->run_id, "%s", run->run_id);

  if (rc == MX_OK && opt->solve_path) {
    if (!run->solved)
      rc = mx_error_set(err, MX_EINVAL, "%s: --solve: the script made no budgeted choice to price "
                        "(merx.campaign, merx.util.select or merx.allocate with a budget or caps)",
                        opt->path ? opt->path : "(command line)");
    else if ((rc = mx_alloc_duals_write(opt->solve_path, run->solved, err)) == MX_OK)
      fprintf(run->err, "solve %s: prices of %d limits and %zu caps written to %s; nothing "
              "committed\n", result->run_id, run->solved->n_resources, run->solved->n_caps,
              opt->solve_path);
  } else if (rc == MX_OK && opt->dry_run) {
    mx__plan_print(run->plan, run->out);
    fprintf(run->err, "dry run %s: %zu decisions staged", result->run_id, result->decisions);
    for (int k = 0; k < mx__plan_kinds(run->plan); k++)
      fprintf(run->err, "%s%zu %s", k ? ", " : " (", mx__plan_kind_count(run->plan, k),
              mx__plan_kind_name(run->plan, k));
    fprintf(run->err, "%s, %d files; nothing committed\n",
            mx__plan_kinds(run->plan) ? ")" : "", run->n_files);
    mx__exp_stage_print(run->experiments, run->err);
  } else if (rc == MX_OK) {
    char hash[24], when[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)run->script_hash);
    mx_format_time(run->now, 0, when, sizeof when);
    char *params = NULL;
    size_t params_len = 0;
    FILE *pf = open_memstream(&params, &params_len);
    if (pf) {
      mx_json j;
      mx__json_init(&j, pf);
      mx__json_object_begin(&j);
      for (int i = 0; i < run->n_params; i++) {
        mx__json_key(&j, run->param_keys[i]);
        mx__json_string(&j, run->param_values[i]);
      }
      mx__json_object_end(&j);
      fclose(pf);
    }
    mx_commit_info ci = {result->run_id, opt->path ? opt->path : "(command line)", hash,
                         params ? params : "{}", when, run->log_path, run->out_dir,
                         opt->csv || !opt->jsonl, opt->jsonl, run->script_sha256};
    rc = mx__plan_commit(run->plan, run, &ci, err);
    free(params);
    if (rc == MX_OK) result->committed = 1;
    mx__reid_counts(run->reid, &result->reidentified, &result->not_reidentified);
  }
  /* The run is over: objects kept alive by finalizers refuse work, and any
   * finalizer that loops is stopped by the hook at once. */
  mx__run_end(run);
  lua_close(L);
  run->L = NULL;
done:
  free(code);
  mx__run_free(run);
  return rc;
}

/* ---- configuration chunks (lua/config.h) */

typedef struct config_call {
  mx_config_reader read;
  void *ctx;
  mx_error *err;
  int rc;
} config_call;

/* Protected set-up of a configuration chunk (arg 1): the sandbox without the
 * merx module becomes its _ENV. */
static int config_setup(lua_State *L) {
  mx__lua_set_run(L, lua_touserdata(L, 2));
  lua_settop(L, 1);
  mx__sandbox_prepare(L);
  mx__sandbox_push_env(L);
  lua_setupvalue(L, 1, 1);
  return 0;
}

/* Protected reader: arg 1 the chunk's value, arg 2 the config_call. */
static int config_read(lua_State *L) {
  config_call *c = lua_touserdata(L, 2);
  lua_settop(L, 1);
  c->rc = c->read(L, c->ctx, c->err);
  return 0;
}

int mx__config_eval(const char *path, const char *src, size_t len, const mx_config_limits *lim,
                   mx_config_reader read, void *ctx, mx_error *err) {
  mx_run *run = calloc(1, sizeof *run);
  if (!run) return mx_error_set(err, MX_ENOMEM, "out of memory");
  run->sandboxed = 1;
  run->dry_run = 1; /* nothing it could reach may touch the disk */
  run->out = stderr;
  run->err = stderr;
  run->shard_count = 1;
  run->during = lim->during;
  run->script_path = mx__strdup(path);
  mx__run_set_limits(run, lim->timeout, lim->memory_mb);
  lua_State *L = run->script_path ? mx__run_open_state(run) : NULL;
  if (!L) {
    mx__run_free(run);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char chunkname[PATH_MAX + 2];
  snprintf(chunkname, sizeof chunkname, "@%s", path);
  config_call call = {read, ctx, err, MX_OK};
  lua_pushcfunction(L, mx__run_msgh);
  int msgh_idx = lua_gettop(L);
  int status = mx__run_chunk(L, run, src, len, chunkname, config_setup, 1, msgh_idx);
  if (status == LUA_OK && !check_limits(L, run)) {
    /* read the value under the same limits (its metamethods are script code) */
    lua_pushcfunction(L, config_read);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &call);
    status = lua_pcall(L, 2, 0, msgh_idx);
  } else if (status == LUA_OK) {
    status = LUA_ERRRUN;
  }
  int rc = call.rc;
  if (status != LUA_OK) {
    char msg[1024];
    if (run->stopped) {
      snprintf(msg, sizeof msg, "%s", run->stop_msg);
    } else if (status == LUA_ERRMEM) {
      char where[300];
      if (run->last_line > 0) snprintf(where, sizeof where, "%s:%d", run->last_source, run->last_line);
      else snprintf(where, sizeof where, "%s", path);
      snprintf(msg, sizeof msg, "%s: memory limit of %zu MB exceeded %s", where,
               run->mem_limit >> 20, run->during ? run->during : "");
    } else if (lua_istable(L, -1)) {
      lua_rawgeti(L, -1, 1);
      snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    } else {
      snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    }
    rc = mx_error_set(err, run->stopped || status == LUA_ERRMEM ? MX_ELIMIT : MX_EPARSE, "%s", msg);
  }
  mx__run_end(run);
  lua_close(L);
  mx__run_free(run);
  return rc;
}
