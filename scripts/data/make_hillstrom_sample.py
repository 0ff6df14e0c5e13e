#!/usr/bin/env python3
"""Draw the Hillstrom sample committed as examples/data/hillstrom_sample.csv.gz:
4,000 of the 64,000 customers at random (seed 20261203), every column unchanged,
in the original order. Usage: make_hillstrom_sample.py HILLSTROM.csv.gz OUT.csv.gz"""
import gzip
import random
import sys

src, out = sys.argv[1], sys.argv[2]
with gzip.open(src, "rt", newline="") as f:
    lines = f.readlines()
header, rows = lines[0], lines[1:]
keep = sorted(random.Random(20261203).sample(range(len(rows)), 4000))
with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as g:
    g.write(header.encode())
    for i in keep:
        g.write(rows[i].encode())
