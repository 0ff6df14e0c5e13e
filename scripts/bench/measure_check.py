#!/usr/bin/python3
"""Independent checks of `merx measure` (scripts/bench/measure.sh).

hillstrom MERX CSV.gz   the full Hillstrom table: arm means (exactly: the
                        exactly rounded sum / n, math.fsum) and every uplift
                        interval, p-value, relative uplift, the SRM p-value and
                        the CUPED interval (covariate: history) against numpy/scipy
coverage MERX SIM RETAIL SEEDS
                        planted uplift from scripts/sim/campaign_sim.py over the
                        Online Retail customers: SEEDS campaigns, the share of
                        per-segment 95% intervals that cover the planted effect
synth OUT USERS ROWS    write synthetic assignments (USERS) and event rows (ROWS)
"""
import csv
import gzip
import importlib.util
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from argparse import Namespace


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def hillstrom(merx, path):
    import numpy as np
    from scipy import stats
    metrics = ["visit", "conversion", "spend"]
    control = "No E-Mail"
    cmd = [merx, "measure", "--outcomes", path, "--columns", "arm=segment", "--control", control,
           "--covariate", "history", "--json"]
    for m in metrics:
        cmd += ["--metric", m]
    t0 = time.time()
    r = run_json(cmd)
    secs = time.time() - t0
    data = {}
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            d = data.setdefault(row["segment"], {m: [] for m in metrics + ["history"]})
            for m in metrics + ["history"]:
                d[m].append(float(row[m]))
    arrays = {a: {m: np.array(v) for m, v in d.items()} for a, d in data.items()}
    worst = {"mean_exact_mismatches": 0, "mean_vs_numpy": 0.0, "interval": 0.0, "p_value": 0.0,
             "rel": 0.0, "cuped": 0.0}
    print(f"{'arm':15} {'users':>6} " + " ".join(f"{m:>12}" for m in metrics))
    for a in r["arms"]:
        d = data[a["arm"]]
        assert a["users"] == len(d["visit"]), a
        for m in metrics:
            exact = math.fsum(d[m]) / len(d[m])
            if a["means"][m] != exact:
                worst["mean_exact_mismatches"] += 1
            worst["mean_vs_numpy"] = max(worst["mean_vs_numpy"],
                                         abs(a["means"][m] - float(np.mean(arrays[a["arm"]][m]))))
        print(f"{a['arm']:15} {a['users']:6d} " + " ".join(f"{a['means'][m]:12.6f}" for m in metrics))
    z = stats.norm.ppf(0.975)

    def wilson(x, n):
        p = x / n
        c, h, d = 2 * n * p + z * z, z * math.sqrt(z * z + 4 * n * p * (1 - p)), 2 * (n + z * z)
        return (c - h) / d, (c + h) / d

    print(f"\n{'arm':15} {'metric':11} {'diff':>10} {'lo95':>10} {'hi95':>10} {'p':>9}  method")
    for u in r["uplift"]:
        y1, y0 = arrays[u["arm"]][u["metric"]], arrays[control][u["metric"]]
        n1, n0 = len(y1), len(y0)
        diff = y1.mean() - y0.mean()
        if u["method"] == "newcombe":
            x1, x0 = y1.sum(), y0.sum()
            p1, p0 = x1 / n1, x0 / n0
            l1, h1 = wilson(x1, n1)
            l0, h0 = wilson(x0, n0)
            lo = diff - math.sqrt((p1 - l1) ** 2 + (h0 - p0) ** 2)
            hi = diff + math.sqrt((h1 - p1) ** 2 + (p0 - l0) ** 2)
            pp = (x1 + x0) / (n1 + n0)
            pv = 2 * stats.norm.sf(abs(diff) / math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0)))
        else:
            t = stats.ttest_ind(y1, y0, equal_var=False)
            v1, v0 = y1.var(ddof=1) / n1, y0.var(ddof=1) / n0
            df = (v1 + v0) ** 2 / (v1 ** 2 / (n1 - 1) + v0 ** 2 / (n0 - 1))
            q = stats.t.ppf(0.975, df) * math.sqrt(v1 + v0)
            lo, hi, pv = diff - q, diff + q, t.pvalue
        worst["interval"] = max(worst["interval"], abs(u["diff"] - diff), abs(u["lo95"] - lo),
                                abs(u["hi95"] - hi))
        worst["p_value"] = max(worst["p_value"], abs(u["p_value"] - pv))
        # relative uplift, delta method
        m1, m0 = y1.mean(), y0.mean()
        se = math.sqrt(y1.var(ddof=1) / (n1 * m0 ** 2) + m1 ** 2 * y0.var(ddof=1) / (n0 * m0 ** 4))
        worst["rel"] = max(worst["rel"], abs(u["rel"] - (m1 / m0 - 1)),
                           abs(u["rel_lo95"] - (m1 / m0 - 1 - z * se)))
        # CUPED: theta pooled within the two arms, Welch on Y - theta X
        x1, x0 = arrays[u["arm"]]["history"], arrays[control]["history"]
        sxy = ((x1 - x1.mean()) * (y1 - y1.mean())).sum() + ((x0 - x0.mean()) * (y0 - y0.mean())).sum()
        sxx = ((x1 - x1.mean()) ** 2).sum() + ((x0 - x0.mean()) ** 2).sum()
        th = sxy / sxx
        a1, a0 = y1 - th * x1, y0 - th * x0
        v1, v0 = a1.var(ddof=1) / n1, a0.var(ddof=1) / n0
        df = (v1 + v0) ** 2 / (v1 ** 2 / (n1 - 1) + v0 ** 2 / (n0 - 1))
        cd = a1.mean() - a0.mean()
        q = stats.t.ppf(0.975, df) * math.sqrt(v1 + v0)
        c = u["cuped"]
        worst["cuped"] = max(worst["cuped"], abs(c["diff"] - cd), abs(c["lo95"] - (cd - q)),
                             abs(c["hi95"] - (cd + q)))
        print(f"{u['arm']:15} {u['metric']:11} {u['diff']:10.6f} {u['lo95']:10.6f} {u['hi95']:10.6f} "
              f"{u['p_value']:9.3g}  {u['method']}  (CUPED variance -{100 * c['variance_reduction']:.2f}%)")
    srm = stats.chisquare([a["users"] for a in r["arms"]]).pvalue
    worst["srm"] = abs(r["srm_p_value"] - srm)
    print(f"\nSRM p-value {r['srm_p_value']:.6f} (scipy {srm:.6f}); merx measure {secs:.2f} s wall")
    print("largest differences to numpy/scipy: " + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()))
    ok = (worst["mean_exact_mismatches"] == 0 and worst["interval"] < 1e-6 and worst["cuped"] < 1e-6
          and worst["p_value"] < 1e-6 and worst["rel"] < 1e-6 and worst["srm"] < 1e-9)
    print("hillstrom:", "PASS (means exact, intervals within 1e-6)" if ok else "FAIL")
    return ok


