# The store: one ledger for every run, slot and command (--store DIR /
# MERX_STORE / a schedule file's store = "DIR"), lineage of every commit, and
# concurrent commits that serialise.
EX="$MERX_SRC/examples"
users() { tail -n +2 "$1" | cut -d, -f1 | sort -u; }

# ---- #15.1: the example campaign on two nights, `merx run --store`
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-10 --store st --out n1
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-11 --store st --out n2
[ -f st/ledger.db ] && [ ! -e n1/decisions.db ]
n1=$(users n1/offer.csv | wc -l)
[ "$n1" -gt 20 ]
[ -z "$(comm -12 <(users n1/offer.csv) <(users n2/offer.csv))" ] \
  || { echo "night 2 offered again to users contacted on night 1"; exit 1; }
[ "$(sqlite3 st/ledger.db 'select count(*) from decisions')" = \
  "$(( $(tail -n +2 n1/offer.csv | wc -l) + $(tail -n +2 n2/offer.csv | wc -l) ))" ]
[ "$(sqlite3 st/ledger.db 'pragma journal_mode')" = wal ]
[ "$(sqlite3 st/ledger.db 'pragma user_version')" -ge 1 ]
# MERX_STORE is the default store
MERX_STORE=st expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-12 --out n3
[ -z "$(comm -12 <(users n1/offer.csv) <(users n3/offer.csv))" ]
expect_exit 2 "$MERX" run "$EX/spring_campaign.lua" --store st --log x.db
# a dry run reads the store (night 1 is skipped) and creates nothing
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-11 --store st --dry-run
[ -z "$(comm -12 <(users n1/offer.csv) <(grep -v '^#' out.txt | grep , | users /dev/stdin))" ]
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-11 --store nostore --dry-run
[ ! -e nostore ]
# the store folder never holds a run's outputs
expect_exit 1 "$MERX" run "$EX/spring_campaign.lua" --store st --out st/out
expect_contains err.txt "store"
[ ! -e st/out ]

# ---- lineage: merx version, script sha256, every file the script opened
u=$(users n1/offer.csv | head -1)
expect_exit 0 "$MERX" explain --store st --user "$u"
expect_contains out.txt "merx $("$MERX" version | awk '{print $2}')"
expect_contains out.txt "$(sha256sum "$EX/spring_campaign.lua" | cut -d' ' -f1)"
expect_contains out.txt "$(sha256sum "$EX/data/purchases.csv.gz" | cut -d' ' -f1)"
expect_contains out.txt "purchases.csv.gz"
expect_exit 0 "$MERX" explain --store st --user "$u" --json
expect_contains out.txt '"inputs":[{"path":'
expect_contains out.txt "\"sha256\":\"$(sha256sum "$EX/data/purchases.csv.gz" | cut -d' ' -f1)\""
expect_contains out.txt '"merx_version":'
MERX_STORE=st expect_exit 0 "$MERX" explain --user "$u"
expect_exit 2 env -u MERX_STORE "$MERX" explain --user "$u"
# a model file opened by the script is in the lineage too
expect_exit 0 "$MERX" train --data "$EX/data/purchases.csv.gz" --columns user=CustomerID,item=StockCode \
  --algo ials --factors 8 --epochs 2 --out m.mxm
mkdir -p mdir && cp m.mxm mdir/
cat > mdir/use_model.lua <<'LUA'
local m = merx.model.load("m.mxm")
merx.emit("offer", { user = "model-user", offer = "A", reason = "model loaded" })
LUA
expect_exit 0 "$MERX" run mdir/use_model.lua --store st --out n4
expect_exit 0 "$MERX" explain --store st --user model-user
expect_contains out.txt "$(sha256sum m.mxm | cut -d' ' -f1)"

# the prices of --duals are in the lineage too
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-10 --solve duals.txt --shards 2
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-10 --shard 0/2 --duals duals.txt \
  --store dstore --out d0
expect_exit 0 "$MERX" explain --store dstore --user "$(users d0/offer.csv | head -1)" --json
expect_contains out.txt "\"sha256\":\"$(sha256sum duals.txt | cut -d' ' -f1)\""

