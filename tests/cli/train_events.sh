# Event data (view / cart / purchase rows): without --algo merx trains an
# implicit model and says which; event weights in Lua train the same model as
# the CLI's --event-weights.
# a small event log: users browse items of their taste group; carts and purchases are rarer
awk 'BEGIN { srand(11); print "user,item,event";
  for (u = 0; u < 120; u++) { g = u % 3;
    for (q = 0; q < 12; q++) { i = g * 20 + int(rand() * 20); r = rand();
      e = r < 0.6 ? "view" : (r < 0.85 ? "cart" : "purchase");
      printf "u%d,i%d,%s\n", u, i, e } }
  for (q = 0; q < 200; q++) printf "u%d,i%d,view\n", int(rand() * 120), int(rand() * 60) }' > events.csv
EV="user=user,item=item,event=event"

# #15.8: an event column and no --algo -> ials, on stderr and in --json
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --factors 8 --epochs 5 --threads 1 --out ev.mxm --json
expect_contains out.txt '"algo":"ials"'
expect_contains err.txt "no --algo given: ials"
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --factors 8 --epochs 5 --threads 1 --out ev.mxm
expect_contains out.txt "trained ials"
# the scores of a user are not all tied
expect_exit 0 "$MERX" recommend --model ev.mxm --user u1 --k 5 --out rec.csv
test "$(tail -n +2 rec.csv | cut -d, -f4 | sort -u | wc -l)" -eq 5 || { echo "FAIL: tied scores"; cat rec.csv; exit 1; }
# a value column without events keeps explicit mf (and says so)
awk -F, 'NR == 1 { print "user,item,rating"; next } { print $1 "," $2 "," (NR % 5 + 1) }' events.csv > ratings.csv
expect_exit 0 "$MERX" train --data ratings.csv --columns user=user,item=item,value=rating --epochs 2 --out r.mxm --json
expect_contains out.txt '"algo":"mf"'
expect_contains err.txt "no --algo given: mf"
# an explicit --algo is taken as given, without the note
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --algo bpr --factors 4 --epochs 1 --out b.mxm --json
expect_contains out.txt '"algo":"bpr"'
if grep -q "no --algo" err.txt; then echo "FAIL: note printed with --algo"; exit 1; fi
