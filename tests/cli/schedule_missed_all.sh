# missed = "all" under the default overlap = "forbid" (issue #15.3): after a
# downtime every missed slot runs (at most 100, the newest), oldest first, one
# after another; none is skipped as overlapping the catch-up run before it
# (it used to run 1 of 72). A stand-in runner (--exec) records each run's
# slot (--now) and how many runs were active at once.
cat > runner.sh <<'RUNNER'
#!/usr/bin/env bash
# usage: runner.sh run SCRIPT --out DIR --timeout T --now SLOT [--set k=v ...]
script="$2"; out="$4"; slot="$8"; here="$(dirname "$script")"
touch "$here/active.$$"
ls "$here" | grep -c '^active\.' >> "$here/concurrency.txt"
echo "$slot" >> "$here/order.txt"
trap 'rm -f "$here/active.$$"' EXIT
echo "slot output" > "$out/out.txt"
RUNNER
chmod +x runner.sh
echo 'return 1' > job.lua
cat > s.lua <<'LUA'
return { store = "s.db", jobs = {
  { name = "nightly", cron = "*/10 * * * *", script = "job.lua", missed = "all" } } }
LUA
expect_exit 0 "$MERX" schedule s.lua --once --now 2026-01-01T00:00:20Z --exec ./runner.sh
rm -f order.txt concurrency.txt
# 12 hours down: 72 slots, 00:10 .. 12:00, all late (plus the 00:00 run before)
expect_exit 0 "$MERX" schedule s.lua --once --now 2026-01-01T12:05:00Z --exec ./runner.sh
expect_exit 0 "$MERX" runs s.lua --limit 0
n() { grep -c "^nightly	.*	$1	" out.txt || true; }
[ "$(n success)" -eq 73 ] || { echo "FAIL: $(( $(n success) - 1 )) of 72 missed slots ran"; cat out.txt | head -5; exit 1; }
[ "$(n skipped)" -eq 0 ] && [ "$(n missed)" -eq 0 ]
[ "$(wc -l < order.txt)" -eq 72 ]
sort -nc order.txt                                       # oldest first
[ "$(sort -u order.txt | wc -l)" -eq 72 ]
[ "$(sort -n concurrency.txt | tail -1)" -eq 1 ]        # one after another
[ "$(ls outputs/nightly | grep -c Z$)" -eq 73 ]

# more than 100 missed: the newest 100 run in order, the older ones are missed
rm -f order.txt concurrency.txt
expect_exit 0 "$MERX" schedule s.lua --once --now 2026-01-02T07:15:00Z --exec ./runner.sh
[ "$(wc -l < order.txt)" -eq 100 ]
sort -nc order.txt
[ "$(head -1 order.txt)" -eq "$(date -u -d 2026-01-01T14:40:00Z +%s)" ] ||  # --now is epoch seconds
  { echo "FAIL: first $(head -1 order.txt)"; exit 1; }
[ "$(sort -n concurrency.txt | tail -1)" -eq 1 ]
expect_exit 0 "$MERX" runs s.lua --limit 0
[ "$(n missed)" -eq 15 ] && [ "$(n skipped)" -eq 0 ]
