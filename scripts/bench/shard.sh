#!/usr/bin/env bash
# Sharded decisions under global limits (issue 15.2): N shards (default 4)
# together must stay within every global limit and reach >= 99% of the
# unsharded plan's value.
#
# 1. examples/spring_campaign.lua (budget 400, stock caps, segment caps) on
#    examples/data, one model trained once with `merx train` (shards that
#    trained their own would score users differently): unsharded; N shards
#    with even quotas (no prices); `--solve duals.txt --shards N` then N
#    shards with `--duals duals.txt`.
# 2. `merx allocate --synthetic USERS:10:3` (default 1,000,000 users):
#    unsharded with `--save-duals --shards N`, then N shards with --duals,
#    with the saved quotas and with even quotas (the quota lines removed).
#
# Prints the CPU, the OpenBLAS core, the load, each plan's value, spend and
# the ratio to the unsharded plan. Usage: scripts/bench/shard.sh
# [env: SHARDS=4 USERS=1000000 THREADS=2]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/scripts/lib.sh"
SHARDS="${SHARDS:-4}"
USERS="${USERS:-1000000}"
THREADS="${THREADS:-2}"
MERX="$ROOT/build/merx"
[ -x "$MERX" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-shard-XXXXXX")"
trap 'rm -rf "$work"' EXIT
last=$((SHARDS - 1))

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "blas: $("$MERX" version | sed -n 's/^  openblas *//p')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD) $(date -u +%Y-%m-%dT%H:%MZ)"

# ---------------------------------------------------------------- campaign
cp -r "$ROOT/examples" "$work/ex"
"$MERX" train --data "$work/ex/data/purchases.csv.gz" --columns user=CustomerID,item=StockCode \
  --algo ials --threads "$THREADS" --out "$work/ex/shop.mxm" >/dev/null 2>&1
run() { "$MERX" run "$work/ex/spring_campaign.lua" --now 2011-12-10 --set model="$work/ex/shop.mxm" "$@" \
          >/dev/null 2>>"$work/stderr.txt"; }
t0=$(date +%s.%N); run --out "$work/full"; t1=$(date +%s.%N)
for i in $(seq 0 $last); do run --shard "$i/$SHARDS" --out "$work/even$i"; done
t2=$(date +%s.%N); run --solve "$work/duals.txt" --shards "$SHARDS" --out "$work/solve"; t3=$(date +%s.%N)
for i in $(seq 0 $last); do run --shard "$i/$SHARDS" --duals "$work/duals.txt" --out "$work/priced$i"; done
t4=$(date +%s.%N)
echo "== examples/spring_campaign.lua, $SHARDS shards (budget 400; SPRING10 stock 70, FREESHIP 250; 6 segment caps)"
python3 - "$work" "$SHARDS" "$t0" "$t1" "$t2" "$t3" "$t4" <<'EOF'
import csv, sys
w, n = sys.argv[1], int(sys.argv[2])
t = [float(x) for x in sys.argv[3:]]
def load(dirs):
    rows = []
    for d in dirs:
        rows += list(csv.DictReader(open(f"{w}/{d}/offer.csv")))
    return rows
caps = {"champions": 60, "loyal": 80, "new": 40, "at_risk": 40, "hibernating": 0, "needs_attention": 40}
stock = {"SPRING10": 70, "FREESHIP": 250}
full = load(["full"])
ref = sum(float(r["value"]) for r in full)
print(f"{'plan':<34} {'offers':>6} {'spend':>8} {'value':>9} {'ratio':>7} {'limits':>7} {'wall_s':>7}")
for name, dirs, secs in [("unsharded", ["full"], t[1] - t[0]),
                         ("even quotas (no prices)", [f"even{i}" for i in range(n)], t[2] - t[1]),
                         ("--solve + --duals (quotas)", [f"priced{i}" for i in range(n)], t[4] - t[2])]:
    rows = load(dirs)
    spend = sum(float(r["cost"]) for r in rows)
    value = sum(float(r["value"]) for r in rows)
    seg, off = {}, {}
    for r in rows:
        seg[r["segment"]] = seg.get(r["segment"], 0) + 1
        off[r["offer"]] = off.get(r["offer"], 0) + 1
    ok = spend <= 400 + 1e-9 and all(k <= caps[s] for s, k in seg.items()) and \
         all(k <= stock.get(o, 1e18) for o, k in off.items())
    print(f"{name:<34} {len(rows):>6} {spend:>8.2f} {value:>9.2f} {value / ref:>7.4f} {'ok' if ok else 'OVER':>7} {secs:>7.1f}")
EOF

# --------------------------------------------------------------- synthetic
echo "== merx allocate --synthetic $USERS:10:3, $SHARDS shards, --threads $THREADS"
S="$USERS:10:3"
"$MERX" allocate --synthetic "$S" --threads "$THREADS" --save-duals "$work/syn.txt" --shards "$SHARDS" \
  --json > "$work/syn_full.json"
grep -v -e '^shards ' -e '^quota' -e '^cap_quota' "$work/syn.txt" > "$work/syn_even.txt"
for i in $(seq 0 $last); do
  "$MERX" allocate --synthetic "$S" --threads "$THREADS" --duals "$work/syn.txt" --shard "$i/$SHARDS" \
    --json > "$work/syn_q$i.json"
  "$MERX" allocate --synthetic "$S" --threads "$THREADS" --duals "$work/syn_even.txt" --shard "$i/$SHARDS" \
    --json > "$work/syn_e$i.json"
done
python3 - "$work" "$SHARDS" <<'EOF'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
full = json.load(open(f"{w}/syn_full.json"))
print(f"{'plan':<34} {'objective':>12} {'ratio':>7} {'limits':>7} {'solve_s':>8}")
print(f"{'unsharded (solve)':<34} {full['objective']:>12.1f} {1:>7.4f} {'ok':>7} {full['solve_seconds']:>8.2f}")
for name, tag in [("--duals, saved quotas", "q"), ("--duals, even quotas", "e")]:
    parts = [json.load(open(f"{w}/syn_{tag}{i}.json")) for i in range(n)]
    obj = sum(p["objective"] for p in parts)
    ok = True
    for c in full["constraints"]:
        used = sum(next(x["spend"] for x in p["constraints"] if x["name"] == c["name"]) for p in parts)
        ok = ok and used <= c["limit"] + 1e-6
    print(f"{name:<34} {obj:>12.1f} {obj / full['objective']:>7.4f} {'ok' if ok else 'OVER':>7} "
          f"{max(p['solve_seconds'] for p in parts):>8.2f}")
EOF
