#!/usr/bin/env bash
# The main job on the bundled example data: installs missing Debian packages,
# builds merx (Release) and runs the pipeline on examples/data, writing every
# output under out/demo/.
source "$(dirname "$0")/lib.sh"
merx_install_packages "${MERX_PACKAGES[@]}"
cd "$MERX_ROOT"
merx_build build -DCMAKE_BUILD_TYPE=Release -DMERX_SANITIZE=OFF
B="$MERX_ROOT/build/merx"
D="$MERX_ROOT/examples/data"
OUT="$MERX_ROOT/out/demo"
mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }

step "1. What is in the example purchases? (merx data stats)"
"$B" data stats --data "$D/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate --top 5
"$B" data stats --data "$D/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate --json > "$OUT/stats.json"

step "Done. Outputs are in $OUT:"
ls -l "$OUT" >&2
