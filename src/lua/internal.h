/* Internals of the Lua runtime shared by the files of src/lua/ (not for area bindings,
 * which use lmerx.h). */
#ifndef MERX_LUA_INTERNAL_H
#define MERX_LUA_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <lua.h>
#include "merx/error.h"
#include "util/util.h"

typedef struct mx_plan mx_plan;
typedef struct mx_exp_stage mx_exp_stage;
typedef struct mx_ledger_write mx_ledger_write;

/* One run of one script. Lives from before lua_newstate to after lua_close
 * (the allocator reads it), so it is malloc'd by the runtime, not by Lua.
 * In merx.so (stock lua5.4) a non-sandboxed run is created by the module
 * opener as a userdata and lives as long as the module. */
typedef struct mx_run {
  int sandboxed;          /* 1 inside `merx run`; 0 in merx.so */
  int dry_run;            /* nothing touches the disk: data.write only counts */
  /* memory: bytes allocated by Lua plus bytes held by the staged plan */
  size_t mem_used, mem_limit, mem_hard; /* limits 0 = none */
  int mem_over;           /* soft limit crossed: the hook stops the script */
  lua_State *L;           /* main thread, for re-arming the hook from the allocator */
  lua_State *volatile running; /* the coroutine running now (NULL: the main thread) */
  struct mx_run *watch_prev; /* the run this thread had armed before (watchdog.c) */
  int watch_armed;
  double deadline;        /* mx__now_seconds() bound; 0 = none */
  double timeout;
  int stopped;            /* sticky: every later hook raises again */
  const char *during;     /* ends limit messages; NULL: "(--timeout)" / "(--memory)" */
  char stop_msg[512];     /* first stop message with its script position */
  int ended;              /* the run is over: objects and merx.* refuse work */
  /* last script position seen by the allocator as it refused (for
   * out-of-memory reports, which skip the message handler) */
  char last_source[256];
  int last_line;
  /* context */
  char run_id[64];
  char *script_path;      /* as given (for messages and the log); NULL for -e */
  char *script_dir;       /* absolute, real path */
  char *out_dir;          /* absolute; created on first write */
  char *log_path;         /* SQLite decision log (the store's ledger); NULL: none */
  char *store_dir;        /* absolute store folder; NULL: no store */
  struct mx_pseudonymiser *pseudo; /* the store's key: merx.data.read replaces
                                      `user` ids by pseudonyms; NULL: no key */
  struct mx_reid *reid;   /* --reidentify: real ids for the output files */
  double busy_timeout;    /* seconds a commit waits for the ledger's write lock */
  char script_sha256[65]; /* lineage: the script's content */
  char **data_dirs;       /* read-only data folders (--data): absolute, real paths */
  int n_data_dirs;
  uint64_t script_hash;
  int64_t now;            /* merx.now(), epoch seconds */
  uint32_t shard_index, shard_count;
  /* global limits under --shard (lshard.c) */
  char *solve_path;       /* --solve FILE: save the prices, commit nothing */
  uint32_t solve_shards;  /* --shards N with --solve: save N shards' quotas too */
  char *duals_path;       /* --duals FILE, loaded into duals at start */
  struct mx_alloc_duals *duals;
  struct mx_alloc_duals *solved; /* prices of the run's budgeted choice (--solve) */
  int shard_warned;       /* the even-quota warning was printed */
  int personal_warned;    /* a reason with personal data was reported */
  int n_params;
  char **param_keys, **param_values;
  FILE *out;              /* print() */
  FILE *err;              /* merx.log, warnings */
  int warn_midline;       /* a multi-part Lua warning is being printed */
  mx_plan *plan;
  /* files written by merx.data.write, renamed into place at commit */
  mx_atomic_file *files;
  int n_files, cap_files;
  /* lineage: the model and data files the script opened */
  struct mx_run_input *inputs;
  int n_inputs, cap_inputs;
  uint64_t written;       /* bytes merx.data.write wrote (capped: MX_WRITE_CAP_FACTOR) */
  mx_exp_stage *experiments; /* merx.experiment definitions and staged exposures */
  mx_ledger_write *ledger_writes; /* staged state changes (staged.c), in staging order */
} mx_run;

/* Has mx_script_interrupt been called (a signal asked every run to stop)? */
int mx__script_interrupted(void);

/* merx.data.write may write at most this many times --memory per run in
 * all: the same string referenced from many rows costs memory once but is
 * written each time. */
#define MX_WRITE_CAP_FACTOR 4

/* The run of a state (stored in the registry by the module opener). */
mx_run *mx__lua_run(lua_State *L);
void mx__lua_set_run(lua_State *L, mx_run *run);

/* Account bytes of C-side memory (plan, buffers) against the run's limit.
 * Returns 0, or -1 when the hard limit would be exceeded (nothing counted). */
int mx__run_charge(mx_run *run, size_t bytes);
void mx__run_uncharge(mx_run *run, size_t bytes);

