# Crash safety of `merx run`: an earlier run's decisions are in place
# (out/offer.csv and the SQLite log out/decisions.db); a run that would
# replace them with different decisions is killed with SIGKILL at a
# pseudo-random moment (deterministic per iteration, spread over the measured
# run time, including its start and the commit at its end). Afterwards:
# - the log passes PRAGMA integrity_check and holds the old run's rows and,
#   of the killed run, all of its rows or none;
# - offer.csv is byte-identical to the old file or to the complete new one;
# - new rows in the log only with the new file (never the reverse).
# Outcomes: old kept (old file, no new rows), new complete (new file, all new
# rows) and the documented window (docs/reliability.md, Limits: files are committed before
# the SQLite transaction, so a kill between the two leaves the new file
# without its log rows), counted apart. Anything else is lost.
KILLS=${MERX_KILLS:-20}
ROWS=30000
# a sanitizer build runs several times slower: a smaller plan, half the kills
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) KILLS=${MERX_KILLS:-10} ROWS=15000 ;; esac
cat > emit.lua <<'LUA'
local v = tonumber(merx.params.v)
local n = tonumber(merx.params.rows)
for u = 1, n do
  merx.emit("offer", { user = "u" .. u, offer = "o" .. ((u * v) % 97), score = (u % 1000) / 1000 + v,
                       reason = "variant " .. v })
end
LUA
run() { # run VARIANT OUTDIR (exec: in the background, $! is merx itself)
  exec "$MERX" run emit.lua --set v="$1" --set rows=$ROWS --out "$2" --now 2026-01-01 >/dev/null 2>&1
}
q() { sqlite3 "$1" "$2"; }
(run 1 old)
t0=$(date +%s.%N)
(run 2 ref)
t1=$(date +%s.%N)
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
[ -f old/offer.csv ] && [ -f ref/offer.csv ]
cmp -s old/offer.csv ref/offer.csv && { echo "FAIL: the variants give the same decisions"; exit 1; }
[ "$(wc -l < ref/offer.csv)" -eq $((ROWS + 1)) ]
[ "$(q old/decisions.db 'SELECT count(*) FROM decisions')" -eq $ROWS ]
old_run=$(q old/decisions.db 'SELECT DISTINCT run_id FROM decisions')

old_kept=0 new_complete=0 window=0 lost=0 finished=0 leftovers=0
for i in $(seq 0 $((KILLS - 1))); do
  rm -rf out; cp -a old out
  # iterations 1-4: 0, 50, 200 and 400 ms after the output's temporary file
  # appears (the commit: file and log rows written, file renamed, log
  # committed); 5-6: 0 and 5 ms after the new offer.csv is renamed into
  # place (aimed at the file-to-log window); the others at a uniform moment
  # in [0, 1.5 x the measured run time], from an RNG seeded by the iteration
  # (0: at once), so some land after the run has finished
  delay=$(awk -v i="$i" -v d="$dur" 'BEGIN { srand(2000 + i); f = rand() * 1.5;
    if (i == 0) f = 0; printf "%.3f", f * d }')
  case $i in 1) after=0 ;; 2) after=0.05 ;; 3) after=0.2 ;; 4) after=0.4 ;; 5) after=0 ;; 6) after=0.005 ;;
    *) after="" ;; esac
  run 2 out &
  pid=$!
  if [ -n "$after" ] && [ "$i" -le 4 ]; then
    while kill -0 "$pid" 2>/dev/null && ! compgen -G "out/.offer.csv.tmp.$pid.*" >/dev/null; do sleep 0.002; done
    sleep "$after"; delay="tmp+$after"
  elif [ -n "$after" ]; then
    # cp -a kept the old file's mtime; the renamed new file is newer
    while kill -0 "$pid" 2>/dev/null && ! [ out/offer.csv -nt old/offer.csv ]; do :; done
    sleep "$after"; delay="renamed+$after"
  else
    sleep "$delay"
  fi
  if kill -KILL "$pid" 2>/dev/null; then :; else finished=$((finished + 1)); fi
  wait "$pid" 2>/dev/null || true
  # the sqlite3 shell rolls back a hot journal left by the killed run, as
  # the next merx run would
  ic=$(q out/decisions.db 'PRAGMA integrity_check' | tr '\n' ' ')
  read -r n_old n_new n_runs < <(q out/decisions.db "SELECT coalesce(sum(run_id = '$old_run'), 0),
    coalesce(sum(run_id <> '$old_run'), 0), count(DISTINCT run_id) - 1 FROM decisions" | tr '|' ' ')
  bad=""
  [ "$ic" = "ok " ] || bad="integrity_check: $ic"
  [ "$n_old" -eq $ROWS ] || bad="$bad; old run has $n_old rows"
  { [ "$n_new" -eq 0 ] || { [ "$n_new" -eq $ROWS ] && [ "$n_runs" -eq 1 ]; }; } ||
    bad="$bad; killed run has $n_new rows in $n_runs run(s)"
  if [ -z "$bad" ] && cmp -s out/offer.csv old/offer.csv && [ "$n_new" -eq 0 ]; then
    old_kept=$((old_kept + 1)); what=old
  elif [ -z "$bad" ] && cmp -s out/offer.csv ref/offer.csv && [ "$n_new" -eq $ROWS ]; then
    new_complete=$((new_complete + 1)); what=new
  elif [ -z "$bad" ] && cmp -s out/offer.csv ref/offer.csv && [ "$n_new" -eq 0 ]; then
    window=$((window + 1)); what="new file, no log rows (documented window)"
  else
    lost=$((lost + 1)); what=LOST
    echo "FAIL: iteration $i (delay ${delay} of ${dur}s): $bad; offer.csv $(cmp -s out/offer.csv old/offer.csv && echo old || { cmp -s out/offer.csv ref/offer.csv && echo new || echo neither; }), $n_new new rows" >&2
  fi
  extra=$(ls out | grep -v -x -e offer.csv -e decisions.db -e decisions.db-journal || true)
  [ -z "$extra" ] || { echo "FAIL: iteration $i left $extra in out/" >&2; exit 1; }
  n_tmp=$(compgen -G "out/.offer.csv.tmp.$pid.*" | wc -l || true)   # this run's
  leftovers=$((leftovers + n_tmp))
  echo "kill $i: delay ${delay} -> $what, temporaries $n_tmp" >&2
done

# the next run after the kills commits normally, and removes the temporaries
# that dead writers (pid in the name) left next to offer.csv
sleep 0 & dead=$!; wait "$dead"
echo partial > "out/.offer.csv.tmp.$dead.AbC123"
expect_exit 0 "$MERX" run emit.lua --set v=3 --set rows=10 --out out --now 2026-01-01
[ "$(ls -A out | grep -c '\.tmp\.' || true)" -eq 0 ] ||
  { echo "FAIL: temporaries of killed runs were not removed"; ls -A out; exit 1; }
[ "$(wc -l < out/offer.csv)" -eq 11 ]
[ "$(q out/decisions.db 'PRAGMA integrity_check')" = ok ]

echo "kill_run: kills=$KILLS old-kept=$old_kept new-complete=$new_complete lost=$lost" \
     "file-without-log-rows=$window (finished before the kill: $finished; run ${dur}s;" \
     "temporaries left by killed runs: $leftovers)"
[ "$lost" -eq 0 ]
[ "$old_kept" -gt 0 ] && [ "$new_complete" -gt 0 ]
