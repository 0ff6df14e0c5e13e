#!/usr/bin/env bash
# Runs one CLI test script in a fresh temporary directory (its cwd and
# $TMPDIR), with $MERX (the binary) and $MERX_SRC (the source tree) set.
# Helpers for the scripts: expect_exit CODE CMD..., expect_contains FILE TEXT.
# A script that cannot run here says why and exits 77: ctest reports it skipped.
set -euo pipefail
script="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-cli-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# python3 is Debian's (scripts/lib.sh installs it; the scripts use only its
# standard library). A version manager's shim first on PATH (pyenv's) costs
# about 0.3 s per call against 0.03 s, and the suite calls python3 hundreds
# of times: it was a sixth of the CI run.
py="$(command -v python3 || true)"
if [ -n "$py" ] && [ "$py" != /usr/bin/python3 ] && [ -x /usr/bin/python3 ]; then
  pybin="$(mktemp -d "${TMPDIR:-/tmp}/merx-py-XXXXXX")"
  ln -s /usr/bin/python3 "$pybin/python3"
  export PATH="$pybin:$PATH"
  trap 'rm -rf "$work" "$pybin"' EXIT
fi
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
