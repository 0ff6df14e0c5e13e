#!/usr/bin/env python3
"""Campaign simulator with a planted, known uplift (python3 standard library only).

merx's measurement, uplift and bandit checks need campaigns whose true effect
is known. This script builds one over real customers:

  customers  Online Retail purchases (CSV or .csv.gz with InvoiceNo, Quantity,
             InvoiceDate, UnitPrice, CustomerID) -> one row per customer:
             user,segment,recency_days,frequency,monetary
  truth      write the default truth (per-segment base conversion, per-arm
             per-segment uplift, spend per order) as JSON, to edit
  assign     random arms by shares (for simulations that do not use
             merx.experiment): user,arm,segment
  outcomes   draw outcomes for an assignment (or a decision list: any CSV with
             a user column and an arm/offer column) under a truth, seeded
  effect     the planted effect: per arm and segment and over the whole
             population given, for conversion and spend (what an unbiased
             estimate of `arm - control` should cover)

The model. Each customer has a base conversion probability
    p0 = clamp(base[segment] * f, 0.001, 0.95),  f = 0.5 + rank(monetary)
where rank(monetary) in [0, 1] is the customer's monetary percentile within
their segment (so pre-period spend predicts the outcome: CUPED has something to
work with, and uplift models have a feature). Under arm a,
    p = p0 + uplift[a][segment]          (arms missing from `uplift`: + 0)
and a p outside [0, 1] is an error (fix the truth). A converter spends
    amount ~ LogNormal(spend_mu[segment], spend_sigma) * spend_multiplier[a]
so the planted effect on conversion in a segment is exactly uplift[a][segment],
and on spend per user it is E[amount] * (p_a - p_0) averaged over the segment's
customers (multiplier 1).  `effect` computes both for a given customer file.

Outcome formats: `table` (user,arm,segment,conversion,spend,pre_spend; one row
per assigned user, like Hillstrom's table) or `events` (user,time,value; one
order row per converter at a seeded time inside --start/--days; non-converters
have no row).

Examples:
  campaign_sim.py customers --retail examples/data/purchases.csv.gz --out customers.csv
  campaign_sim.py truth --out truth.json
  campaign_sim.py assign --customers customers.csv --arms control=0.5,coupon=0.5 --seed 1 --out arms.csv
  campaign_sim.py outcomes --customers customers.csv --assignments arms.csv --truth truth.json --seed 1 --out out.csv
  campaign_sim.py effect --customers customers.csv --truth truth.json --arms coupon --json
"""
import argparse
import csv
import datetime as dt
import gzip
import json
import math
import random
import sys

DEFAULT_TRUTH = {
    "about": "planted effects for scripts/sim/campaign_sim.py; p = base*f + uplift",
    "control": "control",
    "base": {"champions": 0.30, "loyal": 0.15, "regular": 0.06, "new": 0.08, "at_risk": 0.03},
    # champions are sure things (buy anyway; a coupon only gives margin away) and
    # slightly negative; at_risk and regular are the persuadable segments
    "uplift": {
        "coupon": {"champions": -0.01, "loyal": 0.02, "regular": 0.06, "new": 0.04, "at_risk": 0.08},
        "email": {"champions": 0.00, "loyal": 0.01, "regular": 0.02, "new": 0.03, "at_risk": 0.01},
    },
    "spend_mu": {"champions": 4.0, "loyal": 3.6, "regular": 3.3, "new": 3.2, "at_risk": 3.0},
    "spend_sigma": 0.6,
    "spend_multiplier": {},
}


def die(msg):
    print(f"campaign_sim: {msg}", file=sys.stderr)
    sys.exit(1)


def open_text(path):
    if path == "-":
        return sys.stdin
    if path.endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace")
    return open(path, newline="", encoding="utf-8", errors="replace")


def segment_of(recency, frequency):
    if recency <= 30 and frequency >= 5:
        return "champions"
    if recency > 120:
        return "at_risk"
    if frequency >= 3:
        return "loyal"
    if frequency == 1 and recency <= 60:
        return "new"
    return "regular"


