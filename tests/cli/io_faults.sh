# I/O faults at the command line: outputs that cannot be written (read-only
# directory, a path through a regular file, /proc), a file-size limit standing
# in for a full disk, an input file truncated while it is read, and a model
# file truncated while a run uses it. Every case: a clear error naming the
# path, exit 1 (never a signal), the old output byte-identical and no partial
# file under the output's name.
P="$MERX_SRC/examples/data/purchases.csv.gz"
D="$MERX_SRC/examples/data"
COLS="user=CustomerID,item=StockCode"
FC=(forecast --data "$D/daily_sales.csv" --format long --columns id=StockCode,time=date,value=quantity
    --freq week --horizon 4)
cat > emit.lua <<'LUA'
for u = 1, 50 do merx.emit("offer", { user = "u" .. u, offer = "o" .. (u % 7), reason = merx.params.tag }) end
LUA

# old outputs of every command, in dir/
mkdir dir
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 2 --out m.mxm
cp m.mxm dir/model.mxm
expect_exit 0 "$MERX" recommend --model m.mxm --all --k 3 --out dir/rec.csv
expect_exit 0 "$MERX" "${FC[@]}" --out dir/fc.csv
expect_exit 0 "$MERX" run emit.lua --set tag=old --out dir --now 2026-01-01
cp -a dir old
same_as_old() { # the outputs are the old ones, nothing else (not even a temporary) is there
  for f in model.mxm rec.csv fc.csv offer.csv decisions.db; do cmp "old/$f" "dir/$f"; done
  [ "$(ls -A dir | tr '\n' ' ')" = "decisions.db fc.csv model.mxm offer.csv rec.csv " ] ||
    { echo "FAIL: dir/ holds $(ls -A dir | tr '\n' ' ')"; exit 1; }
}
# all_fail WANT_PATH_PREFIX WRAPPER...: every command writing into $OUTDIR fails cleanly
all_fail() {
  local where="$1"; shift
  expect_exit 1 "$@" "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 1 \
    --seed 9 --out "$OUTDIR/model.mxm"
  expect_contains err.txt "$where/model.mxm"
  expect_exit 1 "$@" "$MERX" recommend --model m.mxm --all --k 4 --out "$OUTDIR/rec.csv"
  expect_contains err.txt "$where/rec.csv"
  expect_exit 1 "$@" "$MERX" "${FC[@]}" --horizon 5 --out "$OUTDIR/fc.csv"
  expect_contains err.txt "$where/fc.csv"
  expect_exit 1 "$@" "$MERX" run emit.lua --set tag=new --out "$OUTDIR" --now 2026-01-02
  expect_contains err.txt "$where"
}

# ---- (a) read-only output directory. chmod does not stop root: as root, make
# the directory immutable (chattr +i) or bind-mount it read-only in a private
# mount namespace, whichever this machine allows; say so when neither.
mkdir probe
ro_mode=""
if [ "$(id -u)" -ne 0 ]; then
  ro_mode=chmod
elif chattr +i probe 2>/dev/null; then
  if touch probe/x 2>/dev/null; then rm -f probe/x; else ro_mode=chattr; fi
  chattr -i probe
fi
if [ -z "$ro_mode" ] && unshare -m sh -c 'mount --bind -o ro "$0" "$0" && ! touch "$0/x"' \
    "$PWD/probe" 2>/dev/null; then
  ro_mode=bind
fi
rm -rf probe
OUTDIR=dir
case "$ro_mode" in
  chmod)
    chmod 555 dir; all_fail dir; chmod 755 dir ;;
  chattr)
    # never leave an immutable directory behind (the runner removes the tree)
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    trap "chattr -i '$PWD/dir' 2>/dev/null || true; $prev" EXIT
    chattr +i dir; all_fail dir; chattr -i dir ;;
  bind)
    all_fail dir unshare -m sh -c 'mount --bind -o ro "$0" "$0" && exec "$@"' "$PWD/dir" ;;
  *)
    echo "io_faults: no way to make a directory read-only for uid $(id -u) here; (a) covered by the cases below only" ;;
esac
same_as_old
echo "io_faults: read-only directory via ${ro_mode:-none}"

# the same for paths no user can create files in: through a regular file
# (ENOTDIR), and in /proc
echo "a file" > notadir
OUTDIR=notadir all_fail notadir
expect_exit 1 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 1 --out /proc/m.mxm
expect_contains err.txt "/proc/m.mxm"
expect_exit 1 "$MERX" "${FC[@]}" --out /proc/fc.csv
expect_contains err.txt "/proc/fc.csv: cannot create output"
[ "$(cat notadir)" = "a file" ]
same_as_old

# ---- (c) full disk, with a file-size limit (ulimit -f, 1024-byte blocks):
# the write fails (EFBIG, like ENOSPC), merx reports it and keeps the old file
expect_exit 1 bash -c 'ulimit -f 64 && exec "$0" "$@"' "$MERX" train --data "$P" --columns "$COLS" \
  --algo ials --factors 8 --epochs 1 --seed 9 --out dir/model.mxm
