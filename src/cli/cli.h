/* CLI helpers shared by every subcommand: option parsing, exit codes, error
 * printing and common option groups (CSV input). Each subcommand lives in its
 * own cmd_NAME.c and is listed in commands.def. */
#ifndef MERX_CLI_H
#define MERX_CLI_H

#include <stdint.h>
#include "merx/error.h"
#include "merx/data.h"

enum { MX_EXIT_OK = 0, MX_EXIT_FAIL = 1, MX_EXIT_USAGE = 2 };

/* Parsed options. The spec is a space-separated list of option names:
 * "name" is a flag, "name=" takes a value, "name*" takes a value and may
 * repeat. Values come as "--name value" or "--name=value". "-e" style short
 * options are spelled as single letters in the spec ("e="). Everything else
 * is a positional argument. */
typedef struct mx_args {
  const char *cmd; /* "train", "data stats", ... for messages */
  int n;
  char names[128][64];
  const char *values[128]; /* NULL for flags */
  int npos;
  const char *pos[64];
  int help;
} mx_args;

/* Parse argv[first..argc). Unknown options and missing values print a usage
 * error (naming the option) and return MX_EXIT_USAGE; 0 on success. */
int mx__args_parse(mx_args *a, const char *cmd, const char *spec, int argc, char **argv, int first);
int mx__args_has(const mx_args *a, const char *name);
/* Last value of name, or def when absent. */
const char *mx__args_get(const mx_args *a, const char *name, const char *def);
/* All values of a repeated option; returns the count, fills out (up to max). */
int mx__args_all(const mx_args *a, const char *name, const char **out, int max);
/* Typed getters: return 0 (value set, or def when absent) or MX_EXIT_USAGE
 * after printing "merx CMD: --name: expected ..." */
int mx__args_int(const mx_args *a, const char *name, long def, long lo, long hi, long *out);
int mx__args_double(const mx_args *a, const char *name, double def, double lo, double hi,
                   double *out);
/* Print "merx CMD: --name is required" and return MX_EXIT_USAGE when absent. */
int mx__args_require(const mx_args *a, const char *name);

/* The ledger a reading command names: --store DIR (default $MERX_STORE) or
 * --log FILE (both in its option spec), opened, never created. Returns 0
 * with *log open and *path its file (the caller closes and frees both), or
 * the exit code after printing why. */
struct mx_decision_log;
int mx__cli_open_ledger(const mx_args *a, const char *cmd, char **path,
                       struct mx_decision_log **log);

/* The store key's pseudonymiser (store/privacy.h) of a command given store_dir
 * (may be NULL: then only MERX_STORE_KEY counts). *out NULL when there is no
 * key. Returns 0, or MX_EXIT_FAIL after printing why (a key file others can
 * read). Free with mx__pseudonymiser_free. */
struct mx_pseudonymiser;
int mx__cli_pseudonymiser(const char *cmd, const char *store_dir, struct mx_pseudonymiser **out);
/* The same for an ingesting command with --store in its spec (default
 * $MERX_STORE): with a key, opt's user ids become pseudonyms as they are read. */
int mx__cli_ingest_pseudonyms(const mx_args *a, mx_ingest_options *opt,
                             struct mx_pseudonymiser **out);

/* Print the usage text and return 0 when --help was given; -1 otherwise. */
int mx__cli_help(const mx_args *a, const char *usage);

/* Print "merx CMD: <file:line:col: field 'f': message>" and return MX_EXIT_FAIL
 * (MX_EXIT_USAGE for MX_EINVAL raised by option checks is the caller's choice). */
int mx__cli_fail(const char *cmd, const mx_error *err);
/* "merx CMD: unknown subcommand 'SUB' (did you mean 'x'?)" or "(known: a, b)";
 * known: the subcommands, space-separated. Returns MX_EXIT_USAGE. */
int mx__cli_unknown_subcommand(const char *cmd, const char *sub, const char *known);
/* printf-style usage error; returns MX_EXIT_USAGE. */
int mx__cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The common CSV input options: --sep, --no-header, --columns, --event-weights.
 * Spec fragment to append to a command's spec. */
#define MX_CLI_INPUT_SPEC " sep= no-header header columns= event-weights="
/* Fill ingest options from those flags. roles: allowed roles, NULL-terminated.
 * Returns 0 or MX_EXIT_USAGE (message printed). */
int mx__cli_ingest_options(const mx_args *a, const char *const *roles, mx_ingest_options *opt);
/* Add "blas_core" (OpenBLAS's kernel core) and "cpu_simd" to a --json
 * summary of a command whose speed depends on them. */
struct mx_json;
void mx__cli_json_blas(struct mx_json *j);
/* "--threads T" with 0 = all cores. */
int mx__cli_threads(const mx_args *a, int *threads);

/* Subcommand entry points (commands.def). */
#define MX_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef MX_COMMAND

#endif