# ---- #15.1 under the scheduler: examples/campaign_schedule.lua (store =
# "store") on two nights; the contact cap holds across slots
cp -r "$EX" ex
rm -rf ex/store ex/outputs ex/runs.db*
expect_exit 0 "$MERX" schedule ex/campaign_schedule.lua --once --now 2011-12-10T03:00:05Z
expect_exit 0 "$MERX" schedule ex/campaign_schedule.lua --once --now 2011-12-11T03:00:05Z
s1=ex/outputs/spring-coupons/2011-12-10T03-00-00Z/offer.csv
s2=ex/outputs/spring-coupons/2011-12-11T03-00-00Z/offer.csv
[ -f "$s1" ] && [ -f "$s2" ] && [ -f ex/store/ledger.db ] && [ ! -e "${s1%/*}/decisions.db" ]
[ "$(users "$s1" | wc -l)" -gt 20 ]
[ -z "$(comm -12 <(users "$s1") <(users "$s2"))" ] \
  || { echo "scheduled night 2 offered again to users contacted on night 1"; exit 1; }
# a rerun of night 2 still sees night 1 (its own earlier rows too: nothing new)
expect_exit 0 "$MERX" schedule ex/campaign_schedule.lua --rerun spring-coupons --slot 2011-12-11T03:00:00Z
[ -z "$(comm -12 <(users "$s1") <(users "$s2"))" ]
# merx runs reads the same store (schedule file, folder or --store)
expect_exit 0 "$MERX" runs ex/campaign_schedule.lua
[ "$(grep -c success out.txt)" -eq 3 ]
expect_exit 0 "$MERX" runs ex/store
[ "$(grep -c success out.txt)" -eq 3 ]
expect_exit 0 "$MERX" runs --store ex/store --json
expect_contains out.txt '"status":"success"'
MERX_STORE=ex/store expect_exit 0 "$MERX" runs
[ "$(grep -c success out.txt)" -eq 3 ]
expect_exit 0 "$MERX" explain --store ex/store --user "$(users "$s1" | head -1)"
# a schedule file without `store` uses MERX_STORE and passes it to its runs
cat > envsched.lua <<LUA
return { outputs = "env_out", jobs = {
  { name = "spring", cron = "30 2 * * *", tz = "UTC", script = "$EX/spring_campaign.lua" } } }
LUA
MERX_STORE=st expect_exit 0 "$MERX" schedule envsched.lua --once --now 2011-12-13T02:30:05Z
[ -z "$(comm -12 <(users n1/offer.csv) <(users env_out/spring/2011-12-13T02-30-00Z/offer.csv))" ]
MERX_STORE=st expect_exit 0 "$MERX" runs envsched.lua
expect_contains out.txt "spring"
# the old meaning of a .db store is kept: run history only, logs per slot
cat > old.lua <<LUA
return { store = "old.db", outputs = "old_out", jobs = {
  { name = "spring", cron = "30 2 * * *", tz = "UTC", script = "$EX/spring_campaign.lua" } } }
LUA
expect_exit 0 env -u MERX_STORE "$MERX" schedule old.lua --once --now 2011-12-10T02:30:05Z
[ -f old.db ] && [ -f old_out/spring/2011-12-10T02-30-00Z/decisions.db ]
# --store on the command line wins over the file's `store`
expect_exit 0 env -u MERX_STORE "$MERX" schedule old.lua --once --now 2011-12-11T02:30:05Z --store flag
[ -f flag/ledger.db ] && [ ! -e old_out/spring/2011-12-11T02-30-00Z/decisions.db ]
[ -f old_out/spring/2011-12-11T02-30-00Z/offer.csv ]
expect_exit 0 "$MERX" runs --store flag
expect_contains out.txt "success"

# ---- 4 writer processes commit at once: every row lands
cat > writer.lua <<'LUA'
for i = 1, 500 do
  merx.emit("offer", { user = merx.params.w .. "-" .. i, offer = "A", reason = "writer " .. merx.params.w })
end
LUA
pids=()
for w in 1 2 3 4; do
  "$MERX" run writer.lua --store conc --out "w$w" --set w=$w >"w$w.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { cat w*.log; exit 1; }; done
[ "$(sqlite3 conc/ledger.db 'select count(*), count(distinct user) from decisions')" = "2000|2000" ]
[ "$(sqlite3 conc/ledger.db 'select count(*) from commits')" = 4 ]
