/* merx — command-line entry point: dispatches to the subcommands listed in
 * commands.def. Exit codes: 0 success, 1 runtime failure, 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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

int main(int argc, char **argv) {
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
  fprintf(stderr, "merx: unknown command '%s' (see merx --help)\n", cmd);
  return MX_EXIT_USAGE;
}
