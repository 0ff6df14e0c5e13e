# Crash safety of `merx train --out`: an old model is in place, a training run
# that would replace it with a different model is killed with SIGKILL, and the
# output must then be byte-identical to the old model or to the complete new
# one (which `merx model info` loads, checksums included); anything else is
# lost. Kill moments are deterministic per iteration: iALS runs (training
# dominates) at once, or at a uniform moment in [0, 1.5 x the measured run
# time] from an RNG seeded by the iteration, so some land after the end;
# EASE runs (a 15 MB model, so the save takes a while) 0, 30 and 150 ms
# after the output's temporary file appears, i.e. while it is written and
# renamed, and 1.5 s after (usually past the end).
# Temporaries of killed runs are hidden (.NAME.tmp.PID.*), never loadable
# under the output's name, and removed by the next run writing that output.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"
KILLS=${MERX_KILLS:-16}       # iALS kills; plus 4 EASE kills during the save
# a sanitizer build runs several times slower: fewer iALS kills
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) KILLS=${MERX_KILLS:-4} ;; esac
train() { # train ALGO SEED OUT (exec: in the background, $! is merx itself)
  if [ "$1" = ease ]; then
    exec "$MERX" train --data ez.csv --columns user=user,item=item --algo ease --reg "$2" --out "$3" \
      >/dev/null 2>&1
  fi
  exec "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 48 --epochs 15 --threads 2 \
    --seed "$2" --out "$3" >/dev/null 2>&1
}
(train ials 1 old.mxm)
t0=$(date +%s.%N)
(train ials 2 new.mxm)
t1=$(date +%s.%N)
cmp -s old.mxm new.mxm && { echo "FAIL: seeds 1 and 2 give the same model"; exit 1; }
# (a run with the same seed and threads writes the same bytes: tests/cli/train.sh)
# EASE data: 1,500 users, ~1,900 items (a 15 MB model)
awk 'BEGIN { srand(11); print "user,item"; for (r = 0; r < 40000; r++)
  printf "u%d,i%d\n", int(rand() * 1500), int(rand() * rand() * 2000) }' > ez.csv
(train ease 100 old_e.mxm)
(train ease 300 new_e.mxm)
cmp -s old_e.mxm new_e.mxm && { echo "FAIL: --reg 100 and 300 give the same EASE model"; exit 1; }
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')

old_kept=0 new_complete=0 lost=0 finished=0 leftovers=0
for i in $(seq 0 $((KILLS + 3))); do
  if [ "$i" -lt "$KILLS" ]; then
    algo=ials old=old.mxm new=new.mxm arg=2 after=""
    delay=$(awk -v i="$i" -v d="$dur" 'BEGIN { srand(1000 + i); f = rand() * 1.5;
      if (i == 0) f = 0; printf "%.3f", f * d }')
  else
    algo=ease old=old_e.mxm new=new_e.mxm arg=300
    case $((i - KILLS)) in 0) after=0 ;; 1) after=0.03 ;; 2) after=0.15 ;; *) after=1.5 ;; esac
  fi
  cp "$old" model.mxm
  train "$algo" "$arg" model.mxm &
  pid=$!
  if [ -n "$after" ]; then
    while kill -0 "$pid" 2>/dev/null && ! compgen -G ".model.mxm.tmp.$pid.*" >/dev/null; do sleep 0.002; done
    sleep "$after"; delay="tmp+$after"
  else
    sleep "$delay"
  fi
  if kill -KILL "$pid" 2>/dev/null; then :; else finished=$((finished + 1)); fi
  wait "$pid" 2>/dev/null || true
  if cmp -s model.mxm "$old"; then
    old_kept=$((old_kept + 1)); what=old
  elif cmp -s model.mxm "$new" && "$MERX" model info --model model.mxm >/dev/null 2>&1; then
    new_complete=$((new_complete + 1)); what=new
  else
    lost=$((lost + 1)); what=LOST
    echo "FAIL: iteration $i ($algo, delay $delay of ${dur}s): model.mxm is neither the old nor the new model" >&2
    "$MERX" model info --model model.mxm >&2 || true
  fi
  # nothing but the outputs (and hidden temporaries) in the directory
  extra=$(ls | grep -v -x -e ez.csv -e old.mxm -e new.mxm -e old_e.mxm -e new_e.mxm -e model.mxm || true)
  [ -z "$extra" ] || { echo "FAIL: iteration $i left $extra" >&2; exit 1; }
  n_tmp=$(compgen -G ".model.mxm.tmp.$pid.*" | wc -l || true)   # this run's
  leftovers=$((leftovers + n_tmp))
  echo "kill $i: $algo, delay $delay -> $what, temporaries $n_tmp" >&2
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

echo "kill_train: kills=$((KILLS + 4)) old-kept=$old_kept new-complete=$new_complete lost=$lost" \
     "(finished before the kill: $finished; iALS run ${dur}s; temporaries left by killed runs: $leftovers)"
[ "$lost" -eq 0 ]
[ "$old_kept" -gt 0 ] && [ "$new_complete" -gt 0 ]   # both outcomes were exercised
