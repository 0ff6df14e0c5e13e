# merx train / eval / split end to end on the example purchases and on a
# generated ratings file; bad input exits with one precise line.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"

# split the purchases 80/20 by (user, item) pair, train iALS and EASE, evaluate
expect_exit 0 "$MERX" split --data "$P" --columns "$COLS" --random 0.2 --seed 1 --train tr.csv --test te.csv
expect_contains out.txt "train "
head -1 tr.csv | grep -q '^InvoiceNo,StockCode' || { echo "FAIL: header not kept"; exit 1; }
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo ials --factors 16 --epochs 5 --out ials.mxm --json
for k in '"algo":"ials"' '"users":' '"items":' '"interactions":' '"seconds":' '"epochs":5'; do expect_contains out.txt "$k"; done
expect_exit 0 "$MERX" eval --model ials.mxm --test te.csv --columns "$COLS" --k 10 --json
for k in '"precision@10":' '"recall@10":' '"ndcg@10":' '"map@10":' '"hit_rate@10":' '"auc":' '"users":' '"unknown":'; do expect_contains out.txt "$k"; done
# a real model beats chance: AUC well above 0.5
python3 -c 'import json,sys; d=json.load(open("out.txt")); sys.exit(0 if d["auc"] > 0.7 and d["ndcg@10"] > 0.02 else 1)' \
  || { echo "FAIL: weak iALS metrics: $(cat out.txt)"; exit 1; }
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo ease --out ease.mxm
expect_exit 0 "$MERX" eval --model ease.mxm --test te.csv --columns "$COLS"
expect_contains out.txt "ndcg@10"
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo bpr --factors 8 --epochs 3 --threads 1 --out bpr.mxm

# same seed and threads -> byte-identical model files
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo ials --factors 16 --epochs 5 --threads 2 --seed 3 --out a.mxm
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo ials --factors 16 --epochs 5 --threads 2 --seed 3 --out b.mxm
cmp a.mxm b.mxm

# explicit ratings: a generated rank-2 matrix with noise, tab-separated, no header
awk 'BEGIN { srand(5); for (u = 0; u < 200; u++) { a = rand() - 0.5; b = rand() - 0.5;
  for (q = 0; q < 30; q++) { i = int(rand() * 100); v = 3 + 4 * (a * ((i % 7) / 7 - 0.5) + b * ((i % 5) / 5 - 0.5)) + (rand() - 0.5) * 0.5;
  printf "%d\t%d\t%.2f\t%d\n", u, i, v, 1000000 + u * 100 + q } } }' > ratings.tsv
RC="user=1,item=2,value=3,time=4"
expect_exit 0 "$MERX" split --data ratings.tsv --no-header --columns "$RC" --time 0.2 --train rtr.tsv --test rte.tsv
for algo in mf als bpmf; do
  expect_exit 0 "$MERX" train --data rtr.tsv --no-header --columns "$RC" --algo $algo --factors 4 --epochs 20 --test rte.tsv --out $algo.mxm --json
  expect_contains out.txt '"test_rmse":'
  expect_contains out.txt '"test_mae":'
  expect_exit 0 "$MERX" eval --model $algo.mxm --test rte.tsv --no-header --columns "$RC" --json
  expect_contains out.txt '"rmse":'
  expect_contains out.txt '"n":'
done
# warm start from a model of the same shape
expect_exit 0 "$MERX" train --data rtr.tsv --no-header --columns "$RC" --algo als --factors 4 --epochs 2 --init als.mxm --out warm.mxm

