# merx data promotions: the decisions a campaign committed to the ledger become
# a promotion regressor, exactly: per series and period the number of decisions
# for that item (by the record's item field, a map, the run's time or a record
# field), zeros elsewhere; and the file feeds merx forecast --regressors.
cat > camp.lua <<'LUA'
-- offers per item as --set counts: A=3,B=1; one offer promotes no item;
-- an e-mail decision is of another kind
local n = { A = tonumber(merx.params.A or "0"), B = tonumber(merx.params.B or "0") }
local u = 0
for _, item in ipairs({ "A", "B" }) do
  for _ = 1, n[item] do
    u = u + 1
    merx.emit("offer", { user = "u" .. u, item = item, code = "SPRING-" .. item,
                         start = merx.params.start or "2011-12-06", reason = "test" })
  end
end
merx.emit("offer", { user = "x", code = "GENERAL", start = merx.params.start or "2011-12-06", reason = "no item" })
merx.emit("email", { user = "y", item = "A", reason = "another kind" })
LUA
python3 - <<'PY'
import datetime
with open("d.csv", "w") as f:
    f.write("sku,day,units\n")
    d = datetime.date(2011, 10, 3)
    while d <= datetime.date(2011, 11, 30):
        f.write("A,%s,%d\nB,%s,%d\n" % (d, 10 + d.day % 3, d, 5))
        d += datetime.timedelta(days=1)
PY
expect_exit 0 "$MERX" run camp.lua --store st --now 2011-12-02 --set A=3 --set B=1 --out o1
expect_exit 0 "$MERX" run camp.lua --store st --now 2011-12-05 --set A=2 --out o2
expect_exit 0 "$MERX" run camp.lua --store st --now 2011-11-15 --set B=4 --out o3
COLS="--data d.csv --format long --columns id=sku,time=day,value=units"
expect_exit 0 "$MERX" data promotions --store st $COLS --horizon 7 --out p.csv --json
expect_contains out.txt '"series":2'
expect_contains out.txt '"decisions":10'
expect_contains out.txt '"unmatched":3'
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("p.csv")))
assert len(rows) == 2 * (59 + 7), len(rows)           # every period of history + horizon
assert all(r["name"] == "promotion" for r in rows)
v = {(r["id"], r["time"]): float(r["value"]) for r in rows}
want = {("A", "2011-12-02"): 3, ("B", "2011-12-02"): 1, ("A", "2011-12-05"): 2,
        ("B", "2011-11-15"): 4}
for k, x in v.items():
    assert x == want.get(k, 0), (k, x)
assert ("A", "2011-12-07") in v and ("A", "2011-12-08") not in v
PY
# weekly buckets sum the days; --run keeps one run
expect_exit 0 "$MERX" data promotions --store st $COLS --freq week --horizon 2 --out w.csv
grep -q '^A,2011-11-28,promotion,3$' w.csv || { echo "FAIL: week of 28 Nov"; cat w.csv; exit 1; }
grep -q '^A,2011-12-05,promotion,2$' w.csv || { echo "FAIL: week of 5 Dec"; cat w.csv; exit 1; }
grep -q '^B,2011-11-14,promotion,4$' w.csv || { echo "FAIL: week of 14 Nov"; cat w.csv; exit 1; }
RUN=$(sqlite3 st/ledger.db "SELECT run_id FROM commits ORDER BY committed_at LIMIT 1" 2>/dev/null ||
      python3 -c "import sqlite3; print(sqlite3.connect('st/ledger.db').execute('SELECT run_id FROM commits ORDER BY rowid LIMIT 1').fetchone()[0])")
expect_exit 0 "$MERX" data promotions --store st $COLS --horizon 7 --run "$RUN" --out r.csv --json
expect_contains out.txt '"decisions":4'
# the record's own date field, and an offer code mapped to items (GENERAL promotes both)
printf 'code,item\nSPRING-A,A\nGENERAL,A\nGENERAL,B\n' > map.csv
expect_exit 0 "$MERX" data promotions --store st $COLS --horizon 7 --time-field start \
  --item-field code --map map.csv --name coupons --out m.csv --json
expect_contains out.txt '"unmatched":5'   # SPRING-B x 5 is in no map row
python3 - <<'PY'
import csv
v = {(r["id"], r["time"]): float(r["value"]) for r in csv.DictReader(open("m.csv"))}
# start = 2011-12-06 for all: A = 3 + 2 SPRING-A, + 3 GENERAL (one per run); B = 3 GENERAL
assert v[("A", "2011-12-06")] == 8 and v[("B", "2011-12-06")] == 3, v
assert sum(v.values()) == 11, sum(v.values())
PY
# forecast with the promotions as regressors
expect_exit 0 "$MERX" forecast $COLS --horizon 7 --method arima --regressors p.csv --out f.csv
# errors: a time field the records lack, or that is not a date; nothing written
expect_exit 1 "$MERX" data promotions --store st $COLS --horizon 7 --time-field nope --out bad.csv
expect_contains err.txt "no such text field"
expect_contains err.txt "ledger.db"
expect_exit 0 "$MERX" run camp.lua --store st2 --now 2011-12-02 --set A=1 --set start=soon --out o4
expect_exit 1 "$MERX" data promotions --store st2 $COLS --horizon 7 --time-field start --out bad.csv
expect_contains err.txt "not a date: 'soon'"
[ ! -e bad.csv ]
expect_exit 1 "$MERX" data promotions --store nostore $COLS --horizon 7 --out bad.csv
expect_exit 2 "$MERX" data promotions --store st --data d.csv --format wide --horizon 7 --out bad.csv
printf 'code,item\nSPRING-A,\n' > badmap.csv
expect_exit 1 "$MERX" data promotions --store st $COLS --horizon 7 --map badmap.csv --out bad.csv
expect_contains err.txt "badmap.csv:2"
[ ! -e bad.csv ]
