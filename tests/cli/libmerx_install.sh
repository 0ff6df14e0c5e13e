# libmerx installs with headers and a pkg-config file, a C program links it,
# and the shared library exports only mx_* symbols.
BUILD="$(dirname "$MERX")"
cmake --install "$BUILD" --prefix "$PWD/prefix" > install.log
test -f prefix/include/merx/merx.h
PCDIR="$(dirname "$(find prefix -name merx.pc | head -1)")"
cat > app.c <<'C'
#include <merx/merx.h>
#include <stdio.h>
int main(int argc, char **argv) {
  mx_dataset *d; mx_error err; mx_ingest_options o = mx_ingest_defaults();
  if (mx_dataset_load_csv(argv[1], &o, &d, &err) != MX_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
  printf("%u users %u items\n", mx_dataset_users(d), mx_dataset_items(d));
  mx_dataset_free(d);
  return argc > 2;
}
C
printf 'u,i\na,x\nb,x\nb,y\n' > small.csv
# a sanitizer build's library needs the sanitizer runtime in the program too
SAN=""
# (nm's output is read whole: `nm | grep -q` under pipefail fails when grep
# stops early and nm gets SIGPIPE, which made this test flaky)
syms="$(nm -D "$(find prefix -name 'libmerx.so.*' | head -1)")"
case "$syms" in *__asan*) SAN="-fsanitize=address,undefined" ;; esac
PKG_CONFIG_PATH="$PCDIR" cc $SAN app.c -o app $(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags --libs merx)
LD_LIBRARY_PATH="$(dirname "$(find prefix -name 'libmerx.so' | head -1)")" ./app small.csv > app.out
expect_contains app.out "2 users 2 items"
# the documented example (docs/c-api.md) builds the documented way, through pkg-config
PKG_CONFIG_PATH="$PCDIR" cc $SAN -std=c11 -Wall -Werror "$MERX_SRC/examples/c/recommend.c" -o recommend \
  $(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags --libs merx)
# exported (defined, dynamic) symbols are all mx_*
LIB="$(find prefix -name 'libmerx.so.*' | head -1)"
bad="$(nm -D --defined-only "$LIB" | awk '{print $3}' | grep -v '^mx_' | grep -v '^_' || true)"
[ -z "$bad" ] || { echo "non-mx symbols exported: $bad"; exit 1; }
