# merx plan --history: forecast the stocked items' weekly sales here
# (examples/data/daily_sales.csv, Online Retail subset), then plan.
DATA="$MERX_SRC/examples/data/daily_sales.csv"
printf 'id,on_hand,on_order,lead_time,moq,pack_size,service\n85123A,20,0,1,,6,0.95\n20725,5,10,2,12,12,0.9\n' > stock.csv
expect_exit 0 "$MERX" plan --stock stock.csv --history "$DATA" --format long \
  --columns id=StockCode,time=date,value=quantity --freq week --method ses \
  --forecast-out fc.csv --out orders.csv --json
expect_contains out.txt '"items":2'
# the forecasts used are written in merx forecast's layout, horizon = max(L + R) = 3
head -1 fc.csv | grep -qx 'id,h,forecast,lo80,hi80,lo95,hi95,method'
[ "$(grep -c '^85123A,' fc.csv)" -eq 3 ]
[ "$(grep -c '^20725,' fc.csv)" -eq 3 ]
# planning from that CSV gives the same lead-time demand mean (the sd differs:
# the CSV carries per-step intervals only, the history path the sum's sd)
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out orders2.csv
m1=$(awk -F, '$1=="85123A"{print $7}' orders.csv)
m2=$(awk -F, '$1=="85123A"{print $7}' orders2.csv)
awk -v a="$m1" -v b="$m2" 'BEGIN { exit !((a - b) ^ 2 < 1e-6 && a > 0) }'
# orders are whole packs at or above the MOQ
awk -F, 'NR > 1 && $1=="20725" { if ($12 % 12 != 0 || $12 < 12) { print "bad: " $0; exit 1 } }' orders.csv
awk -F, 'NR > 1 && $1=="85123A" { if ($12 % 6 != 0) { print "bad: " $0; exit 1 } }' orders.csv

# errors: format missing, unknown method, no series matches
expect_exit 2 "$MERX" plan --stock stock.csv --history "$DATA" --out o.csv
expect_contains err.txt "--history needs --format long or --format wide"
expect_exit 2 "$MERX" plan --stock stock.csv --history "$DATA" --format long --method best --out o.csv
expect_contains err.txt "unknown method 'best'"
printf 'id,on_hand,lead_time\nNOPE,1,1\n' > s2.csv
expect_exit 1 "$MERX" plan --stock s2.csv --history "$DATA" --format long \
  --columns id=StockCode,time=date,value=quantity --out o.csv
expect_contains err.txt "no series in the history matches an item id of the stock file"
[ ! -e o.csv ]
expect_exit 2 "$MERX" plan --stock stock.csv --history "$DATA" --forecast fc.csv --format long --out o.csv

# the two-step pipeline: merx forecast (long input adds a time column) -> merx plan
expect_exit 0 "$MERX" forecast --data "$DATA" --format long --columns id=StockCode,time=date,value=quantity \
  --freq week --horizon 4 --method ses --out fc2.csv
head -1 fc2.csv | grep -q '^id,h,time,forecast,'
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc2.csv --out orders3.csv --json
expect_contains out.txt '"items":2'
m3=$(awk -F, '$1=="85123A"{print $7}' orders3.csv)
awk -v a="$m1" -v b="$m3" 'BEGIN { exit !((a - b) ^ 2 < 1e-6) }'

# the example stock file has its own header names: map them with --stock-columns
expect_exit 0 "$MERX" plan --stock "$MERX_SRC/examples/stock.csv" \
  --stock-columns id=StockCode,lead_time=lead_time_days --history "$DATA" --format long \
  --columns id=StockCode,time=date,value=quantity --freq day --review 7 --out ex.csv --json
expect_contains out.txt '"items":40'
awk -F, '$1=="20724" { if ($12 % 24 != 0) { print "pack of 24 expected: " $0; exit 1 } }' ex.csv
expect_exit 1 "$MERX" plan --stock "$MERX_SRC/examples/stock.csv" --stock-columns lead_time=lt \
  --history "$DATA" --format long --out ex2.csv
expect_contains err.txt "--stock-columns lead_time=lt: no such column in the header"
expect_exit 2 "$MERX" plan --stock "$MERX_SRC/examples/stock.csv" --stock-columns weight=kg \
  --history "$DATA" --format long --out ex2.csv
expect_contains err.txt "unknown role 'weight'"
