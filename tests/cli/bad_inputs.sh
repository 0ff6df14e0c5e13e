# Bad input is a clear error, never a hang, a NaN or a wrong answer (issue #14):
# every case exits 1 (2 for usage) with one line naming the file and the cause.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 4 --epochs 1 --out m.mxm

# ---- #14.17 a FIFO as the model blocks nobody; a directory is named as one (#14.21)
mkfifo fifo.mxm
expect_exit 1 timeout 20 "$MERX" model info --model fifo.mxm
expect_contains err.txt "fifo.mxm"; expect_contains err.txt "not a regular file"
expect_exit 1 timeout 20 "$MERX" run -e 'merx.model.load("fifo.mxm")'
expect_contains err.txt "fifo.mxm"; expect_contains err.txt "not a regular file"
mkdir dir.mxm
expect_exit 1 timeout 20 "$MERX" model info --model dir.mxm
expect_contains err.txt "dir.mxm: "; expect_contains err.txt "is a directory"
