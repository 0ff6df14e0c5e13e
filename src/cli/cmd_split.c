/* merx split: train/test splits of an interaction file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "merx/model.h"
#include "util/util.h"

static const char *usage =
    "usage: merx split --data FILE [--columns ROLE=NAME,...] (--random F | --time F | --cut DATE)\n"
    "                  [--seed S] --train OUT.csv --test OUT.csv [--json]\n\n"
    "  --random F   each (user, item) pair goes to test with probability F (repeated rows\n"
    "               of a pair stay together); --seed S (default 42) fixes the draw\n"
    "  --time F     the last F of each user's rows by time go to test (needs time=...)\n"
    "  --cut DATE   rows at or after DATE (ISO 8601 or epoch seconds) go to test\n"
    "Rows keep all their fields; the header is repeated in both outputs. Outputs are\n"
    "plain text (a .gz input is decompressed) and written atomically.\n"
    "\nExample:\n"
    "  merx split --data examples/data/purchases.csv.gz\n"
    "      --columns user=CustomerID,item=StockCode --random 0.2 --train train.csv --test test.csv\n";

static const char *const roles[] = {"user", "item", "value", "time", "event", NULL};

int mx__cmd_split(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "split", "data= random= time= cut= seed= train= test= json"
                         MX_CLI_INPUT_SPEC, argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "train")) ||
      (rc = mx__args_require(&a, "test")))
    return rc;
  int modes = mx__args_has(&a, "random") + mx__args_has(&a, "time") + mx__args_has(&a, "cut");
  if (modes != 1) return mx__cli_usage("split", "give exactly one of --random F, --time F, --cut DATE");
  mx_split_options s;
  memset(&s, 0, sizeof s);
  double seed;
  if ((rc = mx__args_double(&a, "seed", 42, 0, 9007199254740992.0, &seed))) return rc;
  s.seed = (uint64_t)seed;
  if (mx__args_has(&a, "random")) {
    s.mode = MX_SPLIT_RANDOM;
    if ((rc = mx__args_double(&a, "random", 0.2, 0, 1, &s.fraction))) return rc;
  } else if (mx__args_has(&a, "time")) {
    s.mode = MX_SPLIT_USER_TIME;
    if ((rc = mx__args_double(&a, "time", 0.2, 0, 1, &s.fraction))) return rc;
  } else {
    s.mode = MX_SPLIT_CUT;
    if (mx_parse_time(mx__args_get(&a, "cut", ""), &s.cut) != 0)
      return mx__cli_usage("split", "--cut: not a date or time: '%s'", mx__args_get(&a, "cut", ""));
  }
  mx_ingest_options opt;
  if ((rc = mx__cli_ingest_options(&a, roles, &opt))) return rc;
  mx_error err;
  mx_error_clear(&err);
  uint64_t ntr, nte;
  if (mx_split_file(mx__args_get(&a, "data", NULL), &opt, &s, mx__args_get(&a, "train", NULL),
                    mx__args_get(&a, "test", NULL), &ntr, &nte, &err) != MX_OK)
    return mx__cli_fail("split", &err);
  if (mx__args_has(&a, "json")) {
    printf("{\"train_rows\":%llu,\"test_rows\":%llu}\n", (unsigned long long)ntr,
           (unsigned long long)nte);
  } else {
    printf("train %llu rows -> %s\ntest  %llu rows -> %s\n", (unsigned long long)ntr,
           mx__args_get(&a, "train", NULL), (unsigned long long)nte, mx__args_get(&a, "test", NULL));
  }
  return MX_EXIT_OK;
}