def load_sim(path):
    spec = importlib.util.spec_from_file_location("campaign_sim", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def coverage(merx, sim_path, retail, seeds):
    sim = load_sim(sim_path)
    tmp = tempfile.mkdtemp(prefix="merx-bench-measure-")
    cust = os.path.join(tmp, "customers.csv")
    sim.cmd_customers(Namespace(retail=retail, out=cust))
    truth = sim.read_truth(None)
    customers = sim.read_customers(cust)
    # the planted effect per segment (campaign_sim.py effect --json, in-process)
    eff_path = os.path.join(tmp, "effect.json")
    with open(eff_path, "w") as fh:
        old, sys.stdout = sys.stdout, fh
        try:
            sim.cmd_effect(Namespace(customers=cust, truth=None, arms="coupon", json=True))
        finally:
            sys.stdout = old
    effect = json.load(open(eff_path))["coupon"]
    segs = sorted(effect["segments"])
    counts = {}  # (mode, metric) -> [covered, total]
    widths = {}
    t_merx = 0.0
    for seed in range(1, seeds + 1):
        arms = os.path.join(tmp, "arms.csv")
        sim.cmd_assign(Namespace(customers=cust, arms="control=0.5,coupon=0.5", seed=seed, out=arms))
        table = os.path.join(tmp, "table.csv")
        events = os.path.join(tmp, "events.csv")
        base = dict(customers=cust, assignments=arms, user_column="user", arm_column="arm",
                    truth=None, seed=1000 + seed, start="2011-06-01", days=14)
        sim.cmd_outcomes(Namespace(format="table", out=table, **base))
        sim.cmd_outcomes(Namespace(format="events", out=events, **base))
        runs = {
            "table": [merx, "measure", "--outcomes", table, "--columns", "arm=arm,user=user",
                      "--segment", "segment", "--metric", "conversion", "--metric", "spend",
                      "--covariate", "pre_spend", "--control", "control", "--json"],
            "events": [merx, "measure", "--outcomes", events, "--columns",
                       "user=user,time=time,value=value", "--assignments", arms, "--segment",
                       "segment", "--metric", "conversion", "--metric", "revenue", "--control",
                       "control", "--window", "2011-06-01..2011-06-14", "--json"],
        }
        for mode, cmd in runs.items():
            t0 = time.time()
            r = run_json(cmd)
            t_merx += time.time() - t0
            for s in r["segments"]:
                for u in s["uplift"]:
                    metric = "spend" if u["metric"] in ("spend", "revenue") else "conversion"
                    truth_v = effect["segments"][s["segment"]][metric]
                    variants = [("", u)] + ([("+cuped", u["cuped"])] if "cuped" in u else [])
                    for tag, iv in variants:
                        key = (mode + tag, metric)
                        c = counts.setdefault(key, [0, 0])
                        c[1] += 1
                        if iv["lo95"] is not None and iv["lo95"] <= truth_v <= iv["hi95"]:
                            c[0] += 1
                        widths.setdefault(key, []).append(iv["hi95"] - iv["lo95"])
    print(f"{len(customers)} customers, {len(segs)} segments ({', '.join(segs)}), {seeds} seeds, "
          f"merx measure {t_merx / (2 * seeds):.3f} s wall per call")
    print(f"{'outcomes':16} {'metric':11} {'covered':>8} {'of':>6} {'rate':>7} {'mean width':>11}")
    ok = True
    by_mode = {}
    for (mode, metric), (cov, n) in sorted(counts.items()):
        w = sum(widths[(mode, metric)]) / len(widths[(mode, metric)])
        print(f"{mode:16} {metric:11} {cov:8d} {n:6d} {cov / n:7.3f} {w:11.4f}")
        m = by_mode.setdefault(mode, [0, 0])
        m[0] += cov
        m[1] += n
    for mode, (cov, n) in sorted(by_mode.items()):
        rate = cov / n
        good = 0.93 <= rate <= 0.97
        ok = ok and good
        print(f"{mode}: {cov}/{n} intervals cover the planted uplift = {rate:.4f} ->",
              "PASS (93-97%)" if good else "FAIL")
    return ok


def synth(out, users, rows):
    rng = random.Random(7)
    arms = ["control", "coupon", "sms"]
    segs = ["new", "regular", "vip", "at_risk"]
    with open(os.path.join(out, "units.csv"), "w") as f:
        f.write("user,arm,segment\n")
        f.writelines(f"u{i},{arms[i % 3]},{segs[(i * 7) % 4]}\n" for i in range(users))
    with open(os.path.join(out, "events.csv"), "w") as f:
        f.write("user,time,value\n")
        day0 = 1717200000  # 2024-06-01
        chunk = []
        for i in range(rows):
            u = rng.randrange(users)
            chunk.append(f"u{u},{day0 + rng.randrange(30 * 86400)},{rng.randrange(100, 20000) / 100}\n")
            if len(chunk) == 100000:
                f.writelines(chunk)
                chunk = []
        f.writelines(chunk)


def main():
    cmd = sys.argv[1]
    if cmd == "hillstrom":
        sys.exit(0 if hillstrom(sys.argv[2], sys.argv[3]) else 1)
    if cmd == "coverage":
        sys.exit(0 if coverage(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])) else 1)
    if cmd == "synth":
        synth(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
