#!/usr/bin/env python3
"""Writes examples/data/ratings_sample.csv.gz: a small synthetic explicit-ratings
file (no licence strings attached: generated here) for the accuracy tests of the
rating models (tests/cli/train_ratings.sh).

600 users x 400 items, about 15,000 ratings on a 1..5 integer scale: mean 3.6,
user and item biases, a rank-4 taste model and noise, rounded and clipped like
star ratings; user activity and item popularity skewed. Fixed seed, so
re-running it gives the same bytes.

    python3 scripts/data/make_ratings_sample.py examples/data
"""
import gzip
import math
import random
import sys


def main(outdir):
    g = random.Random(20261204)
    nu, ni, k = 600, 400, 4
    bi = [g.gauss(0, 0.45) for _ in range(ni)]
    Q = [[g.gauss(0, 0.6) for _ in range(k)] for _ in range(ni)]
    rows = []
    for u in range(nu):
        bu = g.gauss(0, 0.35)
        p = [g.gauss(0, 0.6) for _ in range(k)]
        n = max(5, min(150, int(round(math.exp(g.gauss(3.0, 0.6))))))
        seen = set()
        while len(seen) < n:
            i = int(ni * g.random() ** 1.6)
            if i in seen:
                continue
            seen.add(i)
            r = 3.6 + bu + bi[i] + sum(a * b for a, b in zip(p, Q[i])) + g.gauss(0, 0.7)
            rows.append((u, i, min(5, max(1, int(round(r))))))
    path = outdir.rstrip("/") + "/ratings_sample.csv.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(b"user,item,rating\n")
        for u, i, r in rows:
            f.write(b"u%d,i%d,%d\n" % (u, i, r))
    print(f"{path}: {len(rows)} ratings")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/data")
