# The README's five-minute tour, run as written (on a copy of examples/),
# so the tour a newcomer reads is the tour that works.
cp -r "$MERX_SRC/examples" examples
rm -rf examples/outputs examples/runs.db*
sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$MERX_SRC/README.md" \
  | sed '/^```/d; /^<!--/d' | sed "s|^B=build/merx|B=\"\$MERX\"|" > tour.sh
grep -q '^B="\$MERX"' tour.sh || { echo "tour does not start with B=build/merx"; exit 1; }
expect_exit 0 bash -euo pipefail tour.sh
expect_contains out.txt "users          1000"
expect_contains out.txt "ndcg@10"
expect_contains out.txt '"gap"'
expect_contains out.txt "LANTERN"
expect_contains out.txt "sales-summary-uk"
test -s out/recs.csv && test -s out/orders.csv && test -s out/spring/offer.csv && test -s out/forecast.html
