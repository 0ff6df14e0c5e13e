"""Helpers of scripts/bench/carparts.sh: split the car-parts data and report
MASE and the replayed inventory outcome of one forecasting method."""
import csv
import json
import math
import sys

TEST = 6


def split(data, out, lead_time):
    rows = list(csv.reader(open(data)))
    train, test, stock, skipped = [], [], [], 0
    for r in rows[1:]:
        vals = [float(v) for v in r[1:] if v != ""]
        if len(vals) < TEST + 2:
            skipped += 1
            continue
        train.append([r[0]] + [f"{v:g}" for v in vals[:-TEST]])
        test.append([r[0]] + [f"{v:g}" for v in vals[-TEST:]])
        stock.append([r[0], "0", "0", lead_time, "", "1"])
    csv.writer(open(f"{out}/train.csv", "w", newline="")).writerows(train)
    csv.writer(open(f"{out}/test.csv", "w", newline="")).writerows(test)
    w = csv.writer(open(f"{out}/stock.csv", "w", newline=""))
    w.writerow(["id", "on_hand", "on_order", "lead_time", "moq", "pack_size"])
    w.writerows(stock)
    print(f"series: {len(train)} evaluated, {skipped} too short (< {TEST + 2} observed months)",
          file=sys.stderr)


def report(tmp, method, t0, t1, dist):
    seconds = float(t1) - float(t0)
    train = {r[0]: [float(v) for v in r[1:]] for r in csv.reader(open(f"{tmp}/train.csv"))}
    test = {r[0]: [float(v) for v in r[1:]] for r in csv.reader(open(f"{tmp}/test.csv"))}
    fc = {}
    for r in csv.DictReader(open(f"{tmp}/fc_{method}.csv")):
        fc.setdefault(r["id"], {})[int(r["h"])] = float(r["forecast"])
    mases, undefined = [], 0
    for sid, y in test.items():
        x = train[sid]
        scale = sum(abs(x[t] - x[t - 1]) for t in range(1, len(x))) / (len(x) - 1)
        if scale == 0:
            undefined += 1
            continue
        f = [fc[sid][h] for h in range(1, TEST + 1)]
        mases.append(sum(abs(a - b) for a, b in zip(y, f)) / TEST / scale)
    ev = json.load(open(f"{tmp}/plan_{method}.json"))["evaluation"]
    print(f"{method:<8} {dist:<7} {sum(mases) / len(mases):8.4f} {ev['fill_rate']:10.4f} "
          f"{ev['cycle_service']:12.4f} {ev['avg_on_hand']:12.4f} {ev['stockout_periods']:10d} "
          f"{seconds:8.2f}")
    if undefined:
        print(f"         ({undefined} series with a constant training part left out of MASE)",
              file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "split":
        split(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        report(*sys.argv[2:7])
