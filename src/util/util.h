/* Internal utilities shared by every layer: atomic output files, progress,
 * a small JSON writer, hashing, random numbers, aligned memory and threads.
 * Not part of the public API (include/merx/); the CLI and tests link them
 * statically. */
#ifndef MERX_UTIL_H
#define MERX_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include "merx/error.h"

/* ---------------------------------------------------------- atomic files
 * Outputs are written to "DIR/.NAME.tmp.PID.XXXXXX" in the target's directory,
 * then fsync'd and renamed over the target, and the directory fsync'd, so a
 * reader sees either the old file or the complete new one, never a part.
 * mx__atomic_open first removes temporaries of NAME left by dead writers.
 * What the path names decides how it is written:
 *  - a regular file, or nothing yet: atomically, as above;
 *  - a symlink (a chain of them, possibly dangling): the file it finally names
 *    is replaced atomically, the temporary beside it; the links are kept;
 *  - a character or block device, FIFO or socket (/dev/null, a named pipe):
 *    written in place, never renamed over (what a failed writer already wrote
 *    there stays written);
 *  - "-": standard output (mx__atomic_stdout_fd), in place. */
typedef struct mx_atomic_file {
  FILE *f;
  char *path;   /* path as given, for messages (owned) */
  char *tmp;    /* temporary path (owned); NULL when written in place */
  char *target; /* file renamed over: path with its symlinks resolved (owned) */
  char *backup; /* after mx__atomic_publish: hard link to the replaced target (owned) */
  int state;    /* 0 open, 1 prepared (temporary closed), 2 published */
  int existed;  /* published over an existing target */
} mx_atomic_file;

/* Open a temporary file beside the target, or the device, FIFO or standard
 * output itself. On error nothing is created. */
int mx__atomic_open(mx_atomic_file *af, const char *path, mx_error *err);
/* Flush, fsync, rename into place (in place: flush and close). On failure the
 * temporary file is removed and the old target left intact. af is released
 * in both cases. */
int mx__atomic_commit(mx_atomic_file *af, mx_error *err);
/* Drop the temporary file; the target is untouched. Accepts a zeroed af. */
void mx__atomic_abort(mx_atomic_file *af);
/* Several files that appear together or not at all (a run's commit).
 * mx__atomic_publish first prepares every file (flush, fsync, close: a full
 * disk or a file-size limit fails here, while nothing is visible), checks
 * every target (not a directory, its directory writable), then renames them
 * all, keeping a hard link to each replaced target. A failure at any step
 * puts back what was already renamed and aborts every file. After success
 * the caller ends the group with mx__atomic_settle (keep the new files, drop
 * the backups) or mx__atomic_undo (restore the previous targets: the step
 * that had to follow the renames, a database commit, failed). Files written
 * in place (devices, FIFOs, "-") cannot be taken back. */
int mx__atomic_publish(mx_atomic_file *const *files, int n, mx_error *err);
void mx__atomic_settle(mx_atomic_file *const *files, int n);
void mx__atomic_undo(mx_atomic_file *const *files, int n);
/* The descriptor "-" writes to (STDOUT_FILENO by default); returns the
 * previous one. The CLI moves it when --out - must not share the stream its
 * summaries print to. Not thread-safe: set it before any writer runs. */
int mx__atomic_stdout_fd(int fd);
/* Write a whole buffer atomically. */
int mx__atomic_write(const char *path, const void *data, size_t len, mx_error *err);

/* ------------------------------------------------------------ progress
 * A one-line bar on stderr, drawn only when stderr is a terminal and at most
 * ~10 times a second. */
typedef struct mx_progress {
  const char *label;
  uint64_t total;
  uint64_t done;
  double started;
  double last_draw;
  int enabled;
} mx_progress;

void mx__progress_start(mx_progress *p, const char *label, uint64_t total);
void mx__progress_update(mx_progress *p, uint64_t done);
void mx__progress_finish(mx_progress *p);
/* Turn every later bar off (--quiet) or force-enable (tests). */
void mx__progress_set_enabled(int on);

/* ---------------------------------------------------------- JSON writer
 * Writes one JSON value to a FILE with commas handled; no parser here
 * (parsing uses jansson in src/net). */
typedef struct mx_json {
  FILE *f;
  int depth;
  int need_comma[32];
  int after_key;
} mx_json;

