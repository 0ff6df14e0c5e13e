# The default model for explicit ratings (issue 21): on the committed synthetic
# sample (examples/data/ratings_sample.csv.gz, scripts/data/make_ratings_sample.py)
# it must stay clearly ahead of plain SGD mf, and a seed fixes it bit for bit
# whatever the thread count. About 2 CPU-s (Release). Under ASan the chains
# are cut to 20 sweeps and the accuracy bounds are not checked (the Release
# suite checks them).
EP=""
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) EP="--epochs 20" ;; esac
S="$MERX_SRC/examples/data/ratings_sample.csv.gz"
C="user=user,item=item,value=rating"
expect_exit 0 "$MERX" split --data "$S" --columns "$C" --random 0.2 --seed 1 --train tr.csv --test te.csv

# no --algo on ratings: bpmf, and its test RMSE. Measured when this was
# written: 0.898 (seeds 2, 3: 0.891, 0.904); mf's defaults 0.952, the
# 300-sweep random-start chain 0.887. Above 0.925 is a clear regression.
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" $EP --seed 1 --threads 1 --test te.csv --out a.mxm --json
expect_contains out.txt '"algo":"bpmf"'
expect_contains err.txt "no --algo given: bpmf"
[ -n "$EP" ] || python3 -c 'import json,sys; r=json.load(open("out.txt"))["test_rmse"]; print("default test RMSE %.4f" % r); sys.exit(0 if r <= 0.925 else 1)' \
  || { echo "FAIL: the default model for ratings regressed: $(cat out.txt)"; exit 1; }
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" --algo mf $EP --threads 1 --test te.csv --out mf.mxm --json
[ -n "$EP" ] || python3 -c 'import json,sys; r=json.load(open("out.txt"))["test_rmse"]; print("mf test RMSE %.4f" % r); sys.exit(0 if 0.9 < r < 1.05 else 1)' \
  || { echo "FAIL: mf off its measured 0.952: $(cat out.txt)"; exit 1; }

# the same seed on two threads gives the same bytes; another seed does not
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" $EP --seed 1 --threads 2 --out b.mxm
cmp a.mxm b.mxm || { echo "FAIL: bpmf depends on the thread count"; exit 1; }
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" $EP --seed 2 --threads 2 --out c.mxm
if cmp -s a.mxm c.mxm; then echo "FAIL: the seed does not reach the model"; exit 1; fi
# mf: same seed and threads -> same bytes
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" --algo mf $EP --seed 3 --threads 2 --out m1.mxm
expect_exit 0 "$MERX" train --data tr.csv --columns "$C" --algo mf $EP --seed 3 --threads 2 --out m2.mxm
cmp m1.mxm m2.mxm || { echo "FAIL: mf is not deterministic for a seed and thread count"; exit 1; }
# values on a scale where mf's SGD step diverges: bpmf does not need its warm
# start and still trains (from random factors), while mf says it diverged
zcat "$S" | awk -F, 'NR > 1 { print $1 "," $2 "," $3 * 1000 }' > big.csv
expect_exit 0 "$MERX" train --data big.csv --no-header --columns user=1,item=2,value=3 --algo bpmf --epochs 5 --out big.mxm
expect_exit 1 "$MERX" train --data big.csv --no-header --columns user=1,item=2,value=3 --algo mf --epochs 5 --out bigmf.mxm
expect_contains err.txt "mf diverged"
