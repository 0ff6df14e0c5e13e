#!/usr/bin/env bash
# BLAS kernel cores (issue #21): sgemm GFLOP/s under each OpenBLAS x86 core
# this CPU can run, 1 and 2 threads, scoring-shaped (4096 x 64) . (64 x 8192),
# best of 5, then the core `merx version` ends up with when OPENBLAS_CORETYPE
# is unset, and with OpenBLAS's choice played as Prescott (MERX_TEST_BLAS_CORE:
# what merx does on an AVX-512 Xeon that OpenBLAS 0.3.21 does not recognise).
#   scripts/bench/blas_core.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build"
[ -x "$build/merx" ] || { echo "build merx first (cmake --build build)" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cat > "$work/sgemm.c" <<'C'
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(void) {
  int m = 4096, n = 8192, k = 64;
  float *a = malloc(sizeof *a * m * k), *b = malloc(sizeof *b * n * k), *c = malloc(sizeof *c * m * n);
  for (int i = 0; i < m * k; i++) a[i] = (float)rand() / RAND_MAX;
  for (int i = 0; i < n * k; i++) b[i] = (float)rand() / RAND_MAX;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
    t = now() - t;
    if (t < best) best = t;
  }
  printf("%-12s %6.1f\n", openblas_get_corename(), 2.0 * m * n * k / best / 1e9);
  return 0;
}
C
cc -O2 "$work/sgemm.c" -o "$work/sgemm" $(pkg-config --cflags --libs openblas)
simd=$(env -u OPENBLAS_CORETYPE "$build/merx" version | awk '/blas/ {sub(/.*cpu /, ""); print}')
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')); vector sets: $simd; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| OPENBLAS_CORETYPE | sgemm GFLOP/s, 1 thread | 2 threads |"
echo "| --- | --- | --- |"
cores="Prescott Sandybridge Haswell"
case " $simd " in *" avx512 "*) cores="$cores SkylakeX Cooperlake" ;; esac
for c in $cores; do
  g1=$(OPENBLAS_CORETYPE=$c OPENBLAS_NUM_THREADS=1 "$work/sgemm" | awk '{print $2}')
  g2=$(OPENBLAS_CORETYPE=$c OPENBLAS_NUM_THREADS=2 "$work/sgemm" | awk '{print $2}')
  echo "| $c | $g1 | $g2 |"
done
echo
echo "OpenBLAS's own choice (OPENBLAS_CORETYPE unset): $(env -u OPENBLAS_CORETYPE "$build/merx" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core"])')"
echo "merx after a Prescott choice: $(env -u OPENBLAS_CORETYPE MERX_TEST_BLAS_CORE=Prescott "$build/merx" version --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core"])')"
