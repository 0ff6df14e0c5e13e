/* merx — command-line entry point: dispatches to the subcommands listed in
 * commands.def. Exit codes: 0 success, 1 runtime failure, 2 usage error. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "merx/cpu.h"
#include "util/util.h"

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} command;

static const command commands[] = {
#define MX_COMMAND(name, fn, summary) {name, fn, summary},
#include "cli/commands.def"
#undef MX_COMMAND
};

static void usage(FILE *f) {
  fputs("merx — a Lua-scriptable decision engine for e-commerce\n\n"
        "usage: merx COMMAND [options]      (merx COMMAND --help for its options)\n\n"
        "commands:\n",
        f);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fputs("\nExit codes: 0 success, 1 runtime failure, 2 usage error.\n", f);
}

/* Model files are mmap'd (src/core/data/model_io.c) and their checksums verified
 * at load, but a file truncated in place afterwards (cp over it, truncate)
 * makes the next access to a dropped page raise SIGBUS. That cannot be
 * recovered from, but it must not look like a merx crash: say what happened
 * and exit 1 like any runtime failure. Nothing is committed: outputs are
 * renamed into place only at the end (their temporaries are removed by the
 * next writer). Only async-signal-safe calls here. */
static void on_sigbus(int sig) {
  static const char msg[] =
      "merx: bus error: a memory-mapped model file was truncated or rewritten in place while "
      "in use; replace model files by renaming a new file over them (as merx train --out does)\n";
  (void)sig;
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
  _exit(MX_EXIT_FAIL);
}

/* OpenBLAS picked its kernels when it was loaded, before main. When they use
 * a narrower vector set than the CPU has (Prescott's SSE3 on an AVX-512 Xeon
 * it does not recognise), start again once with OPENBLAS_CORETYPE set, so the
 * new process loads the right ones (include/merx/cpu.h). The child sees the
 * variable set and never re-executes; a value the user set is left alone.
 * MERX_TEST_BLAS_CORE stands in for OpenBLAS's choice, so the tests can play
 * the mismatch on any machine. */
static void blas_core_check(char **argv) {
  mx_cpu_simd cpu;
  mx_cpu_simd_detect(&cpu);
  const char *core = getenv("MERX_TEST_BLAS_CORE");
  if (!core || !*core) core = mx_blas_core();
  const char *want = mx_blas_core_advice(&cpu, core, getenv("OPENBLAS_CORETYPE"), mx_blas_dynamic());
  if (!want) return;
  char simd[64];
  fprintf(stderr,
          "merx: OpenBLAS chose its %s kernels on a CPU with %s; running with "
          "OPENBLAS_CORETYPE=%s (set OPENBLAS_CORETYPE yourself to choose)\n",
          core, mx_cpu_simd_string(&cpu, simd, sizeof simd), want);
  if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) {
    execv("/proc/self/exe", argv);
    int e = errno;
    unsetenv("OPENBLAS_CORETYPE");
    fprintf(stderr, "merx: could not run again (%s); going on with the %s kernels\n", strerror(e),
            core);
  }
}

int main(int argc, char **argv) {
  blas_core_check(argv);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
  /* A file-size limit (ulimit -f) then fails the write with EFBIG, reported
   * like a full disk (ENOSPC) with the old output kept, instead of killing
   * merx with SIGXFSZ. */
  sa.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &sa, NULL);
  if (argc < 2) {
    usage(stderr);
    return MX_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return MX_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) cmd = "version";
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, cmd) == 0) return commands[i].fn(argc, argv);
  char names[512];
  size_t used = 0;
  names[0] = '\0';
  for (size_t i = 0; i < sizeof commands / sizeof commands[0] && used < sizeof names; i++)
    used += (size_t)snprintf(names + used, sizeof names - used, "%s ", commands[i].name);
  size_t n;
  const char *near = mx__closest_word(cmd, strlen(cmd), names, &n);
  if (near) fprintf(stderr, "merx: unknown command '%s' (did you mean '%.*s'?)\n", cmd, (int)n, near);
  else fprintf(stderr, "merx: unknown command '%s' (see merx --help)\n", cmd);
  return MX_EXIT_USAGE;
}
