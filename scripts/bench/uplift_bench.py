#!/usr/bin/env python3
"""Helpers of scripts/bench/uplift.sh (python3 standard library, plus
scikit-learn and numpy for the `sklearn` baseline only).

  split    --data H.csv.gz --arms A,B --seed S --test-share 0.3 --out-dir DIR
           rows of arms A and B, 70/30 per arm (a seeded shuffle of each
           arm's rows): DIR/train.csv, DIR/test.csv
  sklearn  --train F --test F --treatment COL --treated ARM --control ARM --outcome COL
           --numeric a,b --categorical c,d --out F
           scikit-learn two-model logistic baseline (C = 1: the same L2
           objective as merx's reg = 1; numeric features standardised on the
           training rows, categoricals one-hot with every level): the test
           file with a column sk_uplift = p_treated - p_control
  join     --customers C --outcomes O --out F      campaign rows with features
  candidates --scores S --value COL --out F        user,offer,value,cost (COUPON, cost 1)
  incremental --plan P --customers C --truth T --arm A
           planted incremental conversions of a plan: sum over its users of
           truth.uplift[A][segment]; JSON with spend and per-budget figures
"""
import argparse
import csv
import gzip
import json
import random
import sys


def opener(path):
    return gzip.open(path, "rt", newline="") if path.endswith(".gz") else open(path, newline="")


def cmd_split(a):
    arms = a.arms.split(",")
    with opener(a.data) as f:
        r = csv.reader(f)
        header = next(r)
        rows = [row for row in r]
    seg = header.index(a.arm_column)
    rng = random.Random(a.seed)
    train, test = [], []
    for arm in arms:
        idx = [i for i, row in enumerate(rows) if row[seg] == arm]
        rng.shuffle(idx)
        k = round(a.test_share * len(idx))
        test += idx[:k]
        train += idx[k:]
    for name, idx in (("train", sorted(train)), ("test", sorted(test))):
        with open(f"{a.out_dir}/{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for i in idx:
                w.writerow(rows[i])
    print(json.dumps({"train": len(train), "test": len(test), "seed": a.seed}))


def cmd_sklearn(a):
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def load(path):
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    tr, te = load(a.train), load(a.test)
    num = [c for c in a.numeric.split(",") if c]
    cat = [c for c in a.categorical.split(",") if c]
    scaler = StandardScaler().fit([[float(r[c]) for c in num] for r in tr])
    enc = OneHotEncoder(handle_unknown="ignore").fit([[r[c] for c in cat] for r in tr])

    def design(rows):
        x = scaler.transform([[float(r[c]) for c in num] for r in rows])
        return np.hstack([x, enc.transform([[r[c] for c in cat] for r in rows]).toarray()])

    X, Xt = design(tr), design(te)
    y = np.array([float(r[a.outcome]) for r in tr])
    arm = np.array([r[a.treatment] for r in tr])
    p = {}
    for name in (a.treated, a.control):
        m = LogisticRegression(C=1.0, max_iter=5000, tol=1e-10).fit(X[arm == name], y[arm == name])
        p[name] = m.predict_proba(Xt)[:, 1]
    up = p[a.treated] - p[a.control]
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(te[0].keys()) + ["sk_uplift"])
        for r, u in zip(te, up):
            w.writerow(list(r.values()) + [f"{u:.12g}"])


def cmd_join(a):
    with open(a.customers, newline="") as f:
        cust = {r["user"]: r for r in csv.DictReader(f)}
    with open(a.outcomes, newline="") as f:
        out = list(csv.DictReader(f))
    cols = ["user", "arm", "segment", "recency_days", "frequency", "monetary", "conversion"]
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in out:
            c = cust[r["user"]]
            w.writerow([r["user"], r["arm"], c["segment"], c["recency_days"], c["frequency"],
                        c["monetary"], r["conversion"]])


def cmd_candidates(a):
    with open(a.scores, newline="") as f, open(a.out, "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["user", "offer", "value", "cost"])
        for r in csv.DictReader(f):
            w.writerow([r["user"], "COUPON", r[a.value], 1])


def cmd_incremental(a):
    truth = json.load(open(a.truth))
    lift = truth["uplift"][a.arm]
    with open(a.customers, newline="") as f:
        seg = {r["user"]: r["segment"] for r in csv.DictReader(f)}
    with open(a.plan, newline="") as f:
        plan = list(csv.DictReader(f))
    inc = sum(lift.get(seg[r["user"]], 0.0) for r in plan)
    spend = sum(float(r["cost"]) for r in plan)
    by = {}
    for r in plan:
        by[seg[r["user"]]] = by.get(seg[r["user"]], 0) + 1
    print(json.dumps({"targeted": len(plan), "spend": spend, "incremental": inc,
                      "per_budget": inc / spend if spend else 0.0, "by_segment": by}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("--data", required=True)
    s.add_argument("--arms", required=True)
    s.add_argument("--arm-column", default="segment")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--test-share", type=float, default=0.3)
    s.add_argument("--out-dir", required=True)
    s = sub.add_parser("sklearn")
    for k in ("train", "test", "treatment", "treated", "control", "outcome", "out"):
        s.add_argument("--" + k, required=True)
    s.add_argument("--numeric", default="")
    s.add_argument("--categorical", default="")
    s = sub.add_parser("join")
    for k in ("customers", "outcomes", "out"):
        s.add_argument("--" + k, required=True)
    s = sub.add_parser("candidates")
    for k in ("scores", "value", "out"):
        s.add_argument("--" + k, required=True)
    s = sub.add_parser("incremental")
    for k in ("plan", "customers", "truth", "arm"):
        s.add_argument("--" + k, required=True)
    a = p.parse_args()
    {"split": cmd_split, "sklearn": cmd_sklearn, "join": cmd_join, "candidates": cmd_candidates,
     "incremental": cmd_incremental}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
