#!/usr/bin/env python3
"""Cold-start benchmark data from the full UCI Online Retail CSV (stdlib only).

Clean purchases (CustomerID present, InvoiceNo not starting with C, Quantity
> 0, UnitPrice > 0) -> distinct (customer, item) pairs. 10% of the items
(random, seed 42) are "new": their pairs are split 50/50 at random (seed 42)
into cold_train (what a model sees once the items have sold for a while) and
cold_test. Writes into OUT:
  warm.csv         pairs of the other 90% of items   (base model: new items unseen)
  full_train.csv   warm + cold_train                 (the fully trained model)
  cold_test.csv    cold_test pairs of customers present in warm.csv
  cold_items.txt   the new items (one id per line)
  products.csv     StockCode,Description (first description seen per item)
and prints the popularity and random baselines on cold_test, ranking only the
new items, each user's cold_train items excluded (the same protocol as
`merx coldstart eval`), as JSON.
"""
import csv, gzip, io, json, math, random, sys
from collections import defaultdict

src, out, k = sys.argv[1], sys.argv[2], 10
pairs, desc = set(), {}
with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        if not r["CustomerID"] or r["InvoiceNo"].startswith("C"):
            continue
        try:
            if float(r["Quantity"]) <= 0 or float(r["UnitPrice"]) <= 0:
                continue
        except ValueError:
            continue
        pairs.add((r["CustomerID"], r["StockCode"]))
        if r["StockCode"] not in desc and r["Description"].strip():
            desc[r["StockCode"]] = r["Description"].strip()
items = sorted({i for _, i in pairs})
rng = random.Random(42)
cold = set(rng.sample(items, len(items) // 10))
warm = sorted(p for p in pairs if p[1] not in cold)
coldp = sorted(p for p in pairs if p[1] in cold)
rng.shuffle(coldp)
half = len(coldp) // 2
cold_train, cold_test = coldp[:half], coldp[half:]
warm_users = {u for u, _ in warm}
cold_test = [p for p in cold_test if p[0] in warm_users]

def write(name, rows):
    with open(f"{out}/{name}", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "stock_code"])
        w.writerows(rows)

write("warm.csv", warm)
write("full_train.csv", warm + cold_train)
write("cold_test.csv", cold_test)
with open(f"{out}/cold_items.txt", "w") as f:
    f.write("".join(i + "\n" for i in sorted(cold)))
with open(f"{out}/products.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["StockCode", "Description"])
    for i in items:
        w.writerow([i, desc.get(i, "")])

# Baselines on cold_test, candidates = the new items.
seen = defaultdict(set)
for u, i in cold_train:
    seen[u].add(i)
test = defaultdict(set)
for u, i in cold_test:
    test[u].add(i)
pop = defaultdict(int)
for _, i in cold_train:
    pop[i] += 1
cands = sorted(cold, key=lambda i: (-pop[i], i))

def metrics(rank_for):
    s = {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "hit_rate": 0.0}
    for u, t in test.items():
        top = rank_for(u)[:k]
        hits = [1 if i in t else 0 for i in top]
        dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(len(t), k)))
        s["precision"] += sum(hits) / k
        s["recall"] += sum(hits) / len(t)
        s["ndcg"] += dcg / idcg
        s["hit_rate"] += 1 if sum(hits) else 0
    return {key: v / len(test) for key, v in s.items()} | {"users": len(test)}

popm = metrics(lambda u: [i for i in cands if i not in seen[u]])
rr = random.Random(7)
def rand_rank(u):
    c = [i for i in cands if i not in seen[u]]
    rr.shuffle(c)
    return c
randm = metrics(rand_rank)
print(json.dumps({"pairs": len(pairs), "items": len(items), "cold_items": len(cold),
                  "warm_pairs": len(warm), "cold_train_pairs": len(cold_train),
                  "cold_test_pairs": len(cold_test), "popularity": popm, "random": randm}))
