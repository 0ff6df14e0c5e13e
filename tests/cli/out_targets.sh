# --out targets that are not regular files (issue #15.5): "-" is standard
# output for every --out FILE (summaries then go to stderr, so stdout holds
# only the data); a FIFO and a character device are written in place, never
# replaced by a regular file; a symlink keeps pointing where it pointed while
# its target is replaced; --out - for a folder (run, model export) or a set of
# files (embed) is a usage error. Nothing here writes to the real /dev/stdout.
P="$MERX_SRC/examples/data/purchases.csv.gz"
D="$MERX_SRC/examples/data"
COLS="user=CustomerID,item=StockCode"
FC=(forecast --data "$D/daily_sales.csv" --format long --columns id=StockCode,time=date,value=quantity
    --freq week --horizon 4)
no_dash() { [ ! -e ./- ] || { echo "FAIL: a file named '-' was created"; exit 1; }; }

# ---- "-": the output on stdout, byte-identical to the file output
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 2 --seed 3 --out m.mxm
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 2 --seed 3 --out -
no_dash
expect_contains err.txt "trained"            # the summary moved to stderr
cp out.txt piped.mxm
expect_exit 0 "$MERX" model info --model piped.mxm
# through a pipe (no seeking back): a complete, valid model
"$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 8 --epochs 2 --seed 3 --out - 2>/dev/null |
  cat > pipe.mxm
expect_exit 0 "$MERX" model info --model pipe.mxm
expect_exit 0 "$MERX" recommend --model m.mxm --all --k 3 --out rec.csv
expect_exit 0 "$MERX" recommend --model m.mxm --all --k 3 --out=-
no_dash
cmp out.txt rec.csv
expect_exit 0 "$MERX" "${FC[@]}" --out fc.csv
expect_exit 0 "$MERX" "${FC[@]}" --out -
cmp out.txt fc.csv
cat > offers.csv <<'EOF'
customer,offer,score,discount
c1,FREESHIP,4.0,2.0
c1,TENOFF,9.0,5.0
c2,TENOFF,8.0,5.0
EOF
ACOLS="user=customer,offer=offer,value=score,cost=discount"
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$ACOLS" --budget 10 --out plan.csv
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$ACOLS" --budget 10 --out -
cmp out.txt plan.csv
expect_contains err.txt "objective"
no_dash
# a pipe reads it like any stream
"$MERX" recommend --model m.mxm --all --k 3 --out - 2>/dev/null | cmp - rec.csv

# ---- "-" where it cannot mean stdout: usage errors, nothing created
expect_exit 2 "$MERX" recommend --model m.mxm --all --k 3 --out - --json
expect_contains err.txt "--out -"
expect_exit 2 "$MERX" run -e 'merx.emit("offer", {user = "u", reason = "r"})' --out -
expect_contains err.txt "folder"
expect_exit 2 "$MERX" model export --model m.mxm --out -
expect_contains err.txt "folder"
expect_exit 2 "$MERX" embed --data "$P" --columns id=StockCode,text=Description --out -
expect_contains err.txt "--out -"
no_dash

# ---- a FIFO with a reader: written in place, still a FIFO
mkfifo pipe.csv
timeout 60 cat pipe.csv > got.csv &
reader=$!
expect_exit 0 timeout 60 "$MERX" recommend --model m.mxm --all --k 3 --out pipe.csv
wait "$reader"
[ -p pipe.csv ] || { echo "FAIL: pipe.csv is no longer a FIFO"; exit 1; }
cmp got.csv rec.csv
ls -A | grep -q '\.tmp\.' && { echo "FAIL: temporary left: $(ls -A)"; exit 1; }

# ---- a character device: our own node with /dev/null's numbers (as root a
# broken build would replace the node, so never the real /dev/null as root)
if mknod null c 1 3 2>/dev/null; then dev=./null
elif [ "$(id -u)" -ne 0 ]; then dev=/dev/null
else dev=""; echo "note: root without mknod: character-device case not run here (unit_atomic covers it)"
fi
if [ -n "$dev" ]; then
  expect_exit 0 "$MERX" recommend --model m.mxm --all --k 3 --out "$dev"
  [ -c "$dev" ] || { echo "FAIL: $dev is no longer a character device"; exit 1; }
fi

# ---- a symlink: the link kept, its target replaced
mkdir real
echo old > real/rec.csv
ln -s real/rec.csv link.csv
expect_exit 0 "$MERX" recommend --model m.mxm --all --k 3 --out link.csv
[ -L link.csv ] || { echo "FAIL: link.csv is no longer a symlink"; exit 1; }
cmp real/rec.csv rec.csv
# a run's export behind a symlink in --out DIR
mkdir runout
ln -s ../real/offer.csv runout/offer.csv
expect_exit 0 "$MERX" run -e 'merx.emit("offer", {user = "u1", reason = "r"})' --out runout --now 2026-01-01
[ -L runout/offer.csv ] || { echo "FAIL: runout/offer.csv is no longer a symlink"; exit 1; }
expect_contains real/offer.csv "u1"
