/* Option parsing and error reporting for the CLI. */
#include "cli/cli.h"
#include "merx/cpu.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

/* Look name up in the spec: returns 0 unknown, 1 flag, 2 value, 3 repeated value. */
static int spec_kind(const char *spec, const char *name, size_t len) {
  const char *p = spec;
  while (*p) {
    while (*p == ' ') p++;
    const char *s = p;
    while (*p && *p != ' ' && *p != '=' && *p != '*') p++;
    size_t n = (size_t)(p - s);
    int kind = 1;
    if (*p == '=') { kind = 2; p++; }
    else if (*p == '*') { kind = 3; p++; }
    if (n == len && n > 0 && strncmp(s, name, n) == 0) return kind;
  }
  return 0;
}

/* --out - sends the output to standard output (mx__atomic_open writes "-" in
 * place). Every command also prints its human summary there, which would land
 * in the data; so the output keeps the original descriptor and descriptor 1
 * becomes a copy of stderr, where human-readable text belongs anyway. --json
 * promises stdout to its object, so it cannot share it with --out -. */
static int claim_stdout(const mx_args *a) {
  const char *out = mx__args_get(a, "out", NULL);
  if (a->help || !out || strcmp(out, "-") != 0) return 0;
  if (mx__args_has(a, "json"))
    return mx__cli_usage(a->cmd, "--out - and --json both write to standard output; give --out a file");
  fflush(stdout);
  int data = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (data < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    fprintf(stderr, "merx %s: --out -: cannot use standard output: %s\n", a->cmd, strerror(errno));
    return MX_EXIT_FAIL;
  }
  mx__atomic_stdout_fd(data);
  return 0;
}

/* "unknown option '--factorz' (did you mean '--factors'?)", or a pointer to
 * --help when no option of the command is close. */
static int unknown_option(const char *cmd, const char *spec, const char *arg, const char *name,
                          size_t len) {
  size_t n;
  const char *near = mx__closest_word(name, len, spec, &n);
  if (!near) return mx__cli_usage(cmd, "unknown option '%s' (see merx %s --help)", arg, cmd);
  return mx__cli_usage(cmd, "unknown option '%s' (did you mean '%s%.*s'?)", arg,
                      n == 1 ? "-" : "--", (int)n, near);
}

int mx__cli_unknown_subcommand(const char *cmd, const char *sub, const char *known) {
  size_t n;
  const char *near = mx__closest_word(sub, strlen(sub), known, &n);
  if (near)
    return mx__cli_usage(cmd, "unknown subcommand '%s' (did you mean '%.*s'?)", sub, (int)n, near);
  char list[256];
  return mx__cli_usage(cmd, "unknown subcommand '%s' (known: %s)", sub,
                      mx__words_join(known, list, sizeof list));
}

int mx__args_parse(mx_args *a, const char *cmd, const char *spec, int argc, char **argv, int first) {
  memset(a, 0, sizeof *a);
  a->cmd = cmd;
  int only_pos = 0;
  for (int i = first; i < argc; i++) {
    const char *arg = argv[i];
    if (only_pos || arg[0] != '-' || arg[1] == '\0') {
      if (a->npos >= 64) return mx__cli_usage(cmd, "too many arguments");
      a->pos[a->npos++] = arg;
      continue;
    }
    if (strcmp(arg, "--") == 0) { only_pos = 1; continue; }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) { a->help = 1; continue; }
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int kind = spec_kind(spec, name, len);
    if (kind == 0) return unknown_option(cmd, spec, arg, name, len);
    if (a->n >= 128) return mx__cli_usage(cmd, "too many options");
    size_t cl = len < 63 ? len : 63;
    memcpy(a->names[a->n], name, cl);
    a->names[a->n][cl] = '\0';
    if (kind == 1) {
      if (eq) return mx__cli_usage(cmd, "option --%s takes no value", a->names[a->n]);
      a->values[a->n] = NULL;
    } else if (eq) {
      a->values[a->n] = eq + 1;
    } else {
      if (i + 1 >= argc) return mx__cli_usage(cmd, "option --%s needs a value", a->names[a->n]);
      a->values[a->n] = argv[++i];
    }
    a->n++;
  }
  return claim_stdout(a);
}

