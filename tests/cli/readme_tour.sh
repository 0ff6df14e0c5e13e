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

# The "Measure a campaign" tour, the same way.
sed -n '/<!-- measure-tour:begin -->/,/<!-- measure-tour:end -->/p' "$MERX_SRC/README.md" \
  | sed '/^```/d; /^<!--/d' | sed "s|^B=build/merx|B=\"\$MERX\"|" > measure_tour.sh
grep -q '^B="\$MERX"' measure_tour.sh || { echo "measure tour does not start with B=build/merx"; exit 1; }
cp -r "$MERX_SRC/scripts" scripts
expect_exit 0 bash -euo pipefail measure_tour.sh
expect_contains out.txt "sample-ratio check"
expect_contains out.txt "Mens E-Mail"
expect_contains out.txt "qini"
test -s out/measure.html && test -s out/hillstrom.html && test -s out/uplift.html && test -s out/persuadable.csv
