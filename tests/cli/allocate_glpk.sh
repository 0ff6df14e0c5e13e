# merx allocate against the exact LP-relaxation optimum from GLPK (glpsol,
# Debian glpk-utils, installed by scripts/test.sh through scripts/lib.sh).
# On each instance: the plan meets every limit; its value is within 0.5% of
# the LP optimum and never above it; merx's dual bound is never below it.
if ! command -v glpsol >/dev/null; then
  echo "FAIL: glpsol not found: install glpk-utils (scripts/test.sh installs it)" >&2
  exit 1
fi

# name users offers constraints per_user capped_offers seed
instances="
a 3000 6 2 1 2 1
b 1500 5 1 2 1 2
c 2500 8 3 1 0 3
d 400 4 1 1 1 4
"
echo "$instances" | while read -r name nu nj nk m ncap seed; do
  [ -n "$name" ] || continue
  python3 - "$name" "$nu" "$nj" "$nk" "$m" "$ncap" "$seed" <<'EOF'
import random, sys
name, nu, nj, nk, m, ncap, seed = sys.argv[1], *map(int, sys.argv[2:])
rnd = random.Random(seed)
rows = []
for u in range(nu):
    prop = 0.3 + rnd.random()
    for j in range(nj):
        if rnd.random() < 0.25:
            continue                       # not eligible
        v = round(prop * (1 + j) * (0.5 + rnd.random()), 3)
        costs = [round((1 + j) * (0.5 + rnd.random()), 3)]
        costs += [round(rnd.random() * (k + 1), 3) if (j + k) % 2 == 0 else 0.0 for k in range(1, nk)]
        rows.append((f"u{u}", f"o{j}", v, costs))
free = {}
for r in rows:
    free.setdefault(r[0], []).append(r)
# limits: a share of what each user's best offer would use
best = [max(rs, key=lambda r: r[2]) for rs in free.values()]
limits = [round(sum(r[3][k] for r in best) * m * (0.35 + 0.1 * k), 3) for k in range(nk)]
caps = {f"o{nj - 1 - i}": nu // (4 + 2 * i) for i in range(ncap)}
cols = ["cost"] + [f"c{k + 1}" for k in range(1, nk)]
with open(f"{name}.csv", "w") as f:
    f.write("user,offer,value," + ",".join(cols) + "\n")
    for u, o, v, c in rows:
        f.write(f"{u},{o},{v}," + ",".join(str(x) for x in c) + "\n")
with open(f"{name}.args", "w") as f:
    args = ["--budget", str(limits[0]), "--per-user", str(m)]
    for k in range(1, nk):
        args += ["--constraint", f"{cols[k]}={limits[k]}"]
    for o, c in caps.items():
        args += ["--cap", f"{o}={c}"]
    f.write("\n".join(args) + "\n")
with open(f"{name}.limits", "w") as f:
    f.write(repr((limits, caps, m, cols)))
# CPLEX LP format, one term per line (glpsol --lp)
with open(f"{name}.lp", "w") as f:
    f.write("Maximize\n obj:\n")
    for i, r in enumerate(rows):
        f.write(f" + {r[2]} x{i}\n")
    f.write("Subject To\n")
    byuser = {}
    for i, r in enumerate(rows):
        byuser.setdefault(r[0], []).append(i)
    for n_, (u, idx) in enumerate(byuser.items()):
        f.write(f" u{n_}:\n" + "".join(f" + x{i}\n" for i in idx) + f" <= {m}\n")
    for k in range(nk):
        f.write(f" r{k}:\n" + "".join(f" + {rows[i][3][k]} x{i}\n" for i in range(len(rows)) if rows[i][3][k] != 0) + f" <= {limits[k]}\n")
    for o, c in caps.items():
        f.write(f" cap_{o}:\n" + "".join(f" + x{i}\n" for i in range(len(rows)) if rows[i][1] == o) + f" <= {c}\n")
    f.write("Bounds\n" + "".join(f" 0 <= x{i} <= 1\n" for i in range(len(rows))) + "End\n")
EOF
  glpsol --lp "$name.lp" -o "$name.sol" >"$name.glpk.log" 2>&1 || { cat "$name.glpk.log"; exit 1; }
  mapfile -t args < "$name.args"
  expect_exit 0 "$MERX" allocate --data "$name.csv" --columns user=user,offer=offer,value=value,cost=cost \
    "${args[@]}" --out "$name.plan.csv" --json --threads 2
  cp out.txt "$name.json"
  python3 - "$name" <<'EOF'
import csv, json, re, sys, collections, ast
name = sys.argv[1]
lp = float(re.search(r"Objective:\s+obj = ([-0-9.eE+]+)", open(f"{name}.sol").read()).group(1))
r = json.load(open(f"{name}.json"))
limits, caps, m, cols = ast.literal_eval(open(f"{name}.limits").read())
rows = list(csv.DictReader(open(f"{name}.plan.csv")))
obj = sum(float(x["value"]) for x in rows)
for k, col in enumerate(cols):
    col_out = "cost" if k == 0 else col
    spent = sum(float(x[col_out]) for x in rows)
    assert spent <= limits[k] + 1e-6, (name, col, spent, limits[k])
cnt = collections.Counter(x["offer"] for x in rows)
for o, c in caps.items():
    assert cnt[o] <= c, (name, o, cnt[o], c)
assert max(collections.Counter(x["user"] for x in rows).values()) <= m
pairs = [(x["user"], x["offer"]) for x in rows]
assert len(pairs) == len(set(pairs))
tol = 1e-5 * abs(lp)
assert obj <= lp + tol, (name, obj, lp)
assert obj >= 0.995 * lp, (name, obj, lp, obj / lp)
assert r["bound"] >= lp - tol, (name, r["bound"], lp)
print(f"{name}: merx {obj:.3f}  LP {lp:.3f}  ratio {obj / lp:.5f}  merx bound {r['bound']:.3f}  gap {r['gap']:.2e}")
EOF
done
