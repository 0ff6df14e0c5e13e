# merx plan: order-up-to replenishment from a stock file and a forecast CSV.
cat > stock.csv <<'CSV'
id,on_hand,on_order,lead_time,moq,pack_size,service
A,12,5,2,,,0.95
B,100,0,1,10,6,
C,0,0,1,25,12,0.9
CSV
# A: N(10, 3^2) per period (hi95 = 10 + 1.959964 * 3), lead time 2 + review 1
cat > fc.csv <<'CSV'
id,h,forecast,lo80,hi80,lo95,hi95,method
A,1,10,6.155,13.845,4.120108,15.879892,ses
A,2,10,6.155,13.845,4.120108,15.879892,ses
A,3,10,6.155,13.845,4.120108,15.879892,ses
B,1,20,15,25,12,28,ses
B,2,20,15,25,12,28,ses
C,1,3,0,6,0,8,croston
C,2,3,0,6,0,8,croston
Z,1,3,0,6,0,8,croston
CSV
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out orders.csv --json
expect_contains out.txt '"items":3'
expect_contains out.txt '"orders":2'
expect_contains out.txt '"forecast_rows_not_in_stock":1'
head -1 orders.csv | grep -qx 'id,on_hand,on_order,position,lead_time,review,ltd_mean,ltd_sd,safety_stock,order_up_to,raw_order,order,note'
# A: S = 30 + 1.644854 * 3 * sqrt(3) = 38.547; position 17; order ceil(21.547) = 22
awk -F, '$1=="A"{ if ($4!=17 || $7!=30 || ($10-38.547)^2>1e-4 || $12!=22) { print "bad A: " $0; exit 1 } }' orders.csv
# B: position 100 above S: no order even with an MOQ
awk -F, '$1=="B"{ if ($12!=0) { print "bad B: " $0; exit 1 } }' orders.csv
# C: raw order ~10.6 raised to the MOQ 25, then to whole packs of 12: 36
awk -F, '$1=="C"{ if ($12!=36) { print "bad C: " $0; exit 1 } }' orders.csv
[ "$(wc -l < orders.csv)" -eq 4 ]

# fill-rate target and Poisson lead-time demand
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out o2.csv --service-type fill --dist poisson
awk -F, '$1=="A"{ if ($8*$8 < 29.99 || $8*$8 > 30.01 || $10 != int($10)) { print "bad poisson A: " $0; exit 1 } }' o2.csv

# replay against realised demand
printf 'A,9,11,10,12\nB,20,25,18\nC,0,0,7,0\n' > act.csv
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out o3.csv --actuals act.csv --json
expect_contains out.txt '"evaluation":{"items":3,"periods":11,"demand":112'

# an item without a forecast is an error naming the stock line, unless skipped
printf 'id,on_hand,lead_time\nA,1,1\nNEW,0,1\n' > s2.csv
expect_exit 1 "$MERX" plan --stock s2.csv --forecast fc.csv --out o4.csv
expect_contains err.txt "s2.csv:3:1: field 'id': item 'NEW' has no forecast"
[ ! -e o4.csv ]
expect_exit 0 "$MERX" plan --stock s2.csv --forecast fc.csv --out o4.csv --skip-missing --json
expect_contains out.txt '"skipped_no_forecast":1'

# bad input: clear errors with file, line, column and field; no output written
printf 'id,on_hand,lead_time\nA,x,1\n' > bad1.csv
expect_exit 1 "$MERX" plan --stock bad1.csv --forecast fc.csv --out bad.csv
expect_contains err.txt "bad1.csv:2:2: field 'on_hand': not a finite number: 'x'"
printf 'id,on_hand,lead_time,service\nA,1,1,1\n' > bad2.csv
expect_exit 1 "$MERX" plan --stock bad2.csv --forecast fc.csv --out bad.csv
expect_contains err.txt "bad2.csv:2:4: field 'service': service must be strictly between 0 and 1"
printf 'id,on_hand,lead_time,h,p\nA,1,1,0,5\n' > bad3.csv
expect_exit 1 "$MERX" plan --stock bad3.csv --forecast fc.csv --out bad.csv
expect_contains err.txt "bad3.csv:2:4: field 'h': h (holding cost) must be a positive number"
printf 'id,on_hand,lead_time\nA,1,-2\n' > bad4.csv
expect_exit 1 "$MERX" plan --stock bad4.csv --forecast fc.csv --out bad.csv
expect_contains err.txt "field 'lead_time'"
printf 'id,on_hand\nA,1\n' > bad5.csv
expect_exit 1 "$MERX" plan --stock bad5.csv --forecast fc.csv --out bad.csv
expect_contains err.txt "no lead time"
printf 'id,h,forecast\nA,1,-4\n' > badfc.csv
expect_exit 1 "$MERX" plan --stock stock.csv --forecast badfc.csv --out bad.csv
expect_contains err.txt "badfc.csv:2:3: field 'forecast': negative demand forecast"
printf 'id,h,forecast\nA,1,4\nA,3,4\n' > gapfc.csv
expect_exit 1 "$MERX" plan --stock stock.csv --forecast gapfc.csv --out bad.csv --skip-missing
expect_contains err.txt "item 'A' has no forecast for step 2"
[ ! -e bad.csv ]
expect_exit 2 "$MERX" plan --stock stock.csv --forecast fc.csv --out x.csv --service 1.5
expect_exit 2 "$MERX" plan --stock stock.csv --out x.csv
expect_exit 2 "$MERX" plan --stock stock.csv --forecast fc.csv --out x.csv --service-type best
expect_exit 0 "$MERX" plan --help
expect_contains out.txt "usage: merx plan"

# replay starting at the planned level instead of the stock on hand
expect_exit 0 "$MERX" plan --stock stock.csv --forecast fc.csv --out o5.csv --actuals act.csv --replay-start target --json
expect_contains out.txt '"evaluation":{"items":3'
expect_exit 2 "$MERX" plan --stock stock.csv --forecast fc.csv --out o6.csv --actuals act.csv --replay-start never
[ ! -e o6.csv ]
