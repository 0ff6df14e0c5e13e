# examples/c/recommend.c, the program docs/c-api.md walks through, compiles
# with -Werror against the built libmerx, runs on the example purchases, and
# recommends what `merx recommend` recommends from the model it saved.
BUILD="$(dirname "$MERX")"
LIB="$(ls "$BUILD"/libmerx.so 2>/dev/null || true)"
[ -n "$LIB" ] || { echo "no shared libmerx in $BUILD"; exit 77; }
CC="${CC:-cc}"
command -v "$CC" >/dev/null || { echo "no C compiler"; exit 77; }
SAN=""
syms="$(nm -D "$LIB")"
case "$syms" in *__asan*) SAN="-fsanitize=address,undefined" ;; esac
"$CC" -std=c11 -Wall -Wextra -Werror $SAN -I"$MERX_SRC/include" "$MERX_SRC/examples/c/recommend.c" \
  -o recommend -L"$BUILD" -lmerx -Wl,-rpath,"$BUILD"
expect_exit 0 ./recommend "$MERX_SRC/examples/data/purchases.csv.gz" shop.mxm 15100.0
expect_contains out.txt "1000 customers, 3314 products"
expect_contains out.txt "top 5 for customer 15100.0:"
awk '/^  [0-9]\./ {print $2}' out.txt > c_items.txt
expect_exit 0 "$MERX" recommend --model shop.mxm --user 15100.0 --k 5 --out cli.csv
tail -n +2 cli.csv | cut -d, -f3 > cli_items.txt
[ "$(wc -l < c_items.txt)" -eq 5 ] && cmp c_items.txt cli_items.txt \
  || { echo "FAIL: the C example and merx recommend disagree"; paste c_items.txt cli_items.txt; exit 1; }
# errors come back as status + mx_error, printed with their location
printf 'CustomerID,StockCode\n' > empty.csv
expect_exit 1 ./recommend empty.csv bad.mxm
expect_exit 1 ./recommend missing.csv bad.mxm
expect_contains err.txt "missing.csv"
printf 'user,item\na,x\n' > nocols.csv
expect_exit 1 ./recommend nocols.csv bad.mxm
expect_contains err.txt "CustomerID"
test ! -e bad.mxm
expect_exit 2 ./recommend
