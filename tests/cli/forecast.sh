# merx forecast / merx backtest: the CLI contract on the example sales data
# and on generated wide files.
D="$MERX_SRC/examples/data"

# long input: daily sales of 40 products, weekly buckets, auto with intervals
expect_exit 0 "$MERX" forecast --data "$D/daily_sales.csv" --format long \
  --columns id=StockCode,time=date,value=quantity --freq week --horizon 4 --nonneg \
  --out fc.csv --json --plot fc.html
head -1 fc.csv | grep -qx 'id,h,time,forecast,lo80,hi80,lo95,hi95,method'
[ "$(tail -n +2 fc.csv | wc -l)" -eq 160 ]
python3 - <<'PY'
import csv, json
rows = list(csv.DictReader(open("fc.csv")))
j = json.load(open("out.txt"))
assert j["series"] == 40 and j["seconds"] >= 0, j
assert sum(j["methods"].values()) == 40, j
for r in rows:
    f, lo80, hi80, lo95, hi95 = (float(r[k]) for k in ("forecast", "lo80", "hi80", "lo95", "hi95"))
    assert 0 <= lo95 <= lo80 <= f <= hi80 <= hi95, r
    assert r["time"] >= "2011-12-05", r          # after the last week of data
    assert r["method"] in j["methods"], r
PY
expect_contains fc.html '<svg'

# raw transactions aggregated per month, returns clamped to zero
expect_exit 0 "$MERX" forecast --data "$D/purchases.csv.gz" --format long \
  --columns id=StockCode,time=InvoiceDate,value=Quantity --freq month --negative zero \
  --horizon 2 --method sba --levels 90 --out m.csv
head -1 m.csv | grep -qx 'id,h,time,forecast,lo90,hi90,method'

# wide (M4 layout): header detected, padded rows, seasonal naive exact
python3 - <<'PY'
import math
with open("w.csv", "w") as f:
    f.write('"V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13"\n')
    f.write('"S1",' + ",".join('"%d"' % (10 + (t % 4)) for t in range(12)) + "\n")
    f.write('"S2",' + ",".join('"%d"' % (5 + t) for t in range(8)) + ',"","","",""\n')
PY
expect_exit 0 "$MERX" forecast --data w.csv --format wide --horizon 5 --season 4 --method snaive --out w_out.csv
head -1 w_out.csv | grep -qx 'id,h,forecast,lo80,hi80,lo95,hi95,method'
grep -q '^S1,1,10,' w_out.csv
grep -q '^S1,5,10,' w_out.csv
grep -q '^S2,1,9,' w_out.csv

# bad input: NaN in the data names file, line and column
printf 'a,1,2,3\nb,1,NaN,3\n' > bad.csv
expect_exit 1 "$MERX" forecast --data bad.csv --format wide --horizon 2 --out x.csv
expect_contains err.txt 'bad.csv:2:3'
[ ! -e x.csv ]
# unknown method, missing format: usage errors
expect_exit 2 "$MERX" forecast --data w.csv --format wide --horizon 2 --method prophet --out x.csv
expect_contains err.txt "unknown method 'prophet'"
expect_exit 2 "$MERX" forecast --data w.csv --horizon 2 --out x.csv
expect_exit 2 "$MERX" forecast --data w.csv --format wide --horizon 0 --out x.csv
# a season longer than the series: falls back and says so
expect_exit 0 "$MERX" forecast --data w.csv --format wide --horizon 2 --season 24 --method snaive --out x.csv
expect_contains err.txt 'snaive needs'
# negative sales refused on request
printf 'a,1,-2,3\n' > neg.csv
expect_exit 1 "$MERX" forecast --data neg.csv --format wide --horizon 1 --negative error --out x.csv
expect_contains err.txt 'negative'

# backtest: table, JSON and CSV
expect_exit 0 "$MERX" backtest --data "$D/daily_sales.csv" --format long \
  --columns id=StockCode,time=date,value=quantity --freq week --horizon 4 --origins 2 \
  --methods naive,snaive,croston,sba,tsb,auto --season 4 --json --out bt.csv
python3 - <<'PY'
import json
j = json.load(open("out.txt"))
names = [m["method"] for m in j["methods"]]
assert names == ["naive", "snaive", "croston", "sba", "tsb", "auto"], names
for m in j["methods"]:
    assert m["evaluated"] == 80 and m["mase"] > 0 and 0 <= m["coverage"]["95"] <= 1, m
PY
head -1 bt.csv | grep -q '^method,smape,mase,rmsse,wape,bias,pinball,coverage80,coverage95'
expect_exit 0 "$MERX" backtest --data w.csv --format wide --horizon 2 --season 4 --origins 2 \
  --methods ets,auto --refit first
expect_contains out.txt 'auto'
expect_exit 2 "$MERX" backtest --data w.csv --format wide --horizon 2 --refit sometimes
expect_exit 0 "$MERX" forecast --help
expect_contains out.txt 'usage: merx forecast'

# issue 22: daily sales with many zero days; theta's multiplicative seasonal
# adjustment met zero weekday indices and wrote -nan. Every value finite, the
# additive fallback counted in fallbacks and named per series on stderr.
expect_exit 0 "$MERX" forecast --data "$D/retail_daily_sparse.csv" --format wide --no-header \
  --season 7 --horizon 14 --method theta --json --out sparse.csv
python3 - <<'PY'
import csv, json, math
rows = list(csv.DictReader(open("sparse.csv")))
assert len(rows) == 20 * 14, len(rows)
for r in rows:
    for k in ("forecast", "lo80", "hi80", "lo95", "hi95"):
        assert math.isfinite(float(r[k])), r
j = json.load(open("out.txt"))
assert j["fallbacks"] >= 5, j
PY
expect_contains err.txt 'additive seasonal adjustment'
