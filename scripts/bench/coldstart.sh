#!/usr/bin/env bash
# Cold-start benchmark on UCI Online Retail (full CSV in ../shared/data).
#
# Protocol (see scripts/bench/coldstart_prep.py): 10% of the items are new;
# the base iALS model never sees them; their text (Description) is embedded
# with the built-in embedder and mapped into the base model's factor space by
# ridge regression (merx coldstart map). Each test user (who bought new items
# in the held-out half of the new items' purchases) is shown only the new
# items. The hybrid row adds `--shrink 5` to the fully trained model (factors
# of items with few buyers pulled towards their mapped ones, and the new items
# that had no purchase in its half mapped). Anchors in the same run: the fully trained model (same iALS settings,
# trained on the warm purchases plus the other half of the new items'
# purchases), popularity of the new items in that half, and random order.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$(git -C "$ROOT" rev-parse --show-toplevel)/../shared/data/online-retail/online-retail.csv.gz"
if [ ! -f "$DATA" ]; then
  echo "coldstart bench: $DATA is missing (needs ../shared/data/online-retail); nothing measured" >&2
  exit 1
fi
source "$ROOT/scripts/lib.sh"
BUILD="${MERX_BENCH_BUILD:-$ROOT/build-bench}"
merx_build "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMERX_BUILD_TESTS=OFF
MERX="$BUILD/merx"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/merx-coldstart-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
REG="${REG:-1}"
COLS="user=customer_id,item=stock_code"

echo "==> preparing splits from $DATA" >&2
python3 "$ROOT/scripts/bench/coldstart_prep.py" "$DATA" "$WORK" > "$WORK/prep.json"
cd "$WORK"
t0=$(date +%s.%N)
"$MERX" train --data warm.csv --columns "$COLS" --algo ials --seed 42 --out base.mxm --json > base.json
"$MERX" train --data full_train.csv --columns "$COLS" --algo ials --seed 42 --out full.mxm --json > full.json
"$MERX" embed --data products.csv --columns id=StockCode,text=Description --out item_text.npy --json > embed.json
"$MERX" coldstart map --model base.mxm --embeddings item_text.npy --reg "$REG" --out mapped.mxm --json > map.json
"$MERX" coldstart map --model full.mxm --embeddings item_text.npy --reg "$REG" --shrink 5 \
  --out hybrid.mxm --json > map_hybrid.json
for m in mapped full hybrid; do
  "$MERX" coldstart eval --model $m.mxm --test cold_test.csv --columns "$COLS" \
    --candidates cold_items.txt --k 10 --json > eval_$m.json
done
python3 - "$REG" <<'PY'
import json, sys
j = lambda f: json.load(open(f))
prep, emb, mp = j("prep.json"), j("embed.json"), j("map.json")
base, full = j("base.json"), j("full.json")
print(f"Online Retail cold start: {prep['items']} items, {prep['cold_items']} new (10%), "
      f"{prep['warm_pairs']} warm pairs, new-item pairs {prep['cold_train_pairs']} seen by the "
      f"full model / {prep['cold_test_pairs']} test")
print(f"built-in embedder: {emb['items']} descriptions in {emb['seconds']:.2f} s; "
      f"ridge map (lambda {sys.argv[1]}) fitted on {mp['items_fit']} items, R^2 {mp['r2_train']:.3f}, "
      f"{mp['seconds']:.2f} s; iALS train {base['seconds']:.1f} s (base), {full['seconds']:.1f} s (full)")
print()
print("| ranking the new items for each test user | users | P@10 | R@10 | NDCG@10 | HR@10 |")
print("| --- | --- | --- | --- | --- | --- |")
rows = [("mapped text embeddings (no purchase of the new items)", j("eval_mapped.json")),
        ("fully trained iALS (saw half the new items' purchases)", j("eval_full.json")),
        ("hybrid: fully trained, sparse items shrunk to mapped (--shrink 5), unseen ones mapped", j("eval_hybrid.json")),
        ("popularity of the new items in that half", prep["popularity"]),
        ("random order", prep["random"])]
for name, m in rows:
    g = lambda key: m.get(key + "@10", m.get(key))
    print(f"| {name} | {m['users']} | {g('precision'):.4f} | {g('recall'):.4f} | {g('ndcg'):.4f} | {g('hit_rate'):.4f} |")
PY