/* Register an open output file (merx.data.write, merx.measure's reports)
 * to be renamed into place when the run commits (aborted if it fails).
 * Returns its slot in run->files, or -1 when out of memory (af untouched). */
int mx__run_add_file(mx_run *run, const mx_atomic_file *af);

/* For C code that runs long inside one call, where the count hook cannot
 * see it: has the run been stopped (signal, memory, deadline)? The first
 * time, this sets the run's sticky stop with a message at the calling
 * script line, exactly as the hook would. Returns 1 when stopped (the caller
 * raises run->stop_msg), 0 to go on; always 0 outside `merx run`. */
int mx__run_poll(lua_State *L, mx_run *run);

/* The run's cancellation for core calls: its deadline and the flag
 * mx_script_interrupt sets. */
void mx__run_cancel(const mx_run *run, mx_cancel *c);

/* Is id in this run's shard? (always 1 without --shard) */
int mx__run_in_shard(const mx_run *run, const char *id, size_t len);

/* ---- the pieces of a run, for runs other than mx_script_run (decide.c):
 * a state whose allocator is run's; set-up (protected, args: the chunk and
 * the run as light userdata: sandbox, merx module, _ENV); loading and running
 * a chunk under the limits; the limits and their clock; the message handler
 * ({message, traceback}); the report of a failed call; the end of a run. */
void mx__run_set_limits(mx_run *run, double timeout, size_t memory_mb);
lua_State *mx__run_open_state(mx_run *run);
int mx__run_setup(lua_State *L);
int mx__run_msgh(lua_State *L);
void mx__run_start_clock(lua_State *L, mx_run *run);
/* Set the count hook (count 1) on the run's main state and running coroutine;
 * async-signal-safe. */
void mx__run_arm_hook(mx_run *run);
/* The alarm (watchdog.c): arm this thread for run (its deadline, signals),
 * remembering what it had armed; disarm restores that. Disarm on the thread
 * that armed, before the run's state is closed or used by another thread. */
void mx__watch_arm(mx_run *run);
void mx__watch_disarm(mx_run *run);
/* Fire every armed thread's alarm now (async-signal-safe). */
void mx__watch_interrupt(void);
int mx__run_chunk(lua_State *L, mx_run *run, const char *code, size_t len, const char *name,
                 lua_CFunction bind_env, int nresults, int msgh_idx);
int mx__run_error(lua_State *L, mx_run *run, int status, const char *name, char **traceback,
                 mx_error *err);
void mx__run_end(mx_run *run);
/* The run's read-only data folders (merx run --data): real paths, each must
 * be a directory (MX_EIO naming it). */
int mx__run_set_data_dirs(mx_run *run, int n, const char *const *dirs, mx_error *err);
/* Free a run (after lua_close of its state); accepts NULL. */
void mx__run_free(mx_run *run);
/* The store's key (run->store_dir set) into run->pseudo, when it has one. */
int mx__run_load_key(mx_run *run, mx_error *err);
/* --reidentify (reidentify.c): real ids of FILE by pseudonym, into run->reid. */
typedef struct mx_reid mx_reid;
int mx__reid_load(mx_run *run, const char *path, mx_error *err);
void mx__reid_free(mx_reid *r);
/* The real id of a pseudonym (borrowed), or NULL (counted as missing). */
const char *mx__reid_lookup(mx_reid *r, const char *pseudonym, size_t len, size_t *out_len);
void mx__reid_counts(const mx_reid *r, uint64_t *replaced, uint64_t *missing);

/* ---- lineage (lineage.c) */
typedef struct mx_run_input {
  char *path; /* absolute */
  char sha256[65];
  uint64_t bytes;
} mx_run_input;
/* Record that the script opened path for reading: its sha256 and size, once
 * per path. An unreadable file is skipped (its reader reports the error).
 * Returns 0, or -1 when out of memory. */
int mx__run_note_input(mx_run *run, const char *path);
void mx__run_inputs_free(mx_run *run);

/* Why the absolute path may not be written by a script (a file merx owns:
 * the decision log and its -wal/-shm/-journal, anything in the store folder,
 * another SQLite database or its lock, a schedule's .logs), written into
 * why; NULL when it may (lhelpers.c). */
const char *mx__run_output_refused(const mx_run *run, const char *path, char *why, size_t size);

/* ---- staged decision plan (staged.c) */
mx_plan *mx__plan_create(void);
void mx__plan_free(mx_plan *p);
/* Stage the record table at idx under kind; raises Lua errors on bad input. */
void mx__plan_emit(lua_State *L, mx_run *run, const char *kind, int idx);
/* In a keyed run, the field `user` of the table at idx as the ledger keeps it
 * (lmerx.c; util/pseudonym.h mx__pseudonym_user); nothing otherwise. */