def cmd_customers(a):
    last, invoices, money, newest = {}, {}, {}, None
    with open_text(a.retail) as f:
        r = csv.DictReader(f)
        need = {"InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"}
        if not r.fieldnames or not need <= set(r.fieldnames):
            die(f"{a.retail}:1: needs columns {sorted(need)}")
        for line, row in enumerate(r, start=2):
            user = row["CustomerID"].strip()
            if not user or row["InvoiceNo"].startswith("C"):
                continue
            try:
                when = dt.datetime.fromisoformat(row["InvoiceDate"].strip())
                amount = float(row["Quantity"]) * float(row["UnitPrice"])
            except ValueError as e:
                die(f"{a.retail}:{line}: {e}")
            newest = when if newest is None or when > newest else newest
            if user not in last or when > last[user]:
                last[user] = when
            invoices.setdefault(user, set()).add(row["InvoiceNo"])
            money[user] = money.get(user, 0.0) + max(amount, 0.0)
    if newest is None:
        die(f"{a.retail}: no purchases with a customer id")
    ref = newest + dt.timedelta(days=1)
    with open(a.out, "w", newline="") if a.out != "-" else sys.stdout as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["user", "segment", "recency_days", "frequency", "monetary"])
        for user in sorted(last):
            rec = (ref - last[user]).days
            freq = len(invoices[user])
            w.writerow([user, segment_of(rec, freq), rec, freq, f"{money[user]:.2f}"])


def read_customers(path):
    rows = {}
    with open_text(path) as f:
        r = csv.DictReader(f)
        for line, row in enumerate(r, start=2):
            try:
                rows[row["user"]] = (row["segment"], float(row["monetary"]))
            except (KeyError, ValueError) as e:
                die(f"{path}:{line}: {e}")
    # f = 0.5 + percentile of monetary within the segment
    by_seg = {}
    for user, (seg, m) in rows.items():
        by_seg.setdefault(seg, []).append((m, user))
    f = {}
    for seg, lst in by_seg.items():
        lst.sort()
        n = len(lst)
        for i, (_, user) in enumerate(lst):
            f[user] = 0.5 + (i / (n - 1) if n > 1 else 0.5)
    return {u: (seg, m, f[u]) for u, (seg, m) in rows.items()}


def read_truth(path):
    if not path:
        return DEFAULT_TRUTH
    with open(path) as fh:
        try:
            t = json.load(fh)
        except json.JSONDecodeError as e:
            die(f"{path}:{e.lineno}: {e.msg}")
    for key in ("base", "uplift", "spend_mu", "spend_sigma"):
        if key not in t:
            die(f"{path}: missing key '{key}'")
    return t


def probabilities(truth, seg, f, arm):
    if seg not in truth["base"]:
        die(f"truth has no base rate for segment '{seg}'")
    p0 = min(max(truth["base"][seg] * f, 0.001), 0.95)
    p = p0 + truth["uplift"].get(arm, {}).get(seg, 0.0)
    if not 0.0 <= p <= 1.0:
        die(f"arm '{arm}' segment '{seg}': probability {p:.3f} outside [0, 1]; lower its uplift")
    return p0, p


def parse_shares(text):
    arms = []
    for part in text.split(","):
        name, _, share = part.partition("=")
        try:
            arms.append((name.strip(), float(share)))
        except ValueError:
            die(f"--arms: bad share in '{part}'")
    total = sum(s for _, s in arms)
    if abs(total - 1.0) > 1e-9:
        die(f"--arms: shares sum to {total}, not 1")
    return arms


def cmd_assign(a):
    cust = read_customers(a.customers)
    arms = parse_shares(a.arms)
    rng = random.Random(a.seed)
    with open(a.out, "w", newline="") if a.out != "-" else sys.stdout as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["user", "arm", "segment"])
        for user in sorted(cust):
            u, acc, arm = rng.random(), 0.0, arms[-1][0]
            for name, share in arms:
                acc += share
                if u < acc:
                    arm = name
                    break
            w.writerow([user, arm, cust[user][0]])


