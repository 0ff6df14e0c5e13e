# merx uplift: train (both learners, JSON keys, HTML report), score, the
# scores as value in `merx allocate` and in the campaign DSL, bad input.

data="$MERX_SRC/examples/data/hillstrom_sample.csv.gz"
cols="treatment=segment,outcome=visit"
feats="recency,history,mens,womens,zip_code,newbie,channel"
arms=(--treatment "Womens E-Mail" --control "No E-Mail")

expect_exit 0 "$MERX" uplift train --data "$data" --columns "$cols" "${arms[@]}" --features "$feats" \
  --out t.mxu --html report.html --json --seed 3
for k in learner outcome_kind treatment_arm control_arm rows rows_other_arms train test features \
         propensity ate qini qini_lo95 qini_hi95 auuc auuc_lo95 auuc_hi95 random_area bootstrap seconds; do
  expect_contains out.txt "\"$k\":"
done
python3 - "$data" <<'EOF'
import csv, gzip, json, sys
r = json.load(open("out.txt"))
arms = [row["segment"] for row in csv.DictReader(gzip.open(sys.argv[1], "rt"))]
nw, nc = arms.count("Womens E-Mail"), arms.count("No E-Mail")
assert r["learner"] == "t" and r["outcome_kind"] == "binary", r
assert r["treatment_arm"] == "Womens E-Mail" and r["control_arm"] == "No E-Mail", r
# rows of the two arms; Mens E-Mail left out; 30% held out per arm
assert r["rows"] == nw + nc and r["rows_other_arms"] == len(arms) - nw - nc, r
assert r["test"]["treated"] == round(0.3 * nw) and r["test"]["control"] == round(0.3 * nc), r
assert r["qini_lo95"] <= r["qini"] <= r["qini_hi95"], r
assert abs(r["random_area"] - r["ate"] / 2) < 1e-9, r
assert r["features"] == ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"], r
EOF
# the report: two inline SVG charts, nothing fetched from elsewhere
[ "$(grep -o '<svg' report.html | wc -l)" -eq 2 ]
expect_contains report.html "Qini curve"
expect_contains report.html "Uplift curve"
! grep -q '<script\|src=\|href=' report.html

# same seed, same model file; the transformed learner and a human summary
expect_exit 0 "$MERX" uplift train --data "$data" --columns "$cols" "${arms[@]}" --features "$feats" \
  --out t2.mxu --seed 3
cmp t.mxu t2.mxu
expect_contains out.txt "held out: ate"
expect_exit 0 "$MERX" uplift train --data "$data" --columns "$cols" "${arms[@]}" --features "$feats" \
  --learner transformed --out tr.mxu --test-share 0
expect_contains out.txt "transformed-outcome"

# score: user = row number (Hillstrom has no id column); T-learner columns
expect_exit 0 "$MERX" uplift score --model t.mxu --data "$data" --out scores.csv
head -1 scores.csv | grep -qx 'user,uplift,p_treated,p_control'
[ "$(wc -l < scores.csv)" -eq 4001 ]
python3 - <<'EOF'
import csv
rows = list(csv.DictReader(open("scores.csv")))
for r in rows:
    u, p1, p0 = float(r["uplift"]), float(r["p_treated"]), float(r["p_control"])
    assert 0 <= p1 <= 1 and 0 <= p0 <= 1 and abs(u - (p1 - p0)) < 1e-8, r
assert rows[0]["user"] == "1" and rows[-1]["user"] == "4000"
EOF
expect_exit 0 "$MERX" uplift score --model tr.mxu --data "$data" --out tr.csv --json
head -1 tr.csv | grep -qx 'user,uplift'
expect_contains out.txt '"rows":4000'

# a user column is carried through; a spend model (numeric outcome) says y_
awk -F, 'BEGIN{OFS=","} NR==1{print "customer",$0; next} {print "c" NR-1,$0}' \
  <(gzip -dc "$data" | tr -d "\r") > ids.csv
expect_exit 0 "$MERX" uplift train --data ids.csv --columns "$cols,user=customer" "${arms[@]}" \
  --features "$feats" --out u.mxu
expect_exit 0 "$MERX" uplift score --model u.mxu --data ids.csv --out u.csv
sed -n 2p u.csv | grep -q '^c1,'
expect_exit 0 "$MERX" uplift train --data ids.csv --columns "treatment=segment,outcome=spend" \
  "${arms[@]}" --features "$feats" --out sp.mxu --test-share 0
expect_exit 0 "$MERX" uplift score --model sp.mxu --data ids.csv --out sp.csv
head -1 sp.csv | grep -qx 'user,uplift,y_treated,y_control'

# the scores as value in merx allocate: one coupon (cost 1) per customer,
# budget 100 -> the 100 best uplifts
awk -F, 'NR==1{print "user,offer,uplift,cost"; next} {print $1",COUPON,"$2",1"}' u.csv > cand.csv
expect_exit 0 "$MERX" allocate --data cand.csv --columns user=user,offer=offer,value=uplift,cost=cost \
  --budget 100 --out plan.csv --json
