/* libFuzzer target: the CSV reader and interaction ingest on arbitrary bytes.
 * Any input must end in success or a clean error with a message; never a
 * crash, hang, leak or sanitizer report. The same file is compiled into a
 * replay executable (replay_main.c) that ctest runs over the committed corpus,
 * so every input that once crashed stays a regression test. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "merx/data.h"

static void check_error(int rc, const mx_error *err) {
  /* a failure always says something */
  if (rc < 0 && err->message[0] == '\0') __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_file("fuzz.csv", data, size, path, sizeof path);
  if (fd < 0) return 0;
  mx_error err;
  mx_error_clear(&err);

  /* 1. raw records, header on, separator detected */
  mx_csv *c;
  int rc = mx_csv_open(path, NULL, &c, &err);
  check_error(rc, &err);
  if (rc == MX_OK) {
    char **f;
    size_t *l, nf;
    while ((rc = mx_csv_next(c, &f, &l, &nf, &err)) == 1)
      for (size_t i = 0; i < nf; i++)
        if (strlen(f[i]) != l[i]) __builtin_trap();
    check_error(rc, &err);
    mx_csv_close(c);
  }
  /* 2. ingest without a header: user, item, value, time, event by index */
  mx_ingest_options o = mx_ingest_defaults();
  o.csv.has_header = 0;
  if (mx_columns_parse("user=1,item=2,value=3", NULL, &o.columns, &err) == MX_OK) {
    mx_dataset *d = NULL;
    rc = mx_dataset_load_csv(path, &o, &d, &err);
    check_error(rc, &err);
    if (rc == MX_OK) {
      if (mx_dataset_nnz(d) == 0) __builtin_trap();
      mx_dataset_free(d);
    }
  }
  mx_ingest_options o2 = mx_ingest_defaults();
  if (mx_columns_parse("user=1,item=2,time=3,event=4", NULL, &o2.columns, &err) == MX_OK) {
    mx_dataset *d = NULL;
    rc = mx_dataset_load_csv(path, &o2, &d, &err);
    check_error(rc, &err);
    mx_dataset_free(d);
  }
  close(fd);
  return 0;
}
