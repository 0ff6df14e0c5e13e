#!/usr/bin/env python3
"""Score forecasts of weekly retail series (zeros allowed): sMAPE with 0/0 counted as 0,
MASE scaled by the in-sample mean absolute lag-M difference (series with a zero scale are
left out of MASE), WAPE = sum|y-f| / sum|y| over all series and steps, 80/95% coverage.
usage: forecast_score_retail.py TRAIN.csv TEST.csv M FORECAST.csv
prints: smape mase wape cov80 cov95"""
import csv, sys


def wide(path):
    with open(path) as f:
        rows = csv.reader(f)
        next(rows)
        return {r[0]: [float(v) for v in r[1:] if v != ""] for r in rows}


train, test, m = wide(sys.argv[1]), wide(sys.argv[2]), int(sys.argv[3])
fc = {}
with open(sys.argv[4]) as f:
    for r in csv.DictReader(f):
        fc.setdefault(r["id"], []).append(r)
sm = ms = c80 = c95 = ae = ay = 0.0
n = nm = 0
for sid, y in test.items():
    rows = fc[sid]
    f = [float(r["forecast"]) for r in rows]
    x, h = train[sid], len(y)
    sm += sum(0 if a == b == 0 else 200 * abs(a - b) / (abs(a) + abs(b)) for a, b in zip(y, f)) / h
    scale = sum(abs(x[t] - x[t - m]) for t in range(m, len(x))) / (len(x) - m)
    if scale > 0:
        ms += sum(abs(a - b) for a, b in zip(y, f)) / h / scale
        nm += 1
    ae += sum(abs(a - b) for a, b in zip(y, f))
    ay += sum(abs(a) for a in y)
    c80 += sum(float(r["lo80"]) <= a <= float(r["hi80"]) for r, a in zip(rows, y)) / h
    c95 += sum(float(r["lo95"]) <= a <= float(r["hi95"]) for r, a in zip(rows, y)) / h
    n += 1
print("%.3f %.3f %.3f %.3f %.3f" % (sm / n, ms / max(nm, 1), ae / ay, c80 / n, c95 / n))