void mx__json_init(mx_json *j, FILE *f);
void mx__json_object_begin(mx_json *j);
void mx__json_object_end(mx_json *j);
void mx__json_array_begin(mx_json *j);
void mx__json_array_end(mx_json *j);
void mx__json_key(mx_json *j, const char *key);
void mx__json_string(mx_json *j, const char *s);
void mx__json_stringn(mx_json *j, const char *s, size_t n);
void mx__json_double(mx_json *j, double v); /* NaN/inf written as null */
/* All 17 significant digits (reads back as the same double); NaN/inf: null. */
void mx__json_double_exact(mx_json *j, double v);
void mx__json_int(mx_json *j, int64_t v);
void mx__json_bool(mx_json *j, int v);
void mx__json_null(mx_json *j);
/* Write s escaped as a JSON string literal (with quotes). */
void mx__json_escape(FILE *f, const char *s, size_t n);

/* --------------------------------------------------------------- hashing */
/* 64-bit hash of bytes, stable across runs and machines (used for sharding,
 * fingerprints and hash maps). */
uint64_t mx_hash64(const void *data, size_t len, uint64_t seed);

/* ------------------------------------------------------------------ rng */
/* xoshiro256** seeded through splitmix64: fast, reproducible streams. */
typedef struct mx_rng {
  uint64_t s[4];
} mx_rng;
void mx__rng_seed(mx_rng *r, uint64_t seed);
uint64_t mx__rng_next(mx_rng *r);
double mx__rng_uniform(mx_rng *r);           /* [0, 1) */
uint32_t mx__rng_below(mx_rng *r, uint32_t n); /* [0, n), unbiased */
double mx__rng_normal(mx_rng *r);            /* standard normal */

/* --------------------------------------------------------------- memory */
/* 64-byte aligned allocation (zeroed when zero is set); free with mx_free_aligned. */
void *mx_alloc_aligned(size_t size, int zero);
void mx_free_aligned(void *p);

/* --------------------------------------------------------------- threads */
/* Number of online cores (>= 1). */
int mx__cpu_count(void);
/* Resolve a user's thread option: <= 0 means all cores. */
int mx__threads_resolve(int requested);
/* Run fn(ctx, t, nthreads) on nthreads threads (t = 0..nthreads-1; t = 0 on
 * the calling thread) and wait for all. Returns the first non-zero status.
 * Shares whose thread cannot be started (or everything, when there is no
 * memory for the bookkeeping) run on the calling thread: same result. */
typedef int (*mx_thread_fn)(void *ctx, int t, int nthreads);
int mx__parallel_run(int nthreads, mx_thread_fn fn, void *ctx);
/* BLAS threads. OpenBLAS's thread count is process-wide, so who sets it is a
 * rule:
 *  - the program owns it: an application embedding libmerx sets it (or not)
 *    as it likes; the merx CLI leaves it to OpenBLAS (OPENBLAS_NUM_THREADS,
 *    else all cores). libmerx never changes it beyond one of its own calls;
 *  - a library call that needs another count for a stretch (1 around its own
 *    worker threads, so BLAS inside them does not oversubscribe the cores; or
 *    T for one big product) brackets that stretch with mx__blas_begin(n) ...
 *    mx__blas_end() on the thread that called it, before and after
 *    mx__parallel_run, never inside a worker. The first begin saves the count
 *    and the last end restores it, under a lock, so concurrent calls from
 *    several application threads nest instead of racing;
 *  - inside an mx__parallel_run region (worker threads and the calling
 *    thread's own share) both do nothing, so a bracket there cannot leave the
 *    process with a changed count (mx_forecast_batch's workers once did). */
void mx__blas_begin(int n);
void mx__blas_end(void);

/* ------------------------------------------------------------------ time */
double mx__now_seconds(void); /* monotonic clock, seconds */
/* Peak resident set size of this process in bytes (from getrusage). */
uint64_t mx__peak_rss_bytes(void);
/* The civil calendar, proleptic Gregorian (calendar.c): days since
 * 1970-01-01 from year, month 1..12, day and back; floor division for
 * negative times. */
int64_t mx__days_from_civil(int64_t y, int m, int d);
void mx__civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int mx__is_leap_year(int64_t y);
int mx__days_in_month(int64_t y, int m);
int64_t mx__floor_div(int64_t a, int64_t b);

/* --------------------------------------------------------------- strings */
char *mx__strdup(const char *s);
char *mx__strndup(const char *s, size_t n);
/* The word of `words` closest to word[0..len) in edit distance (insertions,
 * deletions, substitutions, adjacent swaps) when close enough to be a typo of
 * it, for "did you mean" hints; NULL otherwise. words are separated by
 * spaces and each ends at a space, '=' or '*' (so a CLI option spec is read as
 * it is written). *out_len (may be NULL) receives the length of the result,
 * which points into words. */