void mx__lua_pseudonymise_user(lua_State *L, mx_run *run, int idx);
/* Is kind a valid decision kind (1-64 letters, digits, '_' or '-')? */
int mx__plan_kind_ok(const char *kind);
size_t mx__plan_count(const mx_plan *p);
int mx__plan_kinds(const mx_plan *p);
const char *mx__plan_kind_name(const mx_plan *p, int k);
size_t mx__plan_kind_count(const mx_plan *p, int k);
/* Write the plan as CSV sections to f (dry run). */
void mx__plan_print(const mx_plan *p, FILE *f);
/* Commit: one file per kind in out_dir (csv and/or jsonl), the run's staged
 * data files, and the rows and lineage in the SQLite decision log, as one
 * unit: all of them or none. */
typedef struct mx_commit_info {
  const char *run_id;
  const char *script;      /* path or "(command line)" */
  const char *script_hash; /* hex */
  const char *params_json;
  const char *time_iso;    /* merx.now() */
  const char *log_path;    /* NULL: no log */
  const char *out_dir;
  int csv, jsonl;
  const char *script_sha256; /* lineage; NULL: unknown */
} mx_commit_info;
int mx__plan_commit(mx_plan *p, mx_run *run, const mx_commit_info *ci, mx_error *err);

/* ---- experiments (lexperiment.c): definitions, assignments and exposures
 * staged by merx.experiment objects, committed with the plan. */
struct mx_decision_log;
void mx__exp_stage_free(mx_exp_stage *s);
size_t mx__exp_stage_count(const mx_exp_stage *s); /* staged exposures */
/* After a commit (merx.commit): drop the staged rows, keep the definitions. */
void mx__exp_stage_committed(mx_exp_stage *s);
/* Dry run: one line per experiment, exposures per arm. */
void mx__exp_stage_print(const mx_exp_stage *s, FILE *f);
/* Inside the commit's transaction: define every experiment of the run
 * (refused when the ledger has another definition under its name), then
 * insert the assignments (first one kept) and exposures. */
int mx__exp_stage_commit(const mx_exp_stage *s, struct mx_decision_log *log,
                        const mx_commit_info *ci, const char *committed_at, mx_error *err);
/* State a binding keeps in the store's ledger (bandit posteriors, ...)
 * changes with the run or not at all: the binding stages a write, and
 * mx__plan_commit applies it inside the ledger transaction of the run's
 * decisions, after them. A dry run never applies it. apply gets the open
 * ledger, the run id and its time (ISO 8601 UTC); release (called once, when
 * the run is freed or the write was committed) frees state. */
struct mx_decision_log;
struct mx_ledger_write {
  int (*apply)(void *state, struct mx_decision_log *log, const char *run_id,
               const char *time_iso, mx_error *err);
  void (*release)(void *state);
  void *state;
  mx_ledger_write *next;
};
/* Append a write; returns 0, or -1 when out of memory (release not called). */
int mx__run_stage_ledger_write(mx_run *run, int (*apply)(void *, struct mx_decision_log *,
                                                        const char *, const char *, mx_error *),
                              void (*release)(void *), void *state);
void mx__run_ledger_writes_free(mx_run *run);

/* One staged record as /v1/decide reads it: the record as a JSON object
 * without its reason (as the ledger stores it), the user (NULL when the
 * record has none; not NUL-terminated: use user_len) and the reason. */
typedef struct mx_plan_row {
  const char *kind;
  const char *user;
  size_t user_len;
  const char *record_json; /* NUL-terminated, valid during the call */
  const char *reason;
  size_t reason_len;
} mx_plan_row;
typedef int (*mx_plan_row_fn)(void *ctx, const mx_plan_row *row);
/* fn for each staged record, kind by kind, in staging order; stops at and
 * returns fn's first non-zero result (MX_ENOMEM when out of memory). */
int mx__plan_each(const mx_plan *p, mx_plan_row_fn fn, void *ctx);
/* Drop every staged record (and its memory charge to run). */
void mx__plan_clear(mx_plan *p, mx_run *run);

/* ---- module pieces */
int mx__luaopen_merx(lua_State *L);   /* pushes the merx table */
int mx__luaopen_data(lua_State *L);
int mx__luaopen_model(lua_State *L);
int mx__luaopen_util(lua_State *L);
/* Load the embedded pure-Lua helper `name` (lua/merx/NAME.lua) and push the
 * value it returns. env: index of the environment table, 0 = globals. */
int mx__lua_load_helper(lua_State *L, const char *name, int env);

/* merx.util.check_options(opts, fn, known) -> opts: mx__lua_check_options for
 * the pure-Lua helpers (lua/merx/), blaming the line that called the helper. */
int mx__lua_check_options_l(lua_State *L);

/* ---- sandbox (sandbox.c) */
/* Replace costly builtins in the state's standard libraries by capped ones,
 * protect the string metatable, and push a fresh script environment. */
void mx__sandbox_prepare(lua_State *L);
void mx__sandbox_push_env(lua_State *L);
/* Set string.find/match/gmatch/gsub in the table at idx to the matcher with
 * a step budget (lpattern.c), which polls the run (mx__run_poll). */
void mx__pattern_install(lua_State *L, int idx);

#endif
