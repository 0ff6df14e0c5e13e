#!/usr/bin/env bash
# Runs ./scripts/demo.sh with every merx command under
# `valgrind --leak-check=full` and prints one line per command and a total:
# leaked bytes (definitely + indirectly + possibly lost) and memory errors.
# Exits non-zero if any command leaked or had an error. Logs: out/valgrind/.
source "$(dirname "$0")/lib.sh"
merx_install_packages valgrind
cd "$MERX_ROOT"
LOGS="$MERX_ROOT/out/valgrind"
rm -rf "$LOGS"; mkdir -p "$LOGS"
export MERX_WRAP="valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --log-file=$LOGS/%p.log"
./scripts/demo.sh > "$LOGS/demo.out" 2> "$LOGS/demo.err" || { tail -20 "$LOGS/demo.err" >&2; echo "the demo failed under valgrind" >&2; exit 1; }
status=0
total=0
for f in "$LOGS"/*.log; do
  cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -1 | sed "s|$MERX_ROOT/||g" | cut -c1-90)
  lost=0
  for kind in definitely indirectly possibly; do
    n=$(sed -n "s/^==[0-9]*== *$kind lost: \([0-9,]*\) bytes.*/\1/p" "$f" | tr -d ,)
    lost=$((lost + ${n:-0}))
  done
  errs=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")
  printf '%-92s leaked %8d bytes  errors %s\n' "$cmd" "$lost" "${errs:-?}"
  total=$((total + lost))
  [ "$lost" -eq 0 ] && [ "${errs:-1}" -eq 0 ] || status=1
done
echo "valgrind: $(ls "$LOGS"/*.log | wc -l) merx commands, $total bytes leaked in total"
exit $status
