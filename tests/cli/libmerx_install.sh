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
# every installed header declares only functions the installed library defines (a header of
# the lua or sched layer, whose code is in the merx binary, must not be installed)
defined="$(nm -D --defined-only "$LIB" | awk '{print $3}')"
for h in prefix/include/merx/*.h; do
  for f in $(grep -oE 'MX_API[^(]*\(' "$h" | grep -oE 'mx_[a-z0-9_]+ *\($' | tr -d ' ('); do
    grep -qx "$f" <<< "$defined" || { echo "$h declares $f, which $(basename "$LIB") lacks"; exit 1; }
  done
done
# find_package(merx) works from the installed prefix (the shared library's target)
if command -v cmake > /dev/null; then
  mkdir -p fp && cp app.c fp/ && cat > fp/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(merx 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE merx::merx)
CM
  cmake -S fp -B fp/build -DCMAKE_PREFIX_PATH="$PWD/prefix" -DCMAKE_C_FLAGS="$SAN" > fp.log 2>&1 ||
    { cat fp.log; exit 1; }
  cmake --build fp/build > fp-build.log 2>&1 || { cat fp-build.log; exit 1; }
  ./fp/build/app small.csv > fp.out   # the imported target carries the library's path (RPATH)
  expect_contains fp.out "2 users 2 items"
fi