expect_contains err.txt "dir/model.mxm: "; expect_contains err.txt "File too large"
expect_exit 1 bash -c 'ulimit -f 2 && exec "$0" "$@"' "$MERX" "${FC[@]}" --horizon 5 --out dir/fc.csv
expect_contains err.txt "dir/fc.csv: "; expect_contains err.txt "File too large"
expect_exit 1 bash -c 'ulimit -f 1 && exec "$0" "$@"' "$MERX" recommend --model m.mxm --all --k 4 \
  --out dir/rec.csv
expect_contains err.txt "dir/rec.csv: "; expect_contains err.txt "File too large"
same_as_old
# a limit the outputs fit in changes nothing
expect_exit 0 bash -c 'ulimit -f 100000 && exec "$0" "$@"' "$MERX" "${FC[@]}" --horizon 5 --out dir/fc.csv
expect_contains dir/fc.csv ",5,"
cp old/fc.csv dir/fc.csv

# ---- (b) an input truncated while it is read: a generated 40 MB CSV cut to
# 1000 bytes by another process during ingest. merx must notice (the file
# shrank under it: exit 1 naming the file) rather than use the rows it got
# before the cut; when the cut comes before merx opens the file or after it
# has read it all, the result is that of the short or the full file. Never
# a signal, never a partial output.
awk 'BEGIN { srand(3); for (r = 0; r < 1200000; r++)
  printf "u%d,i%d,%.2f,2011-01-%02d 10:00\n", int(rand() * 20000), int(rand() * 5000), rand() * 5, 1 + r % 28 }' \
  > big_src.csv
[ "$(stat -c %s big_src.csv)" -gt 35000000 ]
BC="user=1,item=2,value=3"
outcomes=""
# judge CMD RC ERRFILE: exit 0, or exit 1 with the file named; else FAIL
judge() {
  case $2 in
    0) outcomes="$outcomes $1:ok" ;;
    1) expect_contains "$3" "big.csv"
       if grep -q "shrank from" "$3"; then outcomes="$outcomes $1:shrank"; else outcomes="$outcomes $1:error"; fi ;;
    *) echo "FAIL: merx $1 exited $2 on an input truncated while read"; cat "$3"; exit 1 ;;
  esac
}
for delay in 0.1 0.25 0.5; do
  cp big_src.csv big.csv
  set +e
  "$MERX" data stats --data big.csv --no-header --columns "$BC" > st.txt 2> st_err.txt &
  pid=$!
  sleep "$delay"; truncate -s 1000 big.csv
  wait "$pid"; rc=$?
  set -e
  judge stats $rc st_err.txt
  if [ $rc -eq 0 ]; then   # the whole file, or the 1000 bytes left of it
    n=$(sed -n 's/^rows *\([0-9]*\).*/\1/p' st.txt)
    [ "$n" -eq 1200000 ] || [ "$n" -le 40 ] || { echo "FAIL: stats of $n rows"; exit 1; }
  fi
  cp big_src.csv big.csv
  set +e
  "$MERX" train --data big.csv --no-header --columns "$BC" --algo als --factors 4 --epochs 1 \
    --out dir/model.mxm > tr.txt 2> tr_err.txt &
  pid=$!
  sleep "$delay"; truncate -s 1000 big.csv
  wait "$pid"; rc=$?
  set -e
  judge train $rc tr_err.txt
  if [ $rc -eq 0 ]; then
    "$MERX" model info --model dir/model.mxm > /dev/null
    cp old/model.mxm dir/model.mxm
  fi
  same_as_old
done
echo "io_faults: truncated input:$outcomes"

# ---- a model file truncated in place while a run uses it. Models are
# mmap'd and checked at load; the script waits (polling for go.csv) until the
# test has cut the file, then touches the model: SIGBUS in the process,
# which merx reports as a clear error, exit 1, nothing committed.
cp old/model.mxm live.mxm
cat > use.lua <<'LUA'
local m = merx.model.load("live.mxm")
merx.log.info("model loaded")
while not pcall(merx.data.read, "go.csv") do end
local items = m:recommend({ merx.params.user }, 5)
merx.emit("offer", { user = merx.params.user, item = items[1][1], reason = "top" })
LUA
set +e
user=$(sed -n 2p old/rec.csv | cut -d, -f1)   # a user the model knows
"$MERX" run use.lua --set user="$user" --out runout --timeout 30 > use.txt 2> use_err.txt &
pid=$!
for _ in $(seq 300); do grep -q "model loaded" use_err.txt && break; sleep 0.05; done
set -e
expect_contains use_err.txt "model loaded"
truncate -s 4096 live.mxm
echo "a,b" > go.csv
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 1 ] || { echo "FAIL: a run whose model was truncated exited $rc"; cat use_err.txt; exit 1; }
expect_contains use_err.txt "memory-mapped model file was truncated or rewritten in place"
[ ! -e runout/offer.csv ]
# the truncated file itself is refused at the next load, with its name
expect_exit 1 "$MERX" model info --model live.mxm
expect_contains err.txt "live.mxm"
echo "io_faults: model truncated in use -> exit 1 with a clear error"
