/* merx version */
#include <cblas.h>
#include <curl/curl.h>
#include <lua.h>
#include <sqlite3.h>
#include <stdio.h>
#include <zlib.h>

#include "cli/cli.h"
#include "merx/cpu.h"
#include "util/util.h"

static const char *usage =
    "usage: merx version [--json]\n\n"
    "Print merx's version, the versions of the libraries it uses, the OpenBLAS kernel\n"
    "core in use and the CPU's vector instruction sets. --json prints {\"merx\", \"lua\",\n"
    "\"openblas\", \"blas_core\", \"cpu_simd\", \"libcurl\", \"sqlite\", \"zlib\"}.\n"
    "\nExamples:\n"
    "  merx version\n"
    "  merx version --json\n";

int mx__cmd_version(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "version", "json", argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "merx"); mx__json_string(&j, MERX_VERSION);
    mx__json_key(&j, "lua"); mx__json_string(&j, LUA_RELEASE);
    mx__json_key(&j, "openblas"); mx__json_string(&j, openblas_get_config());
    mx__cli_json_blas(&j);
    mx__json_key(&j, "libcurl"); mx__json_string(&j, curl_version());
    mx__json_key(&j, "sqlite"); mx__json_string(&j, sqlite3_libversion());
    mx__json_key(&j, "zlib"); mx__json_string(&j, zlibVersion());
    mx__json_object_end(&j);
    fputc('\n', stdout);
    return MX_EXIT_OK;
  }
  mx_cpu_simd cpu;
  char simd[64];
  mx_cpu_simd_detect(&cpu);
  printf("merx %s\n", MERX_VERSION);
  printf("  lua      %s\n", LUA_RELEASE);
  printf("  openblas %s\n", openblas_get_config());
  printf("  blas     core %s, cpu %s\n", mx_blas_core(), mx_cpu_simd_string(&cpu, simd, sizeof simd));
  printf("  libcurl  %s\n", curl_version());
  printf("  sqlite   %s\n", sqlite3_libversion());
  printf("  zlib     %s\n", zlibVersion());
  return MX_EXIT_OK;
}
