#!/usr/bin/env python3
"""Rolling-origin benchmark of ARIMA with drivers on Online Retail daily best
sellers (issue 22): ARIMA alone, with the UK bank-holiday regressor
(merx forecast --holidays), with the observed UnitPrice (--regressors) and
with both. Called by scripts/bench/forecast_arima.sh (PARTS=drivers).

  forecast_drivers.py MERX SRC.csv.gz CALENDAR TMPDIR SERIES ORIGINS STEP H [LAST]

Daily series of the SERIES best sellers (units, purchases only) from each
product's first sale; ORIGINS origins every STEP days, the last one on LAST
(the first forecast day; default H days before the data's last day); every
fit sees only the data before its origin. UnitPrice: the day's
quantity-weighted mean price, carried forward over days without sales (the
"observed" price, future values included: an oracle of the planned price).
WAPE = sum|e| / sum y over all series-origins; MASE scaled by the in-sample
seasonal naive (m = 7) error of each series at each origin, averaged."""
import csv, datetime, gzip, os, subprocess, sys, time
from collections import defaultdict

merx, src, cal, tmp = sys.argv[1:5]
nser, norig, step, h = map(int, sys.argv[5:9])
last_origin = datetime.date.fromisoformat(sys.argv[9]) if len(sys.argv) > 9 else None
qty = defaultdict(lambda: defaultdict(float))
rev = defaultdict(lambda: defaultdict(float))
total = defaultdict(float)
with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        q, p = float(r["Quantity"]), float(r["UnitPrice"])
        if q <= 0 or p <= 0 or r["InvoiceNo"].startswith("C"):
            continue
        c, d = r["StockCode"], datetime.date.fromisoformat(r["InvoiceDate"][:10])
        qty[c][d] += q
        rev[c][d] += q * p
        total[c] += q
ids = sorted(total, key=lambda c: -total[c])[:nser]
last = max(max(qty[c]) for c in ids)
series, price = {}, {}
for c in ids:
    d, ys, ps, p = min(qty[c]), [], [], None
    while d <= last:
        if qty[c].get(d):
            p = rev[c][d] / qty[c][d]
        ys.append((d, qty[c].get(d, 0.0)))
        ps.append(p)
        d += datetime.timedelta(days=1)
    first = next(v for v in ps if v is not None)
    series[c], price[c] = ys, [v if v is not None else first for v in ps]

variants = {"arima": [], "arima+holidays": ["--holidays", cal, "--country", "GB"],
            "arima+price": ["--regressors", "PRICE"],
            "arima+price+holidays": ["--regressors", "PRICE", "--holidays", cal, "--country", "GB"]}
acc = {v: {"abs": 0.0, "y": 0.0, "mase": [], "cpu": 0.0, "n": 0} for v in variants}
for o in range(norig):
    end = last_origin or last - datetime.timedelta(days=h - 1)
    origin = end - datetime.timedelta(days=step * (norig - 1 - o))  # the first forecast day
    data, regs = os.path.join(tmp, "d.csv"), os.path.join(tmp, "x.csv")
    with open(data, "w") as f, open(regs, "w") as g:
        f.write("id,date,q\n")
        g.write("id,time,name,value\n")
        for c in ids:
            for (d, y), p in zip(series[c], price[c]):
                if d < origin:
                    f.write("%s,%s,%g\n" % (c, d, y))
                if d < origin + datetime.timedelta(days=h):
                    g.write("%s,%s,price,%.4f\n" % (c, d, p))
    for v, extra in variants.items():
        out = os.path.join(tmp, "f.csv")
        cmd = [merx, "forecast", "--data", data, "--format", "long", "--horizon", str(h),
               "--season", "7", "--method", "arima", "--threads", "1", "--out", out]
        cmd += [regs if a == "PRICE" else a for a in extra]
        t0 = os.times()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        t1 = os.times()
        acc[v]["cpu"] += t1.children_user + t1.children_system - t0.children_user - t0.children_system
        fc = defaultdict(dict)
        for r in csv.DictReader(open(out)):
            fc[r["id"]][r["time"]] = max(0.0, float(r["forecast"]))
        for c in ids:
            hist = [y for d, y in series[c] if d < origin]
            if len(hist) < 8 or c not in fc:
                continue
            scale = sum(abs(hist[t] - hist[t - 7]) for t in range(7, len(hist))) / (len(hist) - 7)
            act = [(d.isoformat(), y) for d, y in series[c] if origin <= d < origin + datetime.timedelta(days=h)]
            e = [abs(fc[c][d] - y) for d, y in act]
            acc[v]["abs"] += sum(e)
            acc[v]["y"] += sum(y for d, y in act)
            acc[v]["n"] += 1
            if scale > 0:
                acc[v]["mase"].append(sum(e) / len(e) / scale)
    print("origin %s done" % origin, file=sys.stderr, flush=True)
print("| variant | WAPE | MASE | series-origins | CPU s (all fits) |")
print("| --- | --- | --- | --- | --- |")
for v, a in acc.items():
    print("| %s | %.3f | %.3f | %d | %.1f |" % (v, a["abs"] / a["y"], sum(a["mase"]) / len(a["mase"]),
                                              a["n"], a["cpu"]))