int mx__args_has(const mx_args *a, const char *name) {
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->names[i], name) == 0) return 1;
  return 0;
}

const char *mx__args_get(const mx_args *a, const char *name, const char *def) {
  const char *v = def;
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->names[i], name) == 0 && a->values[i]) v = a->values[i];
  return v;
}

int mx__args_all(const mx_args *a, const char *name, const char **out, int max) {
  int k = 0;
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->names[i], name) == 0 && a->values[i]) {
      if (k < max) out[k] = a->values[i];
      k++;
    }
  return k;
}

int mx__args_int(const mx_args *a, const char *name, long def, long lo, long hi, long *out) {
  const char *v = mx__args_get(a, name, NULL);
  if (!v) { *out = def; return 0; }
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end != '\0')
    return mx__cli_usage(a->cmd, "--%s: expected an integer, got '%s'", name, v);
  if (x < lo || x > hi)
    return mx__cli_usage(a->cmd, "--%s: %ld is out of range [%ld, %ld]", name, x, lo, hi);
  *out = x;
  return 0;
}

int mx__args_double(const mx_args *a, const char *name, double def, double lo, double hi,
                   double *out) {
  const char *v = mx__args_get(a, name, NULL);
  if (!v) { *out = def; return 0; }
  double x;
  if (mx_parse_double(v, &x) != 0)
    return mx__cli_usage(a->cmd, "--%s: expected a number, got '%s'", name, v);
  if (x < lo || x > hi)
    return mx__cli_usage(a->cmd, "--%s: %g is out of range [%g, %g]", name, x, lo, hi);
  *out = x;
  return 0;
}

int mx__args_require(const mx_args *a, const char *name) {
  if (mx__args_get(a, name, NULL)) return 0;
  return mx__cli_usage(a->cmd, "--%s is required (see merx %s --help)", name, a->cmd);
}

int mx__cli_help(const mx_args *a, const char *usage) {
  if (!a->help) return -1;
  fputs(usage, stdout);
  return 0;
}

int mx__cli_fail(const char *cmd, const mx_error *err) {
  char buf[2048];
  fprintf(stderr, "merx %s: %s\n", cmd, mx_error_format(err, buf, sizeof buf));
  return MX_EXIT_FAIL;
}

int mx__cli_usage(const char *cmd, const char *fmt, ...) {
  fprintf(stderr, "merx %s: ", cmd);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return MX_EXIT_USAGE;
}

int mx__cli_ingest_options(const mx_args *a, const char *const *roles, mx_ingest_options *opt) {
  *opt = mx_ingest_defaults();
  mx_error err;
  mx_error_clear(&err);
  const char *sep = mx__args_get(a, "sep", NULL);
  if (sep) {
    if (strcmp(sep, "tab") == 0 || strcmp(sep, "\\t") == 0) opt->csv.sep = '\t';
    else if (strlen(sep) == 1) opt->csv.sep = sep[0];
    else return mx__cli_usage(a->cmd, "--sep: expected one character or 'tab', got '%s'", sep);
  }
  if (mx__args_has(a, "no-header")) opt->csv.has_header = 0;
  const char *cols = mx__args_get(a, "columns", NULL);
  if (cols && mx_columns_parse(cols, roles, &opt->columns, &err) != 0)
    return mx__cli_usage(a->cmd, "--columns: %s", err.message);
  const char *ev = mx__args_get(a, "event-weights", NULL);
  if (ev && mx_ingest_parse_event_weights(opt, ev, &err) != 0)
    return mx__cli_usage(a->cmd, "--event-weights: %s", err.message);
  return 0;
}

int mx__cli_threads(const mx_args *a, int *threads) {
  long t;
  int rc = mx__args_int(a, "threads", 0, 0, 1024, &t);
  if (rc) return rc;
  *threads = (int)t;
  return 0;
}

void mx__cli_json_blas(struct mx_json *j) {
  mx_cpu_simd cpu;
  char simd[64];
  mx_cpu_simd_detect(&cpu);
  mx__json_key(j, "blas_core"); mx__json_string(j, mx_blas_core());
  mx__json_key(j, "cpu_simd"); mx__json_string(j, mx_cpu_simd_string(&cpu, simd, sizeof simd));
}
