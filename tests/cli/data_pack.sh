# merx data pack (issue 21): a dataset parsed once into a .mxd that every
# --data takes, with the same results as the CSV (stats, trained model,
# recommendations), pseudonyms kept with a keyed store, and clear refusals
# of truncated, corrupt and foreign files.
D="$MERX_SRC/examples/data"
COLS=user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate

expect_exit 0 "$MERX" data pack --data "$D/purchases.csv.gz" --columns "$COLS" --out p.mxd --json
expect_contains out.txt '"users":1000'
expect_contains out.txt '"out":"p.mxd"'

# data stats --json: the same object but for the file name and the seconds
same_stats() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for x in (a, b):
    x.pop("file"); x.pop("seconds")
assert a == b, (a, b)
PY
}
expect_exit 0 "$MERX" data stats --data "$D/purchases.csv.gz" --columns "$COLS" --json
mv out.txt csv.json
expect_exit 0 "$MERX" data stats --data p.mxd --json
same_stats csv.json out.txt

# train: the same model file, byte for byte; recommend: the same rows
# (bpr on one thread: its two-thread runs differ from run to run, CSV or not;
# under the sanitizers ials alone, to keep the test cheap)
ALGOS="ials:2 bpr:1" FULL=1
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) ALGOS="ials:2" FULL= ;; esac
for algo in $ALGOS; do
  t=${algo#*:} algo=${algo%:*}
  expect_exit 0 "$MERX" train --data "$D/purchases.csv.gz" --columns "$COLS" --algo $algo \
    --factors 8 --epochs 3 --threads $t --out csv_$algo.mxm
  expect_exit 0 "$MERX" train --data p.mxd --algo $algo --factors 8 --epochs 3 --threads $t \
    --out mxd_$algo.mxm
  cmp csv_$algo.mxm mxd_$algo.mxm || { echo "$algo model from .mxd differs from the CSV's"; exit 1; }
done
expect_exit 0 "$MERX" recommend --model csv_ials.mxm --all --k 5 --out csv_recs.csv
expect_exit 0 "$MERX" recommend --model mxd_ials.mxm --all --k 5 --out mxd_recs.csv
cmp csv_recs.csv mxd_recs.csv
# explicit ratings; --test (a CSV) is read with the column options beside a .mxd
if [ -n "$FULL" ]; then
RC=user=user,item=item,value=rating
expect_exit 0 "$MERX" data pack --data "$D/ratings_sample.csv.gz" --columns $RC --out r.mxd
zcat "$D/ratings_sample.csv.gz" > all.csv && head -2000 all.csv > test.csv
expect_exit 0 "$MERX" train --data "$D/ratings_sample.csv.gz" --columns $RC --test test.csv \
  --algo mf --factors 8 --epochs 3 --threads 1 --out csv_mf.mxm --json
grep -o '"test_rmse":[^,]*' out.txt > csv_rmse.txt
expect_exit 0 "$MERX" train --data r.mxd --columns $RC --test test.csv --algo mf --factors 8 \
  --epochs 3 --threads 1 --out mxd_mf.mxm --json
grep -o '"test_rmse":[^,]*' out.txt | cmp - csv_rmse.txt
cmp csv_mf.mxm mxd_mf.mxm
fi

# implicit data without a value or time column, event weights, TSV
printf 'u\ti\te\n1\tA\tview\n1\tA\tcart\n2\tB\tpurchase\n3\tA\tview\n' > ev.tsv
expect_exit 0 "$MERX" data pack --data ev.tsv --columns user=u,item=i,event=e --out ev.mxd
expect_exit 0 "$MERX" data stats --data ev.tsv --columns user=u,item=i,event=e --json
mv out.txt ev_csv.json
expect_exit 0 "$MERX" data stats --data ev.mxd --json
same_stats ev_csv.json out.txt
expect_contains out.txt '"value_max":10'

# a keyed store: the .mxd holds pseudonyms only, as the CSV path would
mkdir st
(umask 077; head -c 32 /dev/urandom | base64 > st/store.key)
expect_exit 0 "$MERX" data pack --data "$D/purchases.csv.gz" --columns "$COLS" --store st --out k.mxd
if grep -q -a '15100\.0' k.mxd; then echo "raw user id in a keyed store's .mxd"; exit 1; fi
grep -q -a '15100\.0' p.mxd || { echo "plain .mxd should hold the raw id"; exit 1; }
expect_exit 0 "$MERX" data stats --data "$D/purchases.csv.gz" --columns "$COLS" --store st --json
mv out.txt keyed_csv.json
expect_exit 0 "$MERX" data stats --data k.mxd --store st --json
same_stats keyed_csv.json out.txt
# a plain .mxd read for a keyed store is pseudonymised on load
expect_exit 0 "$MERX" data stats --data p.mxd --store st --json
same_stats keyed_csv.json out.txt
if [ -n "$FULL" ]; then
expect_exit 0 "$MERX" train --data "$D/purchases.csv.gz" --columns "$COLS" --store st --algo ials \
  --factors 8 --epochs 2 --threads 2 --out keyed_csv.mxm
expect_exit 0 "$MERX" train --data p.mxd --store st --algo ials --factors 8 --epochs 2 --threads 2 \
  --out keyed_mxd.mxm
cmp keyed_csv.mxm keyed_mxd.mxm
fi
# a model trained from a keyed .mxd without the store still says its users are pseudonyms
expect_exit 0 "$MERX" train --data k.mxd --algo ials --factors 4 --epochs 1 --out k_nostore.mxm
expect_exit 0 "$MERX" model info --model k_nostore.mxm --json
expect_contains out.txt '"pseudonymous":true'
# another key's pseudonyms are refused, naming the file
mkdir st2
(umask 077; head -c 32 /dev/urandom | base64 > st2/store.key)
expect_exit 1 "$MERX" data stats --data k.mxd --store st2
expect_contains err.txt 'k.mxd: packed dataset holds pseudonyms of another store key'

# bad files: a clear error naming the file, exit 1, nothing written
size=$(stat -c %s p.mxd)
head -c 300 p.mxd > short.mxd
expect_exit 1 "$MERX" data stats --data short.mxd
expect_contains err.txt 'short.mxd: not a valid merx packed dataset: file is shorter than its header (truncated)'
head -c $((size - 64)) p.mxd > cut.mxd
expect_exit 1 "$MERX" train --data cut.mxd --algo ials --out cut.mxm
expect_contains err.txt "cut.mxd: not a valid merx packed dataset: size is $((size - 64)) bytes, header says $size"
[ ! -e cut.mxm ] || { echo "a model was written from a truncated .mxd"; exit 1; }
cp p.mxd flip.mxd
printf '\x55' | dd of=flip.mxd bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit 1 "$MERX" data stats --data flip.mxd
expect_contains err.txt 'flip.mxd: not a valid merx packed dataset: payload checksum mismatch (corrupt file)'
cp p.mxd head.mxd
printf '\x07' | dd of=head.mxd bs=1 seek=20 conv=notrunc status=none
expect_exit 1 "$MERX" data stats --data head.mxd
expect_contains err.txt 'head.mxd: not a valid merx packed dataset: header checksum mismatch'
cp p.mxd ver.mxd
printf '\x09' | dd of=ver.mxd bs=1 seek=8 conv=notrunc status=none
expect_exit 1 "$MERX" data stats --data ver.mxd
expect_contains err.txt 'ver.mxd: packed dataset format version 9 is not supported'
cp p.mxd be.mxd
printf '\x01\x02\x03\x04' | dd of=be.mxd bs=1 seek=12 conv=notrunc status=none
expect_exit 1 "$MERX" data stats --data be.mxd
expect_contains err.txt 'be.mxd: not a valid merx packed dataset: byte order mark mismatch'

# usage
expect_exit 0 "$MERX" data pack --help
expect_contains out.txt 'usage: merx data pack'
expect_exit 2 "$MERX" data pack --data ev.tsv
expect_contains err.txt -- '--out is required'
expect_exit 2 "$MERX" data pak --data ev.tsv
expect_contains err.txt "did you mean 'pack'"
expect_exit 1 "$MERX" data pack --data missing.csv --out m.mxd
expect_contains err.txt 'missing.csv: cannot open'
[ ! -e m.mxd ] || { echo "m.mxd written after a failed read"; exit 1; }

# Lua: merx.data.load (and merx.data.read of a .mxd) gives the pairs as a frame
expect_exit 0 "$MERX" run -e 'local f, n = merx.data.load("p.mxd")
local s = 0
for i = 1, n do s = s + f.value[i] end
local g, m = merx.data.read("p.mxd")
print(n, #f.user, #f.item, #f.time, m, string.format("%.6f", s / n))'
python3 - <<'PY'
import json
a = json.load(open("csv.json"))
got = open("out.txt").read().split()
n = a["interactions"]
assert got[:5] == [str(n)] * 5, got
assert abs(float(got[5]) - a["value_mean"]) < 1e-4, (got, a["value_mean"])
PY
# a keyed run sees pseudonyms, from a plain or a keyed file alike
expect_exit 0 "$MERX" run --store st -e 'local a = merx.data.load("p.mxd")
local b = merx.data.load("k.mxd")
print(a.user[1], b.user[1], #a.user == #b.user)'
grep -q '^[0-9a-f]\{32\}	[0-9a-f]\{32\}	true$' out.txt || { echo "keyed load: $(cat out.txt)"; exit 1; }
[ "$(cut -f1 out.txt)" = "$(cut -f2 out.txt)" ]
expect_exit 1 "$MERX" run --store st2 -e 'merx.data.load("k.mxd")'
expect_contains err.txt 'merx.data.load:'
expect_contains err.txt 'k.mxd: packed dataset holds pseudonyms of another store key'
expect_exit 1 "$MERX" run -e 'merx.data.read("p.mxd", {columns = "user=a"})'
expect_contains err.txt "p.mxd is a packed dataset (.mxd): option 'columns' does not apply to it"
expect_exit 1 "$MERX" run -e 'merx.data.load("cut.mxd")'
expect_contains err.txt 'cut.mxd: not a valid merx packed dataset'
