#!/usr/bin/env bash
# Runs one CLI test script in a fresh temporary directory (its cwd and
# $TMPDIR), with $MERX (the binary) and $MERX_SRC (the source tree) set.
# Helpers for the scripts: expect_exit CODE CMD..., expect_contains FILE TEXT.
# A script that cannot run here says why and exits 77: ctest reports it skipped.
set -euo pipefail
script="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-cli-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"
cd "$work"

# expect_exit CODE CMD...: run CMD, require exit status CODE; stdout/stderr kept in out.txt/err.txt
expect_exit() {
  local want="$1"; shift
  set +e
  "$@" >out.txt 2>err.txt
  local got=$?
  set -e
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: expected exit $want, got $got: $*" >&2
    echo "--- stdout"; head -c 2000 out.txt; echo "--- stderr"; head -c 2000 err.txt
    exit 1
  fi
}
# expect_contains FILE TEXT: FILE contains TEXT (fixed string)
expect_contains() {
  if ! grep -qF -- "$2" "$1"; then
    echo "FAIL: $1 does not contain: $2" >&2
    echo "--- $1"; head -c 2000 "$1"
    exit 1
  fi
}
export -f expect_exit expect_contains
source "$script"
echo "PASS $(basename "$script")"
