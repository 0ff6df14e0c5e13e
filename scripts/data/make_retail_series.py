#!/usr/bin/env python3
"""Build the Online Retail series extracts of examples/data (CC BY 4.0).

Usage: scripts/data/make_retail_series.py ../shared/data/online-retail/online-retail.csv.gz examples/data

Purchases only (InvoiceNo not starting with C, Quantity > 0) of the full file,
summed per StockCode:
  retail_top100_weekly.csv  the 100 products with the most units sold, one row per
                            product: id, then units per ISO week (Monday) from the
                            week of its first sale to the file's last week (zeros
                            filled). Wide layout, no header.
  retail_daily_sparse.csv   20 products among the top 300 with the most zero days
                            (of those selling on at least 60 days): id, then units
                            per day from the first sale to the file's last day.
"""
import csv, datetime, gzip, sys
from collections import defaultdict

src, out = sys.argv[1], sys.argv[2]
units = defaultdict(float)
week = defaultdict(lambda: defaultdict(float))
day = defaultdict(lambda: defaultdict(float))
with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
    rd = csv.reader(f)
    ix = {h: i for i, h in enumerate(next(rd))}
    for r in rd:
        q = float(r[ix["Quantity"]])
        if r[ix["InvoiceNo"]].startswith("C") or q <= 0:
            continue
        code = r[ix["StockCode"]]
        d = datetime.date.fromisoformat(r[ix["InvoiceDate"]][:10])
        units[code] += q
        week[code][d - datetime.timedelta(days=d.weekday())] += q
        day[code][d] += q
last_day = max(max(v) for v in day.values())
last_week = last_day - datetime.timedelta(days=last_day.weekday())


def row(code, series, end, step):
    t, vals = min(series), []
    while t <= end:
        vals.append(series.get(t, 0.0))
        t += datetime.timedelta(days=step)
    return [code] + ["%g" % v for v in vals]


ranked = sorted(units, key=lambda c: (-units[c], c))
with open(f"{out}/retail_top100_weekly.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for code in sorted(ranked[:100]):
        w.writerow(row(code, week[code], last_week, 7))
cands = []
for code in ranked[:300]:
    r = row(code, day[code], last_day, 1)
    if len(day[code]) >= 60:
        cands.append((-sum(1 for v in r[1:] if v == "0"), code, r))
with open(f"{out}/retail_daily_sparse.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for _, code, r in sorted(sorted(cands)[:20], key=lambda c: c[1]):
        w.writerow(r)