def cmd_outcomes(a):
    cust = read_customers(a.customers)
    truth = read_truth(a.truth)
    rng = random.Random(a.seed)
    mult = truth.get("spend_multiplier", {})
    start = dt.datetime.fromisoformat(a.start)
    with open_text(a.assignments) as f, \
            (open(a.out, "w", newline="") if a.out != "-" else sys.stdout) as out:
        r = csv.DictReader(f)
        if not r.fieldnames or a.user_column not in r.fieldnames or a.arm_column not in r.fieldnames:
            die(f"{a.assignments}:1: needs columns '{a.user_column}' and '{a.arm_column}'")
        w = csv.writer(out, lineterminator="\n")
        if a.format == "table":
            w.writerow(["user", "arm", "segment", "conversion", "spend", "pre_spend"])
        else:
            w.writerow(["user", "time", "value"])
        seen = set()
        for line, row in enumerate(r, start=2):
            user, arm = row[a.user_column], row[a.arm_column]
            if user not in cust:
                die(f"{a.assignments}:{line}: user '{user}' is not in {a.customers}")
            if user in seen:
                die(f"{a.assignments}:{line}: user '{user}' appears twice")
            seen.add(user)
            seg, monetary, fu = cust[user]
            _, p = probabilities(truth, seg, fu, arm)
            converted = rng.random() < p
            spend = 0.0
            if converted:
                spend = math.exp(rng.gauss(truth["spend_mu"][seg], truth["spend_sigma"]))
                spend *= mult.get(arm, 1.0)
            if a.format == "table":
                w.writerow([user, arm, seg, int(converted), f"{spend:.4f}", f"{monetary:.2f}"])
            elif converted:
                when = start + dt.timedelta(seconds=rng.randrange(a.days * 86400))
                w.writerow([user, when.strftime("%Y-%m-%d %H:%M:%S"), f"{spend:.4f}"])


def cmd_effect(a):
    cust = read_customers(a.customers)
    truth = read_truth(a.truth)
    control = truth.get("control", "control")
    mu, sigma = truth["spend_mu"], truth["spend_sigma"]
    result = {}
    for arm in a.arms.split(","):
        m = truth.get("spend_multiplier", {}).get(arm, 1.0)
        m0 = truth.get("spend_multiplier", {}).get(control, 1.0)
        per_seg, n_all = {}, 0
        conv_all = spend_all = 0.0
        for user, (seg, _, fu) in cust.items():
            p0, p = probabilities(truth, seg, fu, arm)
            e_amount = math.exp(mu[seg] + sigma * sigma / 2)
            d_conv, d_spend = p - p0, e_amount * (p * m - p0 * m0)
            s = per_seg.setdefault(seg, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += d_conv
            s[2] += d_spend
            n_all += 1
            conv_all += d_conv
            spend_all += d_spend
        result[arm] = {
            "all": {"users": n_all, "conversion": conv_all / n_all, "spend": spend_all / n_all},
            "segments": {seg: {"users": s[0], "conversion": s[1] / s[0], "spend": s[2] / s[0]}
                         for seg, s in sorted(per_seg.items())},
        }
    if a.json:
        print(json.dumps(result, indent=1, sort_keys=True))
    else:
        for arm, r in result.items():
            print(f"{arm}\tall\t{r['all']['users']}\t{r['all']['conversion']:.6f}\t{r['all']['spend']:.6f}")
            for seg, s in r["segments"].items():
                print(f"{arm}\t{seg}\t{s['users']}\t{s['conversion']:.6f}\t{s['spend']:.6f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("customers", help="customers and RFM segments from Online Retail purchases")
    c.add_argument("--retail", required=True)
    c.add_argument("--out", default="-")
    t = sub.add_parser("truth", help="write the default truth JSON")
    t.add_argument("--out", default="-")
    s = sub.add_parser("assign", help="random arms by shares")
    s.add_argument("--customers", required=True)
    s.add_argument("--arms", required=True, help="NAME=SHARE,... summing to 1")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--out", default="-")
    o = sub.add_parser("outcomes", help="draw outcomes for an assignment or decision list")
    o.add_argument("--customers", required=True)
    o.add_argument("--assignments", required=True, help="CSV with a user and an arm column")
    o.add_argument("--user-column", default="user")
    o.add_argument("--arm-column", default="arm", help="e.g. offer, for a decision list")
    o.add_argument("--truth", help="truth JSON (default: the built-in one, see `truth`)")
    o.add_argument("--seed", type=int, default=1)
    o.add_argument("--format", choices=["table", "events"], default="table")
    o.add_argument("--start", default="2011-12-10", help="events: first day of the window")
    o.add_argument("--days", type=int, default=14, help="events: length of the window")
    o.add_argument("--out", default="-")
    e = sub.add_parser("effect", help="the planted effect of arms vs control")
    e.add_argument("--customers", required=True)
    e.add_argument("--truth")
    e.add_argument("--arms", required=True, help="ARM,... (compared with the truth's control)")
    e.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.cmd == "truth":
        text = json.dumps(DEFAULT_TRUTH, indent=1) + "\n"
        if a.out == "-":
            sys.stdout.write(text)
        else:
            with open(a.out, "w") as fh:
                fh.write(text)
        return
    {"customers": cmd_customers, "assign": cmd_assign, "outcomes": cmd_outcomes,
     "effect": cmd_effect}[a.cmd](a)


if __name__ == "__main__":
    main()
