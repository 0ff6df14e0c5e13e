#!/usr/bin/env python3
"""Build examples/data from the full UCI Online Retail file (CC BY 4.0).

Usage: scripts/data/make_examples.py ../shared/data/online-retail/online-retail.csv.gz examples/data

Keeps every invoice line (purchases and cancellations) of 1,000 customers drawn
at random (seed 20261128) from those with a CustomerID, then derives
products.csv (StockCode, Description, median UnitPrice) and daily_sales.csv
(StockCode, date, quantity) for the 40 products with the most units sold in the
subset, counting only purchases (InvoiceNo not starting with C, Quantity > 0).
"""
import csv, gzip, io, random, statistics, sys
from collections import defaultdict

src, out = sys.argv[1], sys.argv[2]
with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
ix = {h: i for i, h in enumerate(header)}
customers = sorted({r[ix["CustomerID"]] for r in rows if r[ix["CustomerID"]]})
random.seed(20261128)
chosen = set(random.sample(customers, 1000))
subset = [r for r in rows if r[ix["CustomerID"]] in chosen]

buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(header)
w.writerows(subset)
with gzip.GzipFile(f"{out}/purchases.csv.gz", "wb", mtime=0) as g:
    g.write(buf.getvalue().encode("utf-8"))

desc, prices = {}, defaultdict(list)
for r in subset:
    code = r[ix["StockCode"]]
    if r[ix["Description"]] and code not in desc:
        desc[code] = r[ix["Description"]]
    if float(r[ix["UnitPrice"]]) > 0:
        prices[code].append(float(r[ix["UnitPrice"]]))
with open(f"{out}/products.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["StockCode", "Description", "UnitPrice"])
    for code in sorted(desc):
        if prices[code]:
            w.writerow([code, desc[code], f"{statistics.median(prices[code]):.2f}"])

units = defaultdict(float)
daily = defaultdict(float)
for r in subset:
    if r[ix["InvoiceNo"]].startswith("C") or float(r[ix["Quantity"]]) <= 0:
        continue
    code = r[ix["StockCode"]]
    units[code] += float(r[ix["Quantity"]])
    daily[(code, r[ix["InvoiceDate"]][:10])] += float(r[ix["Quantity"]])
top = sorted(units, key=lambda c: (-units[c], c))[:40]
with open(f"{out}/daily_sales.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["StockCode", "date", "quantity"])
    for code in sorted(top):
        for (c, d), q in sorted(daily.items()):
            if c == code:
                w.writerow([code, d, int(q)])
print(f"{len(subset)} lines, {len(chosen)} customers, {len(desc)} products, top {len(top)} daily series")
