# merx serve hot reload: SIGHUP and a changed model file swap in a new
# generation (new model visible, its fingerprint in /metrics); a broken file
# keeps the old generation serving (log and /metrics say so); a client loop
# across several reloads sees no failed request.
DATA="$MERX_SRC/examples/data/purchases.csv.gz"
COLS=user=CustomerID,item=StockCode
$MERX train --data "$DATA" --columns $COLS --algo ials --factors 8 --epochs 3 --seed 1 \
  --out m1.mxm >/dev/null 2>&1
$MERX train --data "$DATA" --columns $COLS --algo ials --factors 6 --epochs 2 --seed 7 \
  --out m2.mxm >/dev/null 2>&1
source "$MERX_SRC/tests/net/serve_lib.sh"
user=$(zcat "$DATA" | python3 -c '
import csv, sys
print(sorted({r["CustomerID"] for r in csv.DictReader(sys.stdin) if r["CustomerID"]})[20])')
$MERX recommend --model m1.mxm --user "$user" --k 5 --out r1.csv 2>/dev/null
$MERX recommend --model m2.mxm --user "$user" --k 5 --out r2.csv 2>/dev/null
# items of a CSV / a JSON answer, one line
csv_items() { tail -n +2 "$1" | cut -d, -f3 | tr '\n' ' '; }
json_items() { python3 -c 'import json; print(" ".join(i["item"] for i in json.load(open("body.txt"))["items"]), end=" ")'; }
[ "$(csv_items r1.csv)" != "$(csv_items r2.csv)" ] || { echo "the two models agree: no test"; exit 1; }

cp m1.mxm model.mxm
start_server --model model.mxm --watch 0.2
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 5}"
[ "$(json_items)" = "$(csv_items r1.csv)" ] || { echo "gen 1 answer"; cat body.txt; exit 1; }
call GET /metrics
fp1=$(sed -n 's/.*fingerprint="\([0-9a-f]*\)".*/\1/p' body.txt)

# ---- SIGHUP: a new generation from the new file
cp m2.mxm model.tmp && mv model.tmp model.mxm
kill -HUP "$PID"
wait_for serve.log 'reloaded: generation 2'
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 5}"
[ "$(json_items)" = "$(csv_items r2.csv)" ] || { echo "gen 2 answer"; cat body.txt; exit 1; }
call GET /metrics
fp2=$(sed -n 's/.*fingerprint="\([0-9a-f]*\)".*/\1/p' body.txt)
[ -n "$fp1" ] && [ -n "$fp2" ] && [ "$fp1" != "$fp2" ] || { echo "fingerprints $fp1 $fp2"; exit 1; }
expect_contains body.txt 'merx_generation 2'

# ---- a changed file alone (no signal): the watcher reloads
cp m1.mxm model.tmp && mv model.tmp model.mxm
wait_for serve.log 'reloaded: generation 3'
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 5}"
[ "$(json_items)" = "$(csv_items r1.csv)" ] || { echo "gen 3 answer"; cat body.txt; exit 1; }

# ---- a broken file: the old generation keeps serving, the log and /metrics say so
head -c 1000 m2.mxm > model.tmp && mv model.tmp model.mxm
wait_for serve.log 'reload failed, still serving generation 3'
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 5}"
expect_status 200
[ "$(json_items)" = "$(csv_items r1.csv)" ] || { echo "after a failed reload"; cat body.txt; exit 1; }
call GET /metrics
expect_contains body.txt 'merx_reload_last_success 0'
expect_contains body.txt 'merx_reloads_total{result="failed"} 1'
expect_contains body.txt 'merx_generation 3'
call GET /healthz
expect_status 200
# the same broken file is not retried on every poll
sleep 1
[ "$(grep -c 'reload failed' serve.log)" -eq 1 ] || { echo "retried a broken file"; cat serve.log; exit 1; }

# ---- reloads under load: no failed request
cp m2.mxm model.tmp && mv model.tmp model.mxm
wait_for serve.log 'reloaded: generation 4'
python3 "$MERX_SRC/tests/net/serve_client.py" loop "$URL/v1/recommend" \
  "{\"user\": \"$user\", \"k\": 5}" 4 > loop1.txt &
LOOP1=$!
python3 "$MERX_SRC/tests/net/serve_client.py" loop "$URL/v1/recommend" \
  "{\"items\": [\"85123A\"], \"k\": 3}" 4 > loop2.txt &
LOOP2=$!
sleep 0.5
for g in 5 6 7 8 9; do
  kill -HUP "$PID"
  wait_for serve.log "reloaded: generation $g"
done
wait "$LOOP1" "$LOOP2"
for f in loop1.txt loop2.txt; do
  expect_contains $f 'failed 0'
  ok=$(sed -n 's/^ok \([0-9]*\) .*/\1/p' $f)
  [ "$ok" -gt 10 ] || { echo "only $ok requests in $f"; cat $f; exit 1; }
done
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 5}"
[ "$(json_items)" = "$(csv_items r2.csv)" ] || { echo "after the reloads"; cat body.txt; exit 1; }
stop_server