# bad input
expect_exit 2 "$MERX" train --data rtr.tsv --no-header --columns "$RC" --algo mf --factors 0 --out x.mxm
expect_contains err.txt "--factors"
expect_exit 2 "$MERX" train --data rtr.tsv --no-header --columns "$RC" --algo mf --reg -1 --out x.mxm
expect_exit 2 "$MERX" train --data rtr.tsv --no-header --columns "$RC" --algo nope --out x.mxm
expect_contains err.txt "unknown algorithm"
printf 'u\ti\tv\n1\t2\t4\n1\t3\tNaN\n' > nan.tsv
expect_exit 1 "$MERX" train --data nan.tsv --columns user=u,item=i,value=v --algo mf --out x.mxm
expect_contains err.txt "nan.tsv:3:3"
expect_exit 1 "$MERX" train --data tr.csv --columns "$COLS" --algo mf --out x.mxm
expect_contains err.txt "value column"
printf 'u,i\n' > empty.csv
expect_exit 1 "$MERX" train --data empty.csv --columns user=u,item=i --algo ials --out x.mxm
expect_contains err.txt "empty.csv"
expect_exit 1 "$MERX" train --data missing.csv --algo ials --out x.mxm
expect_contains err.txt "missing.csv"
test ! -e x.mxm || { echo "FAIL: a failed train left an output"; exit 1; }
head -c 1000 ials.mxm > cut.mxm
expect_exit 1 "$MERX" eval --model cut.mxm --test te.csv --columns "$COLS"
expect_contains err.txt "cut.mxm"
expect_contains err.txt "truncated"
cp tr.csv notamodel.mxm
expect_exit 1 "$MERX" eval --model notamodel.mxm --test te.csv --columns "$COLS"
expect_contains err.txt "not a valid merx model file"
expect_exit 2 "$MERX" split --data ratings.tsv --no-header --columns "$RC" --train a --test b
expect_exit 1 "$MERX" split --data tr.csv --columns "$COLS" --time 0.2 --train a --test b
expect_contains err.txt "time column"

# .npy export and import: the imported model ranks exactly like the original
expect_exit 0 "$MERX" model export --model ials.mxm --out exp
for f in user_factors.npy item_factors.npy user_ids.txt item_ids.txt; do test -s exp/$f || { echo "FAIL: exp/$f"; exit 1; }; done
expect_exit 0 "$MERX" model import --user-factors exp/user_factors.npy --item-factors exp/item_factors.npy \
  --user-ids exp/user_ids.txt --item-ids exp/item_ids.txt --data tr.csv --columns "$COLS" --out imp.mxm
expect_exit 0 "$MERX" eval --model ials.mxm --test te.csv --columns "$COLS" --json
sed 's/"seconds":[^,}]*//; s/"algo":"[a-z]*"//' out.txt > m1.txt
expect_exit 0 "$MERX" eval --model imp.mxm --test te.csv --columns "$COLS" --json
sed 's/"seconds":[^,}]*//; s/"algo":"[a-z]*"//' out.txt > m2.txt
cmp m1.txt m2.txt
expect_exit 0 "$MERX" model info --model imp.mxm --json
expect_contains out.txt '"kind":"imported"'
head -n 3 exp/item_ids.txt > exp/short_ids.txt
expect_exit 1 "$MERX" model import --user-factors exp/user_factors.npy --item-factors exp/item_factors.npy \
  --user-ids exp/user_ids.txt --item-ids exp/short_ids.txt --out bad.mxm
expect_contains err.txt "short_ids.txt"
expect_exit 1 "$MERX" model import --user-factors exp/user_ids.txt --item-factors exp/item_factors.npy \
  --user-ids exp/user_ids.txt --item-ids exp/item_ids.txt --out bad.mxm
expect_contains err.txt "not a .npy file"
# an explicit model evaluated without a rating column is an error, not a fake RMSE
expect_exit 1 "$MERX" eval --model mf.mxm --test rte.tsv --no-header --columns user=1,item=2
expect_contains err.txt "value="
# --tune picks values on a slice of the training data and reports them
expect_exit 0 "$MERX" train --data tr.csv --columns "$COLS" --algo ials --factors 8 --epochs 3 --tune --out tuned.mxm --json
expect_contains out.txt '"tuned":{"reg":'

# SGD that diverges on unscaled values is an error, not a model of NaNs
expect_exit 1 "$MERX" train --data "$MERX_SRC/examples/data/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode,value=Quantity --algo mf --out diverged.mxm
expect_contains err.txt "mf diverged in epoch"
[ ! -e diverged.mxm ] || { echo "a diverged model must not be written"; exit 1; }
# the same for bpr (checked once the trainer returns, for every algorithm)
expect_exit 1 "$MERX" train --data "$MERX_SRC/examples/data/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode --algo bpr --lr 1000 --epochs 3 --out diverged.mxm
expect_contains err.txt "bpr diverged: "
expect_contains err.txt "model values are not finite; lower --lr (now 1000)"
[ ! -e diverged.mxm ] || { echo "a diverged bpr model must not be written"; exit 1; }
