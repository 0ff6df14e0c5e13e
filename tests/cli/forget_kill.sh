# merx forget killed (SIGKILL) between its steps (#19, "crash-safe like every
# other write"): at each window the store is before or after at every place,
# and a rerun finishes the erasure with no byte of the person left. The windows
# are hit exactly (MERX_TEST_FORGET_KILL_AT, cmd_forget.c), where privacy.sh's
# kills land at random moments.
awk 'BEGIN { srand(3); print "user,item"; for (r = 0; r < 3000; r++)
  printf "c%d,i%d\n", int(rand() * 300), int(rand() * 60) }' > d.csv
echo 'c7,i1' >> d.csv
mkdir -p st/models st/cache
(umask 077 && printf 'forget-kill-test-key-0123456789\n' > st/store.key)
for m in a b; do
  expect_exit 0 "$MERX" train --data d.csv --columns user=user,item=item --algo ials --epochs 1 \
    --factors 2 --threads 1 --seed 1 --store st --out "st/models/$m.mxm"
done
expect_exit 0 "$MERX" train --data d.csv --columns user=user,item=item --algo ials --epochs 1 \
  --factors 2 --threads 1 --out st/models/plain.mxm     # trained before the key: raw ids
expect_exit 0 "$MERX" run -e 'for i = 1, 300 do merx.emit("offer", {user = "c" .. i, reason = "r"}) end' \
  --store st --out o
pz=$(awk -F, 'NR > 1 { print $1 }' o/offer.csv | sort -u > all.txt
     "$MERX" explain --store st --user c7 | grep -o '"user":"[0-9a-f]\{32\}' | sed -n '1s/.*"//p')
[[ "$pz" =~ ^[0-9a-f]{32}$ ]] || { echo "FAIL: no pseudonym of c7: $pz"; exit 1; }
printf 'entry for %s\n' "$pz" > st/cache/q.emb
cp -r st template
has() { LC_ALL=C grep -r -a -l -w -F -e c7 -e "$pz" "$@" 2>/dev/null | grep -v erasures || true; }
[ -n "$(has st/models/a.mxm)" ] && [ -n "$(has st/models/plain.mxm)" ] && [ -n "$(has st/ledger.db*)" ]

for step in ledger marked model; do
  rm -rf st && cp -r template st
  MERX_TEST_FORGET_KILL_AT=$step expect_exit 137 "$MERX" forget --store st --user c7
  # before or after, place by place: the ledger opens and every model loads
  [ "$(sqlite3 st/ledger.db 'pragma integrity_check')" = ok ]
  for m in a b plain; do "$MERX" model info --model "st/models/$m.mxm" > /dev/null; done
  [ "$(sqlite3 st/ledger.db "select count(*) from decisions where user = '$pz'")" = 0 ]
  [ ! -d st/erasures ] || [ -z "$(ls st/erasures)" ]     # no receipt: the run did not finish
  case $step in
    ledger) [ -e st/cache/q.emb ] && [ ! -e st/retrain_due.txt ] ;;
    marked) [ "$(wc -l < st/retrain_due.txt)" = 1 ]
            m=$(cat st/retrain_due.txt); [ -n "$(has "st/$m")" ] ;;  # marked, not yet rewritten
    model)  [ "$(wc -l < st/retrain_due.txt)" = 1 ]
            m=$(cat st/retrain_due.txt); [ -z "$(has "st/$m")" ] ;;  # rewritten, the walk cut short
  esac
  [ -n "$(has st)" ]    # the person is still somewhere: the kill came mid-erasure
  expect_exit 0 "$MERX" forget --store st --user c7 --json
  expect_contains out.txt '"users":1'
  found=$(has st)
  [ -z "$found" ] || { echo "FAIL ($step): c7 still in: $found"; exit 1; }
  # every model that held the person is marked, the kill's and the rerun's alike
  [ "$(sort st/retrain_due.txt | tr '\n' ' ')" = "models/a.mxm models/b.mxm models/plain.mxm " ] ||
    { echo "FAIL ($step): retrain due: $(tr '\n' ' ' < st/retrain_due.txt)"; exit 1; }
  [ "$(ls st/erasures | wc -l)" = 1 ]
  # and the rest are still there
  [ "$(sqlite3 st/ledger.db 'select count(*) from decisions')" = 299 ]
done
