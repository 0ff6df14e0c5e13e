#!/usr/bin/env bash
# Fairness audit and parity constraints benchmark (issue #19).
# 1. `merx audit` of a run of DECISIONS (default 1M) decisions in a store, one
#    per user, against an attribute file of the same users (four groups).
# 2. `merx allocate` on USERS (default 200k) x 3 offers with a budget, without
#    and with --parity 0.8 (four groups whose values differ, so parity binds):
#    wall and CPU seconds, objective, gap, value lost.
# Usage: scripts/bench/audit.sh   [env: DECISIONS=1000000 USERS=200000]
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
source "$ROOT/scripts/lib.sh"
DECISIONS="${DECISIONS:-1000000}"
USERS="${USERS:-200000}"
MERX="$ROOT/build/merx"
[ -x "$MERX" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-audit-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "BLAS: $("$MERX" version | grep -m1 openblas | sed "s/^ *//") (audit and allocate do no BLAS work)"

# 1. a store with one run of DECISIONS decisions (rows inserted by SQL after a
#    real run created the ledger), and the attribute file
"$MERX" run -e 'merx.emit("offer", { user = "seed", value = 1, reason = "seed" })' --store st --out o >/dev/null 2>&1
run=$(sqlite3 st/ledger.db "select run_id from commits")
sqlite3 st/ledger.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $DECISIONS)
  INSERT INTO decisions(run_id, script, script_hash, params, time, committed_at, kind, user, record, reason)
  SELECT '$run', 'bench', '', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'offer', 'u' || i,
         json_object('user', 'u' || i, 'offer', 'A', 'value', (i % 97) / 10.0, 'score', (i % 89) / 89.0), ''
  FROM n"
python3 - "$DECISIONS" <<'PY'
import sys
n = int(sys.argv[1])
with open("attr.csv", "w") as f:
    f.write("user,band\n")
    for i in range(1, int(n * 1.25) + 1):  # a quarter of the population is never offered
        f.write(f"u{i},{('18-34', '35-49', '50-64', '65+')[i % 4]}\n")
PY
/usr/bin/time -f "%e %U %S %M" -o t1 "$MERX" audit --store st --run "$run" --attribute attr.csv:band \
  --json > audit.json 2>/dev/null
read -r wall usr sys rss < t1
echo "audit: $DECISIONS decisions, $(($(wc -l < attr.csv) - 1)) attribute rows: ${wall} s wall," \
     "$(python3 -c "print(round($usr + $sys, 2))") s CPU, peak RSS $((rss / 1024)) MB"
python3 -c "
import json; r = json.load(open('audit.json'))
print('  groups:', ', '.join('%s %.3f' % (g['group'], g['share']) for g in r['groups'] if g['share'] is not None))"

# 2. allocation with and without parity
python3 - "$USERS" <<'PY'
import random, sys
random.seed(1)
n = int(sys.argv[1])
with open("cand.csv", "w") as f, open("groups.csv", "w") as g:
    f.write("user,offer,value,cost\n"); g.write("user,band\n")
    for u in range(n):
        band = u % 4
        g.write(f"u{u},b{band}\n")
        for o in range(3):
            f.write(f"u{u},o{o},{random.uniform(0.5, 1.5) * (1 + band / 2):.4f},{1 + o}\n")
PY
cols="--columns user=user,offer=offer,value=value,cost=cost"
for mode in plain parity; do
  extra=""
  [ "$mode" = parity ] && extra="--groups groups.csv:band --parity 0.8"
  /usr/bin/time -f "%e %U %S %M" -o t2 "$MERX" allocate --data cand.csv $cols --budget $((USERS / 2)) \
    --threads 1 --out plan.csv --json $extra > alloc.json 2>/dev/null
  read -r wall usr sys rss < t2
  python3 - "$mode" "$wall" "$usr" "$sys" <<'PY'
import json, sys
r = json.load(open("alloc.json"))
mode, wall, usr, sys_ = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
line = (f"allocate {mode:6s}: {r['users']} users, {r['candidates']} pairs: {wall:.2f} s wall, "
        f"{usr + sys_:.2f} s CPU (solve {r['solve_seconds']:.2f} s, {r['passes']} passes), "
        f"objective {r['objective']:.1f}, gap {100 * r['gap']:.3f}%")
if "parity" in r:
    p = r["parity"]
    rates = [g["rate"] for g in p["groups"]]
    line += (f", value lost {p['value_lost']:.1f} ({100 * p['value_lost'] / p['unconstrained_objective']:.2f}%),"
             f" min/max rate {min(rates) / max(rates):.3f}")
print(line)
PY
done
