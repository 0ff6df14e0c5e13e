# A test that cannot run here must report as skipped in ctest (exit 77 with
# SKIP_RETURN_CODE), never as passed (issue #15.12): run_module.sh without a
# lua5.4 interpreter, and the M4 check of test_forecast without
# ../shared/data, used to print that they skip and exit 0.
src="$MERX_SRC/tests/cli"
# a PATH with the runner's tools but no lua5.4
mkdir bin
for t in bash mktemp rm dirname basename cat; do ln -s "$(command -v "$t")" "bin/$t"; done
set +e
PATH="$PWD/bin" MERX="$MERX" MERX_SRC="$MERX_SRC" bash "$src/runner.sh" "$src/run_module.sh" > mod.txt 2>&1
rc=$?
set -e
[ "$rc" -eq 77 ] || { echo "FAIL: run_module.sh without lua5.4 exited $rc, not 77 (skipped)"; cat mod.txt; exit 1; }
expect_contains mod.txt "SKIP: no lua5.4"
# the unit test: absent shared data is a skip (77); the other tests of the file pass (0)
tf="$(dirname "$MERX")/tests/test_forecast"
[ -x "$tf" ] || { echo "FAIL: $tf not built"; exit 1; }
expect_exit 77 env MERX_SHARED_DATA="$PWD/none" TU_TEST_FILTER=test_m4_hourly_official "$tf"
expect_contains out.txt "skipped: ../shared/data/m4 absent"
expect_exit 0 env MERX_SHARED_DATA="$PWD/none" TU_SKIP_FILTER=test_m4_hourly_official "$tf"