python3 - <<'EOF'
import csv
cand = sorted((float(r["uplift"]) for r in csv.DictReader(open("cand.csv"))), reverse=True)
plan = [float(r["value"]) for r in csv.DictReader(open("plan.csv"))]
assert len(plan) == 100, len(plan)
assert abs(sum(plan) - sum(cand[:100])) < 1e-6, (sum(plan), sum(cand[:100]))
EOF

# ... and in the campaign DSL: value = uplift x margin - cost
cat > camp.lua <<'EOF'
local t, n = merx.data.read("u.csv", { columns = { user = "user", uplift = "uplift" },
                                       types = { uplift = "number" } })
local c = merx.campaign.new{ name = "uplift", budget = 50, per_user = 1 }
c:audience(t)
c:offer{ id = "COUPON", cost = 1, margin = 40 }
c:value(function(u, o) return u.uplift * o.margin - o.cost end)
c:eligible(function(u, o) return u.uplift * o.margin > o.cost end, "uplift pays for the coupon")
local s = c:run()
print(string.format("decisions %d spend %.1f value %.4f", s.decisions, s.spend, s.value))
EOF
expect_exit 0 "$MERX" run camp.lua --out campout
expect_contains out.txt "decisions 50 spend 50.0"
python3 - <<'EOF'
import csv, glob
best = sorted((float(r["uplift"]) for r in csv.DictReader(open("u.csv"))), reverse=True)[:50]
got = open("out.txt").read().split("value ")[1].split()[0]
assert abs(float(got) - sum(40 * u - 1 for u in best)) < 1e-3, (got, sum(40 * u - 1 for u in best))
EOF

# bad input: one line naming file, line and field; exit 1 (2 for usage)
printf 'segment,visit,recency\nNo E-Mail,0,3\nWomens E-Mail,1,x\n' > bad.csv
expect_exit 1 "$MERX" uplift train --data bad.csv --columns "$cols" --control "No E-Mail" --out bad.mxu
expect_contains err.txt "bad.csv:3:3: field 'recency': not a number: 'x'"
[ "$(wc -l < err.txt)" -eq 1 ]
[ ! -e bad.mxu ]
expect_exit 1 "$MERX" uplift train --data "$data" --columns "treatment=segment,outcome=visits" --out bad.mxu
expect_contains err.txt "no outcome column 'visits' (columns: recency, history_segment"
expect_exit 1 "$MERX" uplift train --data "$data" --columns "$cols" --features "$feats" --out bad.mxu
expect_contains err.txt "has 3 arms (Mens E-Mail, Womens E-Mail, No E-Mail): name the treatment and control arms"
expect_exit 1 "$MERX" uplift train --data "$data" --columns "$cols" --treatment "Womens E-Mail" \
  --control "No Email" --out bad.mxu
expect_contains err.txt "no row of column 'segment' has the control arm 'No Email'"
expect_exit 1 "$MERX" uplift train --data "$data" --columns "$cols" "${arms[@]}" --features "recency,visit" --out bad.mxu
expect_contains err.txt "feature 'visit' is the outcome column"
expect_exit 2 "$MERX" uplift train --data "$data" --columns "$cols" --learnr t --out bad.mxu
expect_contains err.txt "did you mean '--learner'"
expect_exit 2 "$MERX" uplift train --data "$data" --columns "$cols" --learner x --out bad.mxu
expect_exit 2 "$MERX" uplift train --data "$data" --columns "arm=segment" --out bad.mxu
expect_exit 2 "$MERX" uplift fit
expect_contains err.txt "unknown subcommand 'fit'"
# model files: foreign, truncated
expect_exit 1 "$MERX" uplift score --model cand.csv --data "$data" --out x.csv
expect_contains err.txt "cand.csv: not a merx uplift model"
head -c 100 t.mxu > trunc.mxu
expect_exit 1 "$MERX" uplift score --model trunc.mxu --data "$data" --out x.csv
expect_contains err.txt "truncated"
[ ! -e x.csv ]
# scoring data without a feature column
printf 'recency,history\n1,2\n' > few.csv
expect_exit 1 "$MERX" uplift score --model t.mxu --data few.csv --out x.csv
expect_contains err.txt "few.csv"
expect_contains err.txt "'mens'"
[ ! -e x.csv ]

# user factors of an embedding model as features: trained with it, scored
# only with the same model
awk -F, 'NR>1{n=NR-1; for(k=0;k<3;k++) print "c" n ",i" ((n*7+k*13+($1*5))%40)}' ids.csv \
  | sed '1i user,item' > inter.csv
awk -F, 'NR<=2 || NR%2==0' inter.csv > inter_half.csv
expect_exit 0 "$MERX" train --data inter.csv --columns user=user,item=item --algo ials --factors 4 \
  --epochs 3 --out emb.mxm
expect_exit 0 "$MERX" train --data inter_half.csv --columns user=user,item=item --algo ials --factors 4 \
  --epochs 3 --out other.mxm
