#!/usr/bin/env python3
"""Time split of the UCI Online Retail file for scripts/bench/recency.sh, and
the two popularity baselines scored the way `merx eval` scores a model.

  recency_prep.py ONLINE_RETAIL.csv.gz OUTDIR      # write the four files
  recency_prep.py --baselines TRAIN TEST CUT        # print popularity metrics

Clean purchase view (as split-80-20): CustomerID present, invoice not a
cancellation ("C..."), Quantity > 0, UnitPrice > 0. Files have the columns
customer_id,stock_code,time (one row per invoice line):
  trainval.csv  events before 2011-08-01     val.csv   2011-08-01 .. 2011-09-30
  train.csv     events before 2011-10-01     test.csv  2011-10-01 on
Baselines follow merx eval (src/core/score/eval.c): users and items known in
TRAIN, test items the user has not bought in TRAIN, all other items ranked,
binary gains, ideal DCG over min(10, test items), P@10 = hits / 10, ties in
the order items first appear in TRAIN. "recent" counts buyers in the 30 days
before CUT (YYYY-MM-DD)."""
import csv, gzip, math, os, sys
from datetime import datetime, timedelta

VAL, TEST = "2011-08-01", "2011-10-01"


def prep(src, out):
    os.makedirs(out, exist_ok=True)
    names = ["trainval", "val", "train", "test"]
    files = {n: open(os.path.join(out, n + ".csv"), "w", newline="") for n in names}
    writers = {n: csv.writer(f) for n, f in files.items()}
    for w in writers.values():
        w.writerow(["customer_id", "stock_code", "time"])
    with gzip.open(src, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if not r["CustomerID"] or r["InvoiceNo"].startswith("C"):
                continue
            if float(r["Quantity"]) <= 0 or float(r["UnitPrice"]) <= 0:
                continue
            row = [r["CustomerID"], r["StockCode"], r["InvoiceDate"]]
            t = r["InvoiceDate"][:10]
            writers["trainval" if t < VAL else "val"].writerow(row) if t < TEST else None
            writers["train" if t < TEST else "test"].writerow(row)
    for f in files.values():
        f.close()


def read(path):
    with open(path, newline="") as f:
        return [(r["customer_id"], r["stock_code"], r["time"]) for r in csv.DictReader(f)]


def baselines(train_path, test_path, cut):
    train, test = read(train_path), read(test_path)
    order, seen, last = {}, {}, {}
    for u, i, t in train:
        order.setdefault(i, len(order))
        seen.setdefault(u, set()).add(i)
        if t > last.get((u, i), ""):
            last[(u, i)] = t
    since = (datetime.fromisoformat(cut) - timedelta(days=30)).strftime("%Y-%m-%d")
    pop = {i: 0 for i in order}
    recent = {i: 0 for i in order}
    for (u, i), t in last.items():
        pop[i] += 1
        if t >= since:
            recent[i] += 1
    truth = {}
    for u, i, _ in test:
        if u in seen and i in order and i not in seen[u]:
            truth.setdefault(u, set()).add(i)
    res = {}
    for name, score in (("popularity", pop), ("recent30", recent)):
        ranked = sorted(order, key=lambda i: (-score[i], order[i]))
        p = n = 0.0
        for u, items in truth.items():
            top = [i for i in ranked if i not in seen[u]][:10]
            hits = [r for r, i in enumerate(top) if i in items]
            dcg = sum(1 / math.log2(r + 2) for r in hits)
            idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(items))))
            p += len(hits) / 10
            n += dcg / idcg
        res[name] = (p / len(truth), n / len(truth))
    for name, (p, n) in res.items():
        print(f"{name} {p:.4f} {n:.4f} {len(truth)}")


if __name__ == "__main__":
    if sys.argv[1] == "--baselines":
        baselines(*sys.argv[2:5])
    else:
        prep(sys.argv[1], sys.argv[2])
