# Crash safety of `merx train --out`: an old model is in place, a training run
# that would replace it with a different model is killed with SIGKILL at a
# pseudo-random moment (deterministic per iteration, spread over the measured
# run time: at start, mid-run, near and just past the end). Afterwards the
# output must be byte-identical to the old model or to the complete new one
# (which `merx model info` loads, checksums included); anything else is lost.
# Temporary files of killed runs are hidden (.NAME.tmp.*), never loadable under
# the output's name, and are removed by the next run writing the same output.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"
KILLS=${MERX_KILLS:-20}
train() { # train SEED OUT (exec: in the background, $! is merx itself)
  exec "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 48 --epochs 25 --threads 2 \
    --seed "$1" --out "$2" >/dev/null 2>&1
}
(train 1 old.mxm)
t0=$(date +%s.%N)
(train 2 new.mxm)
t1=$(date +%s.%N)
cmp -s old.mxm new.mxm && { echo "FAIL: seeds 1 and 2 give the same model"; exit 1; }
(train 2 new2.mxm)
cmp new.mxm new2.mxm     # the reference new model is reproducible
rm new2.mxm
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')

old_kept=0 new_complete=0 lost=0 finished=0 leftovers=0
for i in $(seq 0 $((KILLS - 1))); do
  cp old.mxm model.mxm
  # delay: iteration 0 immediately, 1 at 97% of the run, 2 just past the end,
  # the rest uniform in [0, 1.05 * run time] from an RNG seeded by i
  # iterations 1-4: 0, 2, 10 and 40 ms after the output's temporary file
  # appears (the write and commit at the end of the run); the others at a
  # uniform moment in [0, 1.5 x the measured run time], from an RNG seeded by
  # the iteration (0: at once), so some land after the run has finished
  delay=$(awk -v i="$i" -v d="$dur" 'BEGIN { srand(1000 + i); f = rand() * 1.5;
    if (i == 0) f = 0; printf "%.3f", f * d }')
  case $i in 1) after=0 ;; 2) after=0.002 ;; 3) after=0.01 ;; 4) after=0.04 ;; *) after="" ;; esac
  train 2 model.mxm &
  pid=$!
  if [ -n "$after" ]; then
    while kill -0 "$pid" 2>/dev/null && ! ls -A . | grep -q '^\.model\.mxm\.tmp\.'; do sleep 0.002; done
    sleep "$after"; delay="tmp+$after"
  else
    sleep "$delay"
  fi
  if kill -KILL "$pid" 2>/dev/null; then :; else finished=$((finished + 1)); fi
  wait "$pid" 2>/dev/null || true
  if cmp -s model.mxm old.mxm; then
    old_kept=$((old_kept + 1)); what=old
  elif cmp -s model.mxm new.mxm && "$MERX" model info --model model.mxm >/dev/null 2>&1; then
    new_complete=$((new_complete + 1)); what=new
  else
    lost=$((lost + 1)); what=LOST
    echo "FAIL: iteration $i (delay ${delay} of ${dur}s): model.mxm is neither the old nor the new model" >&2
    "$MERX" model info --model model.mxm >&2 || true
  fi
  # nothing but the outputs (and hidden temporaries) in the directory
  extra=$(ls | grep -v -x -e old.mxm -e new.mxm -e model.mxm -e out.txt -e err.txt || true)
  [ -z "$extra" ] || { echo "FAIL: iteration $i left $extra" >&2; exit 1; }
  n_tmp=$(ls -A | grep -c '^\.model\.mxm\.tmp\.' || true)
  leftovers=$((leftovers + n_tmp))
  echo "kill $i: delay ${delay} -> $what, temporaries $n_tmp" >&2
done

# the next run that writes model.mxm removes the temporaries of dead
# writers (pid in the name) and keeps those of live ones
sleep 0 & dead=$!; wait "$dead"
kill -0 "$dead" 2>/dev/null && { echo "FAIL: pid $dead still alive"; exit 1; }
sleep 60 & live=$!
echo partial > ".model.mxm.tmp.$dead.AbC123"
echo partial > ".model.mxm.tmp.$live.XyZ789"
echo other > ".other.mxm.tmp.$dead.AbC123"     # another target's: not ours to judge
cp old.mxm model.mxm
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 1 \
  --threads 2 --seed 3 --out model.mxm
kill "$live"; wait "$live" 2>/dev/null || true
left=$(ls -A | grep '\.tmp\.' | tr '\n' ' ')
[ "$left" = ".model.mxm.tmp.$live.XyZ789 .other.mxm.tmp.$dead.AbC123 " ] ||
  { echo "FAIL: temporaries after the next run: $left (dead $dead, live $live)"; exit 1; }
expect_exit 0 "$MERX" model info --model model.mxm

echo "kill_train: kills=$KILLS old-kept=$old_kept new-complete=$new_complete lost=$lost" \
     "(finished before the kill: $finished; run ${dur}s; temporaries left by killed runs: $leftovers)"
[ "$lost" -eq 0 ]
[ "$old_kept" -gt 0 ] && [ "$new_complete" -gt 0 ]   # both outcomes were exercised