expect_exit 0 "$MERX" uplift train --data ids.csv --columns "$cols,user=customer" "${arms[@]}" \
  --features "recency,history" --embeddings emb.mxm --out e.mxu --json
expect_contains out.txt '"features":["recency","history","embedding:1","embedding:2","embedding:3","embedding:4"]'
expect_contains out.txt '"embedding_unknown_users":0'
expect_exit 2 "$MERX" uplift score --model e.mxu --data ids.csv --out e.csv
expect_contains err.txt "--embeddings"
expect_exit 1 "$MERX" uplift score --model e.mxu --data ids.csv --embeddings other.mxm --out e.csv
expect_contains err.txt "not the one used in training"
expect_exit 0 "$MERX" uplift score --model e.mxu --data ids.csv --embeddings emb.mxm --out e.csv
[ "$(wc -l < e.csv)" -eq 4001 ]
expect_exit 2 "$MERX" uplift train --data ids.csv --columns "$cols" "${arms[@]}" --embeddings emb.mxm --out e.mxu
expect_contains err.txt "needs the user column"

# eval: a model's scores on a campaign file, or a score column; both agree,
# and an independent computation of the areas (ties enter together) agrees
expect_exit 0 "$MERX" uplift eval --data ids.csv --columns "$cols" "${arms[@]}" --model u.mxu --json
cp out.txt eval_model.json
paste -d, ids.csv <(cut -d, -f2 u.csv) > scored.csv
expect_exit 0 "$MERX" uplift eval --data scored.csv --columns "$cols,score=uplift" "${arms[@]}" \
  --json --html eval.html --bootstrap 50
cp out.txt eval_col.json
expect_contains eval.html "given scores"
python3 - <<'EOF'
import csv, json
a, b = json.load(open("eval_model.json")), json.load(open("eval_col.json"))
assert abs(a["qini"] - b["qini"]) < 1e-9 and abs(a["auuc"] - b["auuc"]) < 1e-9, (a, b)
rows = [r for r in csv.DictReader(open("scored.csv")) if r["segment"] in ("Womens E-Mail", "No E-Mail")]
data = sorted(((float(r["uplift"]), r["segment"] == "Womens E-Mail", float(r["visit"])) for r in rows),
              key=lambda x: -x[0])
N = len(data); NT = sum(t for _, t, _ in data); NC = N - NT
YT = sum(y for _, t, y in data if t); YC = sum(y for _, t, y in data if not t)
ate = YT / NT - YC / NC
nt = nc = yt = yc = 0.0
pts = [(0.0, 0.0, 0.0)]
i = 0
while i < N:
    j = i
    while j < N and data[j][0] == data[i][0]:
        s, t, y = data[j]
        if t: nt += 1; yt += y
        else: nc += 1; yc += y
        j += 1
    i = j
    k = nt + nc
    q = (yt - (yc * nt / nc if nc else 0)) / NT
    u = (yt / nt - yc / nc) * k / N if nt and nc else 0
    pts.append((k / N, q, u))
qa = sum((x1 - x0) * (q0 + q1) / 2 for (x0, q0, _), (x1, q1, _) in zip(pts, pts[1:]))
ua = sum((x1 - x0) * (u0 + u1) / 2 for (x0, _, u0), (x1, _, u1) in zip(pts, pts[1:]))
assert abs(b["ate"] - ate) < 1e-9, (b["ate"], ate)
assert abs(b["qini"] - (qa - ate / 2)) < 1e-9, (b["qini"], qa - ate / 2)
assert abs(b["auuc"] - ua) < 1e-9, (b["auuc"], ua)
assert b["bootstrap"] == 50
EOF
expect_exit 2 "$MERX" uplift eval --data scored.csv --columns "$cols,score=uplift" --model u.mxu
expect_exit 1 "$MERX" uplift eval --data scored.csv --columns "$cols,score=nope" "${arms[@]}"
expect_contains err.txt "field 'nope': no column 'nope'"

# merx.uplift.train counts what training allocates against --memory before it starts
cat > big.lua <<'EOF'
local t = { arm = {}, y = {}, x = {} }
for i = 1, 200000 do t.arm[i] = (i % 2 == 0) and "a" or "b"; t.y[i] = i % 3 == 0 and 1 or 0; t.x[i] = i % 7 end
local ok, e = pcall(merx.uplift.train, { data = t, treatment = "arm", outcome = "y", control = "b" })
print(ok, e)
EOF
expect_exit 0 "$MERX" run big.lua --memory 40
expect_contains out.txt "memory limit of 40 MB (--memory) would be exceeded: 200000 rows need"

# the example script, as docs/cli/uplift.md shows it
cp -r "$MERX_SRC/examples" ex
expect_exit 0 "$MERX" run ex/uplift_campaign.lua --out upl
expect_contains out.txt "uplift model: held-out qini 0.0044 [-0.0099, 0.0185]"
expect_contains out.txt "300 e-mails by uplift: 36.3 expected incremental visits (value 30.35); the same number by response score: 18.2"
[ "$(tail -n +2 upl/offer.csv | wc -l)" -eq 300 ]
