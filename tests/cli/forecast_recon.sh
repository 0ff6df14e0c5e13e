# merx forecast --hierarchy/--reconcile: six Online Retail weekly products under
# two groups and a total; aggregate series built by merx; forecasts add up.
D="$MERX_SRC/examples/data"
head -6 "$D/retail_top100_weekly.csv" > leaves.csv
python3 - <<'PY'
ids = [l.split(",")[0] for l in open("leaves.csv")]
with open("hier.csv", "w") as f:
    f.write("id,parent\nTotal,\nG1,Total\nG2,Total\n")
    for k, i in enumerate(ids):
        f.write("%s,%s\n" % (i, "G1" if k < 3 else "G2"))
PY
RECON="bottom-up ols mint-shrink"
# under the sanitizers: bottom-up (for the identity check below) and MinT
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) RECON="bottom-up mint-shrink" ;; esac
for r in $RECON; do
  expect_exit 0 "$MERX" forecast --data leaves.csv --format wide --horizon 4 \
    --hierarchy hier.csv --reconcile $r --out fc_$r.csv --json
  expect_contains out.txt "\"reconcile\":\"$r\""
  python3 - "$r" <<'PY'
import csv, sys
rows = list(csv.DictReader(open("fc_%s.csv" % sys.argv[1])))
par = {}
for l in list(open("hier.csv"))[1:]:
    i, p = l.strip().split(",")
    par[i] = p
f = {(r["id"], r["h"]): float(r["forecast"]) for r in rows}
assert len(set(r["id"] for r in rows)) == 9, rows
for h in "1234":
    for node in ("Total", "G1", "G2"):
        kids = sum(v for (i, hh), v in f.items() if hh == h and par[i] == node)
        assert abs(f[(node, h)] - kids) <= 1e-8 * max(1, abs(kids)), (node, h, f[(node, h)], kids)
PY
done
# bottom-up keeps each leaf's own forecast
expect_exit 0 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --out base.csv
python3 - <<'PY'
import csv
a = {(r["id"], r["h"]): r["forecast"] for r in csv.DictReader(open("base.csv"))}
b = {(r["id"], r["h"]): r["forecast"] for r in csv.DictReader(open("fc_bottom-up.csv"))}
for k, v in a.items():
    assert b[k] == v, (k, v, b[k])
PY
# bad hierarchies: named by file and line, nothing written
printf 'id,parent\nTotal,\nG1,Total\nG1,Total\n' > dup.csv
expect_exit 1 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --hierarchy dup.csv --out bad.csv
expect_contains err.txt "dup.csv:4"
expect_contains err.txt "duplicate id 'G1'"
printf 'id,parent\nTotal,G1\nG1,Total\n' > cyc.csv
expect_exit 1 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --hierarchy cyc.csv --out bad.csv
expect_contains err.txt "cycle"
printf 'id,parent\nTotal,\nG1,Nope\n' > unk.csv
expect_exit 1 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --hierarchy unk.csv --out bad.csv
expect_contains err.txt "unk.csv:3"
expect_contains err.txt "unknown parent 'Nope'"
[ ! -e bad.csv ]
expect_exit 2 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --reconcile ols --out bad.csv
expect_exit 2 "$MERX" forecast --data leaves.csv --format wide --horizon 4 --hierarchy hier.csv --reconcile mint --out bad.csv
