#!/usr/bin/env bash
# Fuzz every target in tests/fuzz/ with libFuzzer (clang-14, ASan + UBSan).
#   ./scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all targets)
# New inputs that increase coverage are added to tests/fuzz/corpus/NAME; a
# crashing input is saved there too (as crash-*) so it becomes a regression
# test replayed by ctest (fuzz_NAME). Commit the ones worth keeping.
source "$(dirname "$0")/lib.sh"
merx_install_packages "${MERX_PACKAGES[@]}" clang-14 libclang-rt-14-dev
cd "$MERX_ROOT"
SECS="${1:-60}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do t="$(basename "$f" .c)"; targets+=("${t#fuzz_}"); done
fi
# only the fuzz executables (and the libraries they link), not the whole suite
CC=clang-14 cmake -S "$MERX_ROOT" -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMERX_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 >&2
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >&2
status=0
for t in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$t"; mkdir -p "$corpus"
  work="$(mktemp -d)"
  echo "==> fuzz_$t for $SECS s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 build-fuzz/tests/fuzz_"$t" -max_total_time="$SECS" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$corpus/" "$work" "$corpus" 2> "build-fuzz/fuzz_$t.log"; then
    echo "fuzz_$t FOUND A CRASH: see build-fuzz/fuzz_$t.log and $corpus/crash-*" >&2
    status=1
  fi
  # keep a minimised set of the new coverage-increasing inputs
  build-fuzz/tests/fuzz_"$t" -merge=1 "$corpus" "$work" 2>/dev/null || true
  rm -rf "$work"
  grep -E '^#[0-9]+ *DONE' "build-fuzz/fuzz_$t.log" | tail -1 >&2 || true
done
exit $status
