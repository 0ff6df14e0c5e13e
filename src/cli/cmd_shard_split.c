/* merx shard-split: partition a CSV by the shard hash of a column, for
 * engines that cannot (merx/shard.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "merx/shard.h"

static const char *usage =
    "usage: merx shard-split --data FILE --column NAME --shards N --out DIR [--sep C] [--json]\n\n"
    "Writes DIR/part-00000.csv .. part-(N-1).csv (the header repeated in each) and\n"
    "DIR/_merx_shards (N, the column, the hash). A row goes to the part of its id's shard:\n"
    "XXH64(id, seed 42) as a signed 64-bit integer, mod N taken non-negative -- Spark SQL's\n"
    "pmod(xxhash64(CAST(id AS STRING)), N), the rule of `merx run --shard I/N`. Under\n"
    "--shard I/N, merx.data.read(DIR) then reads only part I. Written atomically: all\n"
    "parts and the manifest, or nothing.\n"
    "\nExample:\n"
    "  merx shard-split --data examples/data/purchases.csv.gz --column CustomerID --shards 4\n"
    "      --out parts\n";

int mx__cmd_shard_split(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "shard-split", "data= column= shards= out= sep= json", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "data")) || (rc = mx__args_require(&a, "column")) ||
      (rc = mx__args_require(&a, "shards")) || (rc = mx__args_require(&a, "out")))
    return rc;
  long shards;
  if ((rc = mx__args_int(&a, "shards", 1, 1, MX_SHARD_MAX, &shards))) return rc;
  mx_csv_options co = mx_csv_defaults();
  const char *sep = mx__args_get(&a, "sep", NULL);
  if (sep) co.sep = strcmp(sep, "tab") == 0 || strcmp(sep, "\\t") == 0 ? '\t' : sep[0];
  uint64_t *counts = calloc((size_t)shards, sizeof *counts);
  if (!counts) return mx__cli_usage("shard-split", "out of memory");
  mx_error err;
  mx_error_clear(&err);
  const char *out = mx__args_get(&a, "out", NULL);
  if (mx_shard_split_file(mx__args_get(&a, "data", NULL), &co, mx__args_get(&a, "column", NULL),
                          (uint32_t)shards, out, counts, &err) != MX_OK) {
    free(counts);
    return mx__cli_fail("shard-split", &err);
  }
  uint64_t total = 0, lo = UINT64_MAX, hi = 0;
  for (long s = 0; s < shards; s++) {
    total += counts[s];
    if (counts[s] < lo) lo = counts[s];
    if (counts[s] > hi) hi = counts[s];
  }
  if (mx__args_has(&a, "json")) {
    printf("{\"rows\":%llu,\"shards\":%ld,\"parts\":[", (unsigned long long)total, shards);
    for (long s = 0; s < shards; s++) printf("%s%llu", s ? "," : "", (unsigned long long)counts[s]);
    printf("]}\n");
  } else {
    printf("%llu rows -> %s/part-00000.csv .. part-%05ld.csv (%llu to %llu rows a part)\n",
           (unsigned long long)total, out, shards - 1, (unsigned long long)lo,
           (unsigned long long)hi);
  }
  free(counts);
  return MX_EXIT_OK;
}
