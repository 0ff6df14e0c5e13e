# The --plot pages of merx forecast and backtest (issue #22, "planner-grade
# pictures"): checked by plot_pages.py (html.parser): the search box, axes with
# dated ticks, the 80/95% fan, tooltips, and ids with markup characters and
# non-UTF-8 bytes escaped; --plot-window bounds the history drawn.
D="$MERX_SRC/examples/data"
PY="$MERX_SRC/tests/cli/plot_pages.py"
# ids: A<b>&"q"' (markup), caf\xe9 (Latin-1, not UTF-8), plain-1
IDS=("A<b>&\"q\"'" $'caf\xe9 latin-1' "plain-1")
expect_exit 0 "$MERX" forecast --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 6 --out fc.csv --plot fc.html
python3 "$PY" forecast fc.html "${IDS[@]}"
expect_contains fc.html 'backtest (auto refitted on all but the last 6 periods): WAPE'
# --plot-window 20: 20 periods of history + 6 forecast
expect_exit 0 "$MERX" forecast --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 6 --out fc.csv --plot fcw.html --plot-window 20
python3 "$PY" forecast fcw.html --window=26 "${IDS[@]}"
# --plot-max 2: two panels and a note
expect_exit 0 "$MERX" forecast --data "$D/plot_ids.csv" --format long --freq day \
  --horizon 14 --out fc.csv --plot fcd.html --plot-max 2
python3 "$PY" forecast fcd.html "${IDS[@]:0:2}"
expect_contains fcd.html 'Only the first 2 series are drawn'

expect_exit 0 "$MERX" backtest --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 4 --methods ets,snaive --origins 2 --plot bt.html
python3 "$PY" backtest bt.html "${IDS[@]}"
expect_contains bt.html 'WAPE by horizon'
expect_contains bt.html '<td>snaive</td>'

# merx plan --plot from a weekly history: dated projected stock, bands, rules
expect_exit 0 "$MERX" plan --stock "$D/plot_stock.csv" --history "$D/plot_ids.csv" \
  --format long --freq week --horizon 8 --out orders.csv --plot plan.html
python3 "$PY" plan plan.html --window=9 "${IDS[@]}"
expect_contains plan.html 'safety stock'
expect_contains plan.html 'arrives'

# a page that cannot be written leaves no other output either (all or none)
expect_exit 1 "$MERX" forecast --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 6 --out fc_none.csv --plot nodir/fc.html
[ ! -e fc_none.csv ] || { echo "FAIL: forecast wrote fc_none.csv without its page"; exit 1; }
expect_exit 1 "$MERX" backtest --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 4 --methods ets --origins 1 --out bt_none.csv --plot nodir/bt.html
[ ! -e bt_none.csv ] || { echo "FAIL: backtest wrote bt_none.csv without its page"; exit 1; }
expect_exit 1 "$MERX" plan --stock "$D/plot_stock.csv" --history "$D/plot_ids.csv" \
  --format long --freq week --horizon 8 --out orders_none.csv --plot nodir/plan.html
[ ! -e orders_none.csv ] || { echo "FAIL: plan wrote orders_none.csv without its page"; exit 1; }
