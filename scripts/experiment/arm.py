#!/usr/bin/env python3
"""Reference for merx experiment arms (docs/lua.md "Experiment arms"): standard
XXH64 in pure Python (stdlib only), and the arm rule. Use it as a Spark UDF,
in a notebook, or to check merx:

    python3 arm.py SALT control=0.1 coupon=0.9 -- USER [USER ...]
    python3 arm.py --stratified SALT control=0.5 coupon=0.5 -- STRATUM:USER ...
"""
import sys

M = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P4, P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def _round(acc, lane):
    return _rotl((acc + lane * P2) & M, 31) * P1 & M


def xxh64(data: bytes, seed: int = 0) -> int:
    n, p = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while p + 32 <= n:
            for i in range(4):
                v[i] = _round(v[i], int.from_bytes(data[p + 8 * i:p + 8 * i + 8], "little"))
            p += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M
        for x in v:
            h = ((h ^ _round(0, x)) * P1 + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while p + 8 <= n:
        h ^= _round(0, int.from_bytes(data[p:p + 8], "little"))
        h = (_rotl(h, 27) * P1 + P4) & M
        p += 8
    if p + 4 <= n:
        h ^= int.from_bytes(data[p:p + 4], "little") * P1 & M
        h = (_rotl(h, 23) * P2 + P3) & M
        p += 4
    while p < n:
        h ^= data[p] * P5 & M
        h = _rotl(h, 11) * P1 & M
        p += 1
    h ^= h >> 33
    h = h * P2 & M
    h ^= h >> 29
    h = h * P3 & M
    return h ^ (h >> 32)


def arm(salt, arms, user, stratum=None):
    """arms: [(name, share), ...] in the experiment's order (a Lua map form
    {control = 0.1, coupon = 0.9} is ordered by name, byte order)."""
    key = salt + ":" + (stratum + ":" if stratum is not None else "") + user
    u = (xxh64(key.encode("utf-8")) >> 11) * 2.0 ** -53
    c, last = 0.0, len(arms) - 1
    for i, (name, share) in enumerate(arms):
        c += share
        if u < c:
            return name
        if share > 0:
            last = i
    return arms[last][0]


if __name__ == "__main__":
    args = sys.argv[1:]
    stratified = args[:1] == ["--stratified"]
    if stratified:
        args = args[1:]
    cut = args.index("--")
    salt, arms = args[0], [(a.split("=")[0], float(a.split("=")[1])) for a in args[1:cut]]
    for x in args[cut + 1:]:
        if stratified:
            s, u = x.split(":", 1)
            print(x, arm(salt, arms, u, s))
        else:
            print(x, arm(salt, arms, x))
