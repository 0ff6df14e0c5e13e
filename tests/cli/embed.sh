# merx embed / search / coldstart from the command line: built-in embedder on
# the example products, a real HTTP server (tests/net/fake_openai.py on
# 127.0.0.1) for --server, the cache, and errors.
P="$MERX_SRC/examples/data/products.csv"

# --- built-in embedder (default, offline)
expect_exit 0 "$MERX" embed --data "$P" --columns id=StockCode,text=Description --out item_text.npy --json
expect_contains out.txt '"items":3314'
expect_contains out.txt '"dim":256'
expect_contains out.txt '"embedder":"builtin"'
[ "$(wc -l < item_text.ids)" -eq 3314 ]
[ "$(head -1 item_text.ids)" = "10002" ]
expect_contains item_text.meta.json '"embedder":"builtin:d256:c3-5:b1:s0.50:h0"'
# 3314 x 256 float32 plus a 128-byte header
[ "$(stat -c %s item_text.npy)" -eq $((128 + 3314 * 256 * 4)) ]
cp item_text.npy first.npy
"$MERX" embed --data "$P" --columns id=StockCode,text=Description --out item_text.npy --threads 1 2>/dev/null
cmp item_text.npy first.npy   # deterministic

# --- search
expect_exit 0 "$MERX" search --index item_text.npy "white metal lantern" --k 3
expect_contains out.txt "query,rank,item,score"
expect_contains out.txt "white metal lantern,1,71053,1.000000"
expect_exit 0 "$MERX" search --index item_text.npy "cake stand" "red retrospot bag" --k 5 --out hits.csv
[ "$(wc -l < hits.csv)" -eq 11 ]
expect_exit 0 "$MERX" search --index item_text.npy "lantern" --json
expect_contains out.txt '"results":['
expect_exit 2 "$MERX" search --index item_text.npy
expect_contains err.txt "give at least one QUERY"
expect_exit 1 "$MERX" search --index missing.npy "x"
expect_contains err.txt "missing.meta.json"

# --- usage and input errors
expect_exit 2 "$MERX" embed --data "$P" --out x.npy
expect_contains err.txt "--columns is required"
expect_exit 2 "$MERX" embed --data "$P" --columns id=StockCode --out x.npy
expect_contains err.txt "text=COLUMN"
expect_exit 1 "$MERX" embed --data "$P" --columns id=StockCode,text=Nope --out x.npy
expect_contains err.txt "Nope"
printf 'StockCode,Description\nA1,red lantern\nA2\n' > short.csv
expect_exit 1 "$MERX" embed --data short.csv --columns id=StockCode,text=Description --out x.npy
expect_contains err.txt "short.csv:3:"
[ ! -e x.npy ]

# --- a real (fake) OpenAI-compatible server on 127.0.0.1
python3 "$MERX_SRC/tests/net/fake_openai.py" --idle 60 > port.txt &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
PORT=$(head -1 port.txt)
head -40 "$P" > p40.csv
expect_exit 0 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out srv.npy \
  --server "http://127.0.0.1:$PORT/ok/v1" --model fake-embed --batch 8 --cache cache --json
expect_contains out.txt '"items":39'
expect_contains out.txt '"dim":8'
expect_contains out.txt '"sent":38'   # one description repeats: sent once
expect_contains srv.meta.json '"embedder":"openai"'
expect_contains srv.meta.json '"model":"fake-embed"'
# A rerun sends nothing new.
expect_exit 0 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out srv2.npy \
  --server "http://127.0.0.1:$PORT/ok/v1" --model fake-embed --batch 8 --cache cache --json
expect_contains out.txt '"sent":0'
cmp srv.npy srv2.npy
# Search embeds the query with the index's server and model.
expect_exit 0 "$MERX" search --index srv.npy "$(sed -n 2p p40.csv | cut -d, -f2)" --k 1 --cache cache
expect_contains out.txt ",1,$(sed -n 2p p40.csv | cut -d, -f1),1.000000"
# The same settings from a config file and the environment.
printf '{"base_url": "http://127.0.0.1:%s/ok/v1", "model": "fake-embed", "cache_dir": "cache"}\n' "$PORT" > llm.json
MERX_LLM_CONFIG=llm.json expect_exit 0 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out cfg.npy --json
expect_contains out.txt '"sent":0'
cmp srv.npy cfg.npy
# Faults: bounded retries, a clear error, no output and no cache entry.
expect_exit 1 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out bad.npy \
  --server "http://127.0.0.1:$PORT/500/v1" --model fake-embed --retries 1 --cache cache500
expect_contains err.txt "HTTP 500 after 2 attempts"
[ ! -e bad.npy ] && [ ! -e cache500 ]
expect_exit 1 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out bad.npy \
  --server "http://127.0.0.1:$PORT/wrongdim/v1" --model fake-embed --no-cache
expect_contains err.txt "wrong embedding dimension"
[ ! -e bad.npy ]
MY_KEY=sk-do-not-print expect_exit 1 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description \
  --out bad.npy --server "http://127.0.0.1:$PORT/auth/v1" --model fake-embed --key-env MY_KEY --no-cache
expect_contains err.txt "HTTP 401"
! grep -q "sk-do-not-print" err.txt out.txt
expect_exit 1 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out bad.npy \
  --server "http://127.0.0.1:$PORT/ok/v1" --model m --key-env UNSET_KEY_VAR_X
expect_contains err.txt "UNSET_KEY_VAR_X"
expect_exit 2 "$MERX" embed --data p40.csv --columns id=StockCode,text=Description --out bad.npy \
  --server "http://127.0.0.1:$PORT/ok/v1"
expect_contains err.txt "--model"
kill $SERVER

# --- cold start: map new items into a trained model, then rank them
if "$MERX" train --help >/dev/null 2>&1; then
  zcat "$MERX_SRC/examples/data/purchases.csv.gz" | awk -F, 'NR == 1 || $2 !~ /^2[01]/' > warm.csv
  expect_exit 0 "$MERX" train --data warm.csv --columns user=CustomerID,item=StockCode --algo ials \
    --factors 16 --epochs 5 --out base.mxm
  expect_exit 0 "$MERX" coldstart map --model base.mxm --embeddings item_text.npy --out mapped.mxm --json
  expect_contains out.txt '"items_added":'
  zcat "$MERX_SRC/examples/data/purchases.csv.gz" | awk -F, 'NR == 1 || $2 ~ /^2[01]/' > cold_test.csv
  tail -n +2 cold_test.csv | cut -d, -f2 | sort -u > cold_items.txt
  expect_exit 0 "$MERX" coldstart eval --model mapped.mxm --test cold_test.csv \
    --columns user=CustomerID,item=StockCode --candidates cold_items.txt --json
  expect_contains out.txt '"recall@10":'
  expect_exit 0 "$MERX" search --index item_text.npy "red lantern" --model mapped.mxm \
    --user "$(sed -n 2p warm.csv | cut -d, -f7)" --alpha 0.5 --k 3
  expect_contains out.txt "red lantern,3,"
  expect_exit 1 "$MERX" search --index item_text.npy "red lantern" --model mapped.mxm --user nobody
  expect_contains err.txt "unknown user 'nobody'"
fi
