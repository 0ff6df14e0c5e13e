#!/usr/bin/env bash
# Run every test: installs missing Debian packages, builds merx with warnings
# as errors, runs the whole ctest suite, then rebuilds with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs the whole suite again.
# Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"
merx_install_packages "${MERX_PACKAGES[@]}"
cd "$MERX_ROOT"

echo "==> build (Release, -Werror)"
merx_build build -DCMAKE_BUILD_TYPE=Release -DMERX_WERROR=ON -DMERX_SANITIZE=OFF
echo "==> ctest"
(cd build && ctest --output-on-failure -j "$(nproc)")

echo "==> build (ASan + UBSan)"
merx_build build-asan -DCMAKE_BUILD_TYPE=Debug -DMERX_WERROR=ON -DMERX_SANITIZE=ON
echo "==> ctest (sanitizers)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j "$(nproc)")
