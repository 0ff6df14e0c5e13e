# The examples end to end on examples/data, with their expected outputs.
cp -r "$MERX_SRC/examples" ex

# spring campaign: coupons under the budget, capped per segment, logged
expect_exit 0 "$MERX" run ex/spring_campaign.lua --now 2011-12-10 --out spring
expect_contains out.txt "spring campaign: 995 customers"
expect_contains out.txt "spend 399.00 of 400.00, expected value 1113.33"
head -1 spring/offer.csv | grep -qx "user,campaign,cost,item,offer,score,segment,value,reason"
n=$(tail -n +2 spring/offer.csv | wc -l)
[ "$n" -gt 50 ] || { echo "FAIL: only $n offers"; exit 1; }
# one offer per customer, and no customer got a product they already bought
[ "$(tail -n +2 spring/offer.csv | cut -d, -f1 | sort | uniq -d | wc -l)" = "0" ]
python3 - <<'PY'
import csv, gzip
bought = set()
with gzip.open("ex/data/purchases.csv.gz", "rt") as f:
    for r in csv.DictReader(f):
        if float(r["Quantity"]) > 0 and float(r["UnitPrice"]) > 0 and not r["InvoiceNo"].startswith("C"):
            bought.add((r["CustomerID"], r["StockCode"]))
rows = list(csv.DictReader(open("spring/offer.csv")))
spend = sum(float(r["cost"]) for r in rows)
assert spend <= 400 + 1e-9, spend
by_seg = {}
for r in rows:
    assert (r["user"], r["item"]) not in bought, r
    assert r["reason"].startswith("spring: segment " + r["segment"]), r["reason"]
    by_seg[r["segment"]] = by_seg.get(r["segment"], 0) + 1
caps = {"champions": 60, "loyal": 80, "new": 40, "at_risk": 40, "hibernating": 0, "needs_attention": 40}
for s, k in by_seg.items():
    assert k <= caps[s], (s, k)
PY
[ "$(sqlite3 spring/decisions.db "select count(*) from decisions where kind='offer'")" = "$n" ]
u=$(sed -n 2p spring/offer.csv | cut -d, -f1)
expect_exit 0 "$MERX" explain --log spring/decisions.db --user "$u"
expect_contains out.txt "spring: segment"
expect_contains out.txt "spring_campaign.lua"

# frequency cap: a second run within 14 days skips everyone contacted
expect_exit 0 "$MERX" run ex/spring_campaign.lua --now 2011-12-12 --out spring
python3 - <<'PY'
import sqlite3
db = sqlite3.connect("spring/decisions.db")
runs = [r[0] for r in db.execute("select distinct run_id from decisions order by id")]
assert len(runs) == 2, runs
first = {r[0] for r in db.execute("select user from decisions where run_id=?", (runs[0],))}
second = {r[0] for r in db.execute("select user from decisions where run_id=?", (runs[1],))}
assert first and second and not (first & second), (len(first), len(second), len(first & second))
PY

# with a model from `merx train`, read from inside --out
mkdir -p withmodel
expect_exit 0 "$MERX" train --data ex/data/purchases.csv.gz --columns user=CustomerID,item=StockCode \
  --algo ials --out withmodel/shop.mxm
expect_exit 0 "$MERX" run ex/spring_campaign.lua --now 2011-12-10 --set model="$PWD/withmodel/shop.mxm" \
  --out withmodel
expect_contains out.txt "of 400.00, expected value"
[ "$(tail -n +2 withmodel/offer.csv | wc -l)" -gt 50 ]
# ... but not from a directory the script may not read
mkdir -p elsewhere && cp withmodel/shop.mxm elsewhere/
expect_exit 1 "$MERX" run ex/spring_campaign.lua --now 2011-12-10 --set model="$PWD/elsewhere/shop.mxm" \
  --out other
expect_contains err.txt "is outside the directories this script may read"

# a smaller budget through --set, as a dry run
expect_exit 0 "$MERX" run ex/spring_campaign.lua --now 2011-12-10 --set budget=40 --dry-run --out dry
expect_contains out.txt "spend 40.00 of 40.00"
expect_contains out.txt "# offer: "
[ ! -e dry ]

# replenishment: orders exactly where the position is at or below the reorder point
expect_exit 0 "$MERX" run ex/replenish.lua --now 2011-12-10 --out repl
expect_contains out.txt "replenish as of 2011-12-10: 40 products"
python3 - <<'PY'
import csv
orders = list(csv.DictReader(open("repl/order.csv")))
assert orders, "no orders"
stock = {r["StockCode"]: r for r in csv.DictReader(open("ex/stock.csv"))}
for o in orders:
    s = stock[o["sku"]]
    pos = float(s["on_hand"]) + float(s["on_order"])
    assert pos <= float(o["reorder_point"]) + 1e-9, o
    q = int(o["quantity"])
    assert q % int(s["pack_size"]) == 0 and pos + q >= float(o["order_up_to"]) - 1e-9, o
    assert "reorder point" in o["reason"], o["reason"]
PY
[ "$(sqlite3 repl/decisions.db "select count(*) from decisions where kind='order'")" = "$(tail -n +2 repl/order.csv | wc -l)" ]
