/* merx version */
#include <cblas.h>
#include <curl/curl.h>
#include <lua.h>
#include <sqlite3.h>
#include <stdio.h>
#include <zlib.h>

#include "cli/cli.h"

static const char *usage = "usage: merx version\n\nPrint merx's version and the versions of the libraries it uses.\n";

int mx_cmd_version(int argc, char **argv) {
  mx_args a;
  int rc = mx_args_parse(&a, "version", "", argc, argv, 2);
  if (rc) return rc;
  if (mx_cli_help(&a, usage) == 0) return MX_EXIT_OK;
  printf("merx %s\n", MERX_VERSION);
  printf("  lua      %s\n", LUA_RELEASE);
  printf("  openblas %s\n", openblas_get_config());
  printf("  libcurl  %s\n", curl_version());
  printf("  sqlite   %s\n", sqlite3_libversion());
  printf("  zlib     %s\n", zlibVersion());
  return MX_EXIT_OK;
}
