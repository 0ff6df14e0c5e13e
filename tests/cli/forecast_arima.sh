# merx forecast --method arima and --regressors: regression with ARIMA errors
# on generated data with a known promotion effect, and the errors a user meets.
python3 - <<'PY'
import math, random
random.seed(22)
n, h = 120, 12
promo = [1 if (t % 10) in (3, 4) else 0 for t in range(n + h)]
price = [10 + (t // 30) * 0.5 for t in range(n + h)]
e, prev = [], 0.0
for t in range(n):
    prev = 0.5 * prev + random.gauss(0, 1)
    e.append(prev)
y = [50 + 12 * promo[t] - 2 * price[t] + e[t] for t in range(n)]
with open("w.csv", "w") as f:
    f.write("s1," + ",".join("%.4f" % v for v in y) + "\n")
    f.write("s2," + ",".join("%.4f" % (v + 5) for v in y) + "\n")
with open("x.csv", "w") as f:
    f.write("id,time,name,value\n")
    for s in ("s1", "s2"):
        for t in range(n + h):
            f.write("%s,%d,promo,%d\n" % (s, t + 1, promo[t]))
            f.write("%s,%d,price,%.2f\n" % (s, t + 1, price[t]))
PY
# plain arima, then with the regressors
expect_exit 0 "$MERX" forecast --data w.csv --format wide --horizon 12 --method arima --out a.csv
expect_exit 0 "$MERX" forecast --data w.csv --format wide --horizon 12 --method arima \
  --regressors x.csv --out ax.csv --json
python3 - <<'PY'
import csv, json
rows = [r for r in csv.DictReader(open("ax.csv")) if r["id"] == "s1"]
j = json.load(open("out.txt"))
assert j["methods"] == {"arima": 2}, j
promo = [1 if ((120 + h) % 10) in (3, 4) else 0 for h in range(12)]
on = [float(r["forecast"]) for r, p in zip(rows, promo) if p]
off = [float(r["forecast"]) for r, p in zip(rows, promo) if not p]
lift = sum(on) / len(on) - sum(off) / len(off)
assert 10 < lift < 14, lift            # the true effect is 12
for r in rows:
    assert float(r["lo95"]) < float(r["forecast"]) < float(r["hi95"]), r
PY
# a missing future value is an error naming the file, series, regressor and step
grep -v '^s2,130,price' x.csv > x_missing.csv
expect_exit 1 "$MERX" forecast --data w.csv --format wide --horizon 12 --method arima \
  --regressors x_missing.csv --out m.csv
expect_contains err.txt "x_missing.csv"
expect_contains err.txt "series 's2' has no future value of regressor 'price' for horizon step 10"
[ ! -e m.csv ]
# a bad value names line and field
sed '5s/,[^,]*$/,abc/' x.csv > x_bad.csv
expect_exit 1 "$MERX" forecast --data w.csv --format wide --horizon 12 --method arima \
  --regressors x_bad.csv --out m.csv
expect_contains err.txt "x_bad.csv:5"
expect_contains err.txt "value"
# methods without regressor support say so
expect_exit 2 "$MERX" forecast --data w.csv --format wide --horizon 12 --method ets \
  --regressors x.csv --out m.csv
expect_contains err.txt "method ets does not use regressors"
