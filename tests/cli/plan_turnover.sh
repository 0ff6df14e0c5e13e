# merx plan --actuals: inventory turnover and days of supply, per item and in
# total, against a case computed by hand. Two items, lead time 0, review 1,
# flat forecasts without intervals (Poisson lead-time demand: order-up-to 8
# for mean 4, 9 for mean 5 at 95%), each order arriving before its period's demand.
#   A: start 0, demand 12,2,3 -> t0 order 8, ship 8, 4 backordered, end 0
#                                t1 order 12, clear 4, ship 2, end 6
#                                t2 order 2, ship 3, end 5
#      shipped 17 (13 at once), average on hand 11/3, turnover 17/(11/3) = 51/11,
#      average daily demand 17/3, days of supply (11/3)/(17/3) = 11/17
#   B: start 10, demand 1,1,1 -> ends 9, 8, 8: average 25/3, shipped 3,
#      turnover 0.36, days of supply 25/3
#   total: turnover 20 / (11/3 + 25/3) = 20/12, days of supply 12 / (17/3 + 1) = 1.8,
#   cost turnover (2*17 + 5*3) / (2*11/3 + 5*25/3) = 49/49 = 1
cat >stock.csv <<'CSV'
id,on_hand,on_order,lead_time,review,unit_cost
A,0,0,0,1,2
B,10,0,0,1,5
CSV
printf 'id,h,forecast\nA,1,4\nA,2,4\nA,3,4\nB,1,5\nB,2,5\nB,3,5\n' >fc.csv
printf 'A,12,2,3\nB,1,1,1\n' >act.csv
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out o.csv --actuals act.csv \
  --replay-out r.csv --json
grep -q "^A,0,0,0,0,1,.*,8.000000,.*,8,\$" o.csv
python3 - <<'PY'
import csv, json
ev = json.load(open("out.txt"))["evaluation"]
def near(a, b, what):
    assert a is not None and abs(a - b) < 1e-8 * max(1, abs(b)), (what, a, b)  # CSV: 10 digits
near(ev["shipped"], 20, "shipped")
near(ev["inventory"], 12, "inventory")
near(ev["turnover"], 20 / 12, "turnover")
near(ev["days_of_supply"], 1.8, "days of supply")
near(ev["cost_of_sales"], 49, "cost of sales")
near(ev["avg_inventory_value"], 49, "inventory value")
near(ev["cost_turnover"], 1, "cost turnover")
assert ev["period_days"] == 1 and ev["cost_items"] == 2 and ev["stockout_periods"] == 1, ev
near(ev["fill_rate"], (13 + 3) / 20, "fill rate")
a, b = ev["by_item"]
near(a["turnover"], 51 / 11, "A turnover"); near(a["days_of_supply"], 11 / 17, "A days")
near(a["shipped"], 17, "A shipped"); near(b["turnover"], 0.36, "B turnover")
near(b["days_of_supply"], 25 / 3, "B days")
rows = {r["id"]: r for r in csv.DictReader(open("r.csv"))}
near(float(rows["A"]["shipped"]), 17, "csv shipped")
near(float(rows["A"]["turnover"]), 51 / 11, "csv turnover")
near(float(rows["A"]["days_of_supply"]), 11 / 17, "csv days")
near(float(rows["A"]["cost_of_sales"]), 34, "csv cost of sales")
near(float(rows["B"]["avg_inventory_value"]), 125 / 3, "csv value")
near(float(rows["A"]["fill_rate"]), 13 / 17, "csv fill rate")
PY
# text output: the same totals; weekly periods scale days of supply
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out o.csv --actuals act.csv --period-days 7
expect_contains out.txt "turnover        1.6667 (20 units shipped / 12 average on hand), days of supply 12.6000, cost turnover 1.0000 (2 items with a unit cost)"
# an item without stock or demand has no ratio: empty in CSV, null in JSON, n/a in text
printf 'id,on_hand,lead_time\nZ,0,0\n' >zero.csv
printf 'id,h,forecast\nZ,1,0\n' >zfc.csv
printf 'Z,0,0\n' >zact.csv
expect_exit 0 "$MERX" plan --stock zero.csv --forecast zfc.csv --out z.csv --actuals zact.csv --replay-out zr.csv
expect_contains out.txt "turnover        n/a (0 units shipped / 0 average on hand), days of supply n/a"
[ "$(tail -1 zr.csv)" = "Z,2,0,0,1,1,0,0,,,,," ]
# bad input
printf 'id,on_hand,lead_time,unit_cost\nA,1,0,-3\n' >bad.csv
expect_exit 1 "$MERX" plan --stock bad.csv --forecast fc.csv --out x.csv
expect_contains err.txt "bad.csv:2:4: field 'unit_cost': unit_cost must be a number >= 0, got '-3'"
[ ! -e x.csv ]
expect_exit 2 "$MERX" plan --stock stock.csv --forecast fc.csv --out x.csv --replay-out r2.csv
expect_contains err.txt "--replay-out and --period-days need --actuals FILE"
