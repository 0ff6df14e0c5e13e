# The BLAS kernel check (issue #21): merx reports OpenBLAS's core and the CPU's
# vector sets, and when the core is narrower than the CPU (Prescott on an
# AVX-512 Xeon) starts again once with OPENBLAS_CORETYPE set, saying so once,
# never over a value the user set. MERX_TEST_BLAS_CORE plays OpenBLAS choosing
# Prescott, so the mismatch runs on any machine; the child's real OpenBLAS
# then reports the core it really loaded.
json_field() { sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" "$1"; }

expect_exit 0 env -u OPENBLAS_CORETYPE -u MERX_TEST_BLAS_CORE "$MERX" version --json
simd="$(json_field out.txt cpu_simd)"
json_field out.txt openblas | grep -q DYNAMIC_ARCH || { echo "OpenBLAS is not DYNAMIC_ARCH: OPENBLAS_CORETYPE is ignored"; exit 77; }
case " $simd " in
  *" avx512 "*) want=SkylakeX ;;
  *" avx2 fma "*) want=Haswell ;;
  *" avx "*) want=Sandybridge ;;
  *) echo "this CPU has no AVX: no core is wider than Prescott"; exit 77 ;;
esac

# The mismatch: one note on stderr, the run goes on in the new process.
expect_exit 0 env -u OPENBLAS_CORETYPE MERX_TEST_BLAS_CORE=Prescott "$MERX" version --json
[ "$(json_field out.txt blas_core)" = "$want" ] || { echo "FAIL: core $(json_field out.txt blas_core), want $want"; cat err.txt; exit 1; }
expect_contains err.txt "OpenBLAS chose its Prescott kernels on a CPU with $simd; running with OPENBLAS_CORETYPE=$want"
[ "$(wc -l < err.txt)" -eq 1 ] || { echo "FAIL: the note must be said once"; cat err.txt; exit 1; }

# The same through a command's --json summary, its exit code and output intact.
printf 'user,item\n' > tr.csv
for u in 1 2 3 4 5 6; do for i in a b c d; do echo "u$u,$i$(( (u * 7 + ${#i}) % 5 ))" >> tr.csv; done; done
expect_exit 0 env -u OPENBLAS_CORETYPE MERX_TEST_BLAS_CORE=Prescott "$MERX" train --data tr.csv \
  --columns user=user,item=item --algo ials --factors 4 --epochs 2 --out m.mxm --json
[ "$(json_field out.txt blas_core)" = "$want" ] || { echo "FAIL: train reports $(json_field out.txt blas_core)"; exit 1; }
[ "$(wc -l < err.txt)" -eq 1 ] || { echo "FAIL: one note"; cat err.txt; exit 1; }
expect_exit 2 env -u OPENBLAS_CORETYPE MERX_TEST_BLAS_CORE=Prescott "$MERX" train --bogus
expect_contains err.txt "unknown option '--bogus'"

# A value the user set is never overridden, even a slow one; nothing is said.
expect_exit 0 env OPENBLAS_CORETYPE=Prescott MERX_TEST_BLAS_CORE=Prescott "$MERX" version --json
[ "$(json_field out.txt blas_core)" = "Prescott" ] || { echo "FAIL: user's Prescott overridden"; exit 1; }
[ ! -s err.txt ] || { echo "FAIL: said something"; cat err.txt; exit 1; }

# A matching core: nothing happens.
expect_exit 0 env -u OPENBLAS_CORETYPE MERX_TEST_BLAS_CORE="$want" "$MERX" version
expect_contains out.txt "cpu $simd"
[ ! -s err.txt ] || { echo "FAIL: said something"; cat err.txt; exit 1; }
