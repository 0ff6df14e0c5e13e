# merx data stats on the example data, and its bad-input errors.
D="$MERX_SRC/examples/data"
COLS=user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate

expect_exit 0 "$MERX" data stats --data "$D/purchases.csv.gz" --columns "$COLS" --json
expect_contains out.txt '"users":1000'
expect_contains out.txt '"rows":90622'
expect_contains out.txt '"time_min":"2010-12-01T'
[ "$(wc -l < out.txt)" -eq 1 ] || { echo "--json must print one line"; exit 1; }
python3 -c 'import json,sys; d=json.load(open("out.txt")); assert d["interactions"]>0 and 0<d["density"]<1 and len(d["top_items"])==10' 

expect_exit 0 "$MERX" data stats --data "$D/purchases.csv.gz" --columns "$COLS" --top 3
expect_contains out.txt 'users          1000'

# help and usage errors (exit 2)
expect_exit 0 "$MERX" data stats --help
expect_contains out.txt 'usage: merx data stats'
expect_exit 2 "$MERX" data stats --columns "$COLS"
expect_contains err.txt -- '--data is required'
expect_exit 2 "$MERX" data stats --data x.csv --bogus
expect_contains err.txt "unknown option '--bogus'"
expect_exit 2 "$MERX" data stats --data x.csv --columns price=1
expect_contains err.txt "unknown role 'price'"
expect_exit 2 "$MERX" nosuchcommand

# runtime errors (exit 1) name the file, line, column and field
expect_exit 1 "$MERX" data stats --data missing.csv
expect_contains err.txt 'missing.csv: cannot open: No such file or directory'
printf 'CustomerID,StockCode,Quantity\n1,A,2\n2,B,abc\n' > bad.csv
expect_exit 1 "$MERX" data stats --data bad.csv --columns user=CustomerID,item=StockCode,value=Quantity
expect_contains err.txt "bad.csv:3:3: field 'Quantity': not a finite number: 'abc'"
expect_exit 1 "$MERX" data stats --data bad.csv --columns user=Customer,item=StockCode
expect_contains err.txt "no column named 'Customer' in the header (columns: CustomerID, StockCode, Quantity)"
printf 'u,i\n1,A\n"2,B\n' > uq.csv
expect_exit 1 "$MERX" data stats --data uq.csv
expect_contains err.txt 'uq.csv:3:1: unterminated quoted field at end of file'
printf 'u,i\n' > header_only.csv
expect_exit 1 "$MERX" data stats --data header_only.csv
expect_contains err.txt 'no data rows'
head -c 20000 "$D/purchases.csv.gz" > truncated.csv.gz
expect_exit 1 "$MERX" data stats --data truncated.csv.gz --columns user=CustomerID,item=StockCode
expect_contains err.txt 'truncated or corrupt compressed file'

# no header, TSV, 1-based indices; stdin
printf '1\tA\n1\tB\n2\tA\n' > t.tsv
expect_exit 0 "$MERX" data stats --data t.tsv --no-header --columns user=1,item=2 --json
expect_contains out.txt '"users":2,"items":2,"interactions":3'
expect_exit 0 bash -c "cat t.tsv | '$MERX' data stats --data - --no-header --json"
expect_contains out.txt '"interactions":3'
