#!/usr/bin/env bash
# Forecast reconciliation benchmark (issue #22).
#   scripts/bench/forecast_recon.sh
# Data: examples/data/retail_top100_weekly.csv (Online Retail top-100 products,
# weekly). Hierarchy: product -> first character of its StockCode (the UCI
# file's code families: 1..9 numeric lines, letters for special items) ->
# Total; aggregate series built by merx. Rolling origin: ORIGINS origins
# H weeks apart, each forecasting H weeks from the history before it
# (auto). WAPE (pooled) and MASE (non-seasonal naive scale, averaged over
# series-origins) per level for base, bottom-up, OLS and MinT-shrink.
# Environment: MERX (default build/merx), H (4), ORIGINS (4).
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
MERX="${MERX:-$ROOT/build/merx}"
H="${H:-4}"
ORIGINS="${ORIGINS:-4}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-recon-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "blas: $("$MERX" version --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j.get("blas_core"), "|", j.get("openblas"))')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$MERX" "$ROOT/examples/data/retail_top100_weekly.csv" "$TMP" "$H" "$ORIGINS" <<'PY'
import csv, subprocess, sys, collections
merx, data, tmp, H, K = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
series = {}
for row in csv.reader(open(data)):
    v = [float(x) for x in row[1:] if x != ""]
    series[row[0]] = v
parent = {i: "G" + i[0] for i in series}
groups = sorted(set(parent.values()))
with open(tmp + "/hier.csv", "w") as f:
    f.write("id,parent\nTotal,\n")
    for g in groups: f.write("%s,Total\n" % g)
    for i, p in parent.items(): f.write("%s,%s\n" % (i, p))
def level(i): return "total" if i == "Total" else ("group" if i in groups else "product")
def full(i):
    if i in series: return series[i]
    kids = [s for s, p in parent.items() if p == i or i == "Total"]
    n = max(len(series[k]) for k in kids); out = [0.0] * n
    for k in kids:
        v = series[k]; off = n - len(v)
        for t, x in enumerate(v): out[off + t] += x
    return out
nodes = ["Total"] + groups + list(series)
acc = {m: collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0]) for m in ("none", "bottom-up", "ols", "mint-shrink")}
for k in range(K):
    cut = (K - k) * H  # periods held out at the end
    with open(tmp + "/train.csv", "w") as f:
        for i, v in series.items():
            if len(v) - cut >= 12: f.write(i + "," + ",".join("%g" % x for x in v[:len(v) - cut]) + "\n")
    keep = set(l.split(",")[0] for l in open(tmp + "/train.csv"))
    with open(tmp + "/hier_k.csv", "w") as f:
        f.write("id,parent\nTotal,\n")
        gs = sorted(set(parent[i] for i in keep))
        for g in gs: f.write("%s,Total\n" % g)
        for i in keep: f.write("%s,%s\n" % (i, parent[i]))
    for m in acc:
        subprocess.run([merx, "forecast", "--data", tmp + "/train.csv", "--format", "wide",
                        "--horizon", str(H), "--hierarchy", tmp + "/hier_k.csv", "--reconcile", m,
                        "--out", tmp + "/fc.csv", "--levels", "none"], check=True,
                       stderr=subprocess.DEVNULL)
        fc = collections.defaultdict(list)
        for r in csv.DictReader(open(tmp + "/fc.csv")): fc[r["id"]].append(float(r["forecast"]))
        for i, f in fc.items():
            if i in series: y = series[i]
            else:
                kids = [s for s in keep if parent[s] == i or i == "Total"]
                n = max(len(series[s]) for s in kids); y = [0.0] * n
                for s in kids:
                    v = series[s]; off = n - len(v)
                    for t, x in enumerate(v): y[off + t] += x
            n = len(y) - cut; act = y[n:n + H]; hist = y[:n]
            e = sum(abs(a - b) for a, b in zip(act, f))
            scale = sum(abs(hist[t] - hist[t - 1]) for t in range(1, n)) / max(n - 1, 1)
            a = acc[m][level(i)]
            a[0] += e; a[1] += sum(abs(x) for x in act)
            if scale > 0: a[2] += e / H / scale; a[3] += 1
print("| level | " + " | ".join("%s WAPE | %s MASE" % (m, m) for m in acc) + " |")
print("|---" * (1 + 2 * len(acc)) + "|")
for lv in ("total", "group", "product"):
    cells = []
    for m in acc:
        a = acc[m][lv]
        cells.append("%.3f | %.3f" % (a[0] / a[1] if a[1] else float("nan"), a[2] / a[3] if a[3] else float("nan")))
    print("| %s | %s |" % (lv, " | ".join(cells)))
PY