const char *mx__closest_word(const char *word, size_t len, const char *words, size_t *out_len);
/* "a, b, c" from the space-separated "a b c" into buf (truncated to size). Returns buf. */
char *mx__words_join(const char *words, char *buf, size_t size);
/* "A<sep>B<sep>..." of unsigned decimal integers (no sign, no spaces), at
 * most max of them, into out (parse.c). Returns how many, or -1. */
int mx__parse_uints(const char *s, char sep, unsigned long long *out, int max);
/* "NAME=NUMBER,NAME=NUMBER,..." (parse.c): fn gets each name (up to the
 * last '=' of its item, so names may hold '=') and its value; the first
 * non-zero return stops the walk and is returned. `what` ("EVENT=WEIGHT")
 * names the form in errors. */
typedef int (*mx_named_number_fn)(void *ctx, const char *name, size_t len, double value,
                                  mx_error *err);
int mx__parse_named_numbers(const char *spec, const char *what, mx_named_number_fn fn, void *ctx,
                           mx_error *err);
/* Read a whole file (transparently gunzipping .gz) into a NUL-terminated buffer. */
/* mkdir -p: create path and its missing parents (0777, less the umask).
 * Returns 0, or -1 with errno (ENAMETOOLONG past 4095 bytes). */
int mx__mkdir_p(const char *path);

int mx__read_file(const char *path, char **data, size_t *len, mx_error *err);
/* Map a whole regular file for a loader (mapfile.c): MAP_PRIVATE, read-only,
 * or with writable also PROT_WRITE (copy-on-write; the file never changes);
 * `what` names it in messages ("cannot open model: ..."). A file shorter than
 * min_size is not mapped: MX_EFORMAT with err untouched, *map NULL and
 * *starts_with_magic telling a cut file of the loader's format (first 8 bytes
 * are magic) from a foreign one, so the loader words the refusal. Unmap with
 * munmap(*map, *size). */
int mx__map_file(const char *path, const char *what, int writable, uint64_t min_size,
                const char magic[8], void **map, uint64_t *size, int *starts_with_magic,
                mx_error *err);

/* --------------------------------------------------- secrets (redact.c) */
/* Overwrite n bytes in a way the compiler cannot drop. */
void mx__secure_zero(void *p, size_t n);
/* Register a secret this process may send (a key read from the environment)
 * so mx__redact removes its bytes; secrets under 4 bytes are ignored. */
void mx__secret_add(const char *secret);
/* Copy len bytes of in to out (size bytes, always NUL-terminated, cut to
 * fit) with every registered secret and every bearer-shaped token ("Bearer
 * X", "sk-X") replaced by "[redacted]". Returns the bytes written. Every
 * excerpt and message merx makes from an HTTP answer goes through here. */
size_t mx__redact(const char *in, size_t len, char *out, size_t size);
/* Personal data by shape (e-mail addresses, phone numbers): does s hold any?
 * *what (may be NULL) names the first kind found. */
int mx__personal_find(const char *s, size_t len, const char **what);
/* Copy in to out (size bytes, NUL-terminated) with each address and number
 * replaced by "[email]" / "[phone]"; returns the bytes written. */
size_t mx__redact_personal(const char *in, size_t len, char *out, size_t size);

/* ---- CSV in blocks for parallel parsing (csv.c). mx__csv_take_block hands
 * out the next block of whole records (about want bytes; more when one
 * record is longer) from where mx_csv_next stopped: *data is writable and
 * the reader's until the next call; *first_line is the physical line of its
 * first byte, and the caller reports the block's newlines back with
 * mx__csv_block_done before the next block. 1 block, 0 end, <0 error.
 * mx__csv_split_block cuts a block at record boundaries near len*k/parts
 * (cuts[0] = 0 .. cuts[parts] = len). mx__csv_window_open reads records of
 * data[0, len) (whole records, split in place) as mx_csv_next does, from
 * line first_line, borrowing data and the parent's path and separator;
 * close it with mx_csv_close. mx__csv_next_line: line of the next unread byte. */
typedef struct mx_csv mx_csv;
int mx__csv_take_block(mx_csv *c, size_t want, char **data, size_t *len, long *first_line,
                      mx_error *err);
void mx__csv_block_done(mx_csv *c, long lines);
void mx__csv_split_block(const mx_csv *c, char *data, size_t len, int parts, size_t *cuts);
int mx__csv_window_open(const mx_csv *parent, char *data, size_t len, long first_line,
                       mx_csv **out, mx_error *err);
long mx__csv_next_line(const mx_csv *c);

#endif
