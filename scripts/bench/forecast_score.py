#!/usr/bin/env python3
"""Score merx forecast output against M4 test data, exactly as the M4 organisers:
sMAPE = mean over series of mean_h 200|y-f|/(|y|+|f|); MASE = mean_h |y-f| / mean_t |x_t - x_{t-m}|
(m = 24 for Hourly); OWA = (sMAPE/sMAPE_Naive2 + MASE/MASE_Naive2)/2 on the averages.
usage: forecast_score.py TRAIN.csv TEST.csv M FORECAST.csv [NAIVE2_FORECAST.csv]
prints: smape mase owa cov80 cov95 (owa 'nan' without the Naive2 file)."""
import csv, sys


def wide(path):
    out = {}
    with open(path) as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            out[r[0]] = [float(v) for v in r[1:] if v != ""]
    return out


def forecasts(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            out.setdefault(r["id"], []).append(r)
    return out


def score(train, test, m, fc):
    sm = ms = c80 = c95 = 0.0
    n = 0
    for sid, y in test.items():
        rows = fc[sid]
        f = [float(r["forecast"]) for r in rows]
        x = train[sid]
        h = len(y)
        sm += sum(200 * abs(a - b) / (abs(a) + abs(b)) for a, b in zip(y, f)) / h
        scale = sum(abs(x[t] - x[t - m]) for t in range(m, len(x))) / (len(x) - m)
        ms += sum(abs(a - b) for a, b in zip(y, f)) / h / scale
        if "lo80" in rows[0]:
            c80 += sum(float(r["lo80"]) <= a <= float(r["hi80"]) for r, a in zip(rows, y)) / h
        if "lo95" in rows[0]:
            c95 += sum(float(r["lo95"]) <= a <= float(r["hi95"]) for r, a in zip(rows, y)) / h
        n += 1
    return sm / n, ms / n, c80 / n, c95 / n


train, test, m = wide(sys.argv[1]), wide(sys.argv[2]), int(sys.argv[3])
sm, ms, c80, c95 = score(train, test, m, forecasts(sys.argv[4]))
owa = float("nan")
if len(sys.argv) > 5:
    s2, m2, _, _ = score(train, test, m, forecasts(sys.argv[5]))
    owa = 0.5 * (sm / s2 + ms / m2)
print("%.3f %.3f %.3f %.3f %.3f" % (sm, ms, owa, c80, c95))
