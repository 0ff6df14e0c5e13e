/* Lineage of a run: every model and data file the script opens is recorded
 * with its sha256 and size when it is opened (mx__lua_path, the one place
 * that resolves a script's paths), so the ledger can say which bytes a
 * committed decision was computed from (`merx explain`). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/internal.h"
#include "util/sha256.h"

int mx__run_note_input(mx_run *run, const char *path) {
  for (int i = 0; i < run->n_inputs; i++)
    if (strcmp(run->inputs[i].path, path) == 0) return 0;
  /* regular files only: hashing a FIFO or a device would consume it */
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  char hex[65];
  uint64_t bytes = 0;
  if (mx__sha256_file(path, hex, &bytes) != 0) return 0;
  if (run->n_inputs == run->cap_inputs) {
    int nc = run->cap_inputs ? 2 * run->cap_inputs : 8;
    mx_run_input *ni = realloc(run->inputs, (size_t)nc * sizeof *ni);
    if (!ni) return -1;
    run->inputs = ni;
    run->cap_inputs = nc;
  }
  mx_run_input *x = &run->inputs[run->n_inputs];
  x->path = mx__strdup(path);
  if (!x->path) return -1;
  memcpy(x->sha256, hex, sizeof hex);
  x->bytes = bytes;
  run->n_inputs++;
  return 0;
}

void mx__run_inputs_free(mx_run *run) {
  for (int i = 0; i < run->n_inputs; i++) free(run->inputs[i].path);
  free(run->inputs);
  run->inputs = NULL;
  run->n_inputs = run->cap_inputs = 0;
}
