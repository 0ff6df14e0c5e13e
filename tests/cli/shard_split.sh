# merx shard-split and the shard hash (merx/shard.h): every row lands in the
# part of its id's shard by the documented rule (XXH64 seed 42, pmod of the
# signed value: Spark SQL's pmod(xxhash64(id), N)), computed here in Python;
# merx.allocate.shard_of agrees; merx.data.read of the folder reads every part,
# and under --shard I/N only part I; errors name the file and line and leave
# an earlier split whole.
python3 - <<'PY'
import csv, random
random.seed(7)
with open("events.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user", "item", "note"])
    for i in range(3000):
        u = random.choice([f"u{random.randrange(800)}", f"user-{random.randrange(50)}-with-a-long-id-over-32-bytes", "a,b"])
        w.writerow([u, f"i{i % 37}", "x"])
PY
expect_exit 0 "$MERX" shard-split --data events.csv --column user --shards 4 --out parts --json
expect_contains out.txt '"rows":3000,"shards":4'
python3 - "$MERX_SRC" <<'PY'
import csv, sys
sys.path.insert(0, sys.argv[1] + "/scripts/experiment")
from arm import xxh64
def shard(uid, n):
    h = xxh64(uid.encode("utf-8"), 42)
    h = h - (1 << 64) if h >= (1 << 63) else h   # Spark's signed BIGINT
    return h % n                                  # Python's % is pmod for n > 0
assert xxh64(b"ABC", 42) == 4105715581806190027   # Spark SQL: xxhash64('ABC')
total = 0
for p in range(4):
    rows = list(csv.reader(open(f"parts/part-{p:05d}.csv")))
    assert rows[0] == ["user", "item", "note"], rows[0]
    for r in rows[1:]:
        assert shard(r[0], 4) == p, (r, p)
    total += len(rows) - 1
assert total == 3000, total
man = open("parts/_merx_shards").read().split("\n")
assert man[:5] == ["merx-shards 1", "shards 4", "column user", "hash xxh64-42-pmod", "rows 3000"], man
with open("expect.txt", "w") as f:
    for u in ["ABC", "u1", "12346", "a,b"]:
        f.write(f"{u} {shard(u, 3)} {shard(u, 4)}\n")
PY
expect_exit 0 "$MERX" run -e 'for _, u in ipairs{"ABC", "u1", "12346", "a,b"} do
  print(u, merx.allocate.shard_of(u, 3), merx.allocate.shard_of(u, 4)) end'
tr '\t' ' ' < out.txt > got.txt
diff expect.txt got.txt

# the folder reads as one file; under --shard I/4 only part I (its rows are that shard's)
read='local f, n = merx.data.read("parts", {columns = "user=user,item=item"})
local s = {} for i = 1, n do s[#s + 1] = f.user[i] .. "|" .. f.item[i] end
table.sort(s) print(n) for _, x in ipairs(s) do print(x) end'
expect_exit 0 "$MERX" run -e "$read"
head -1 out.txt | grep -qx 3000
for i in 0 1 2 3; do
  expect_exit 0 "$MERX" run --shard $i/4 -e "$read"
  want=$(($(wc -l < parts/part-0000$i.csv) - 1))
  head -1 out.txt | grep -qx "$want" || { echo "FAIL: shard $i read $(head -1 out.txt), part has $want"; exit 1; }
  tail -n +2 out.txt >> shards.txt
done
"$MERX" run -e "$read" | tail -n +2 > all.txt
sort shards.txt | diff - all.txt
# another shard count: every part read, rows filtered by the hash
expect_exit 0 "$MERX" run --shard 1/3 -e "$read"
n3=$(head -1 out.txt)
expect_exit 0 "$MERX" run --shard 1/3 -e 'local f, n = merx.data.read("events.csv", {columns = "user=user"}) print(n)'
[ "$(cat out.txt)" = "$n3" ] || { echo "FAIL: 1/3 over parts read $n3 rows"; exit 1; }

# only part I is opened: a damaged part 3 fails a whole read (naming it), not shard 1
cp parts/part-00003.csv p3.keep
printf 'user,other\n' > parts/part-00003.csv
expect_exit 0 "$MERX" run --shard 1/4 -e "$read"
expect_exit 1 "$MERX" run -e "$read"
expect_contains err.txt "part-00003.csv: its header differs from part 0's"
cp p3.keep parts/part-00003.csv

# errors: one line naming file, line and field; usage errors exit 2; nothing half-written
printf 'user,item\nu1,a\n,b\n' > bad.csv
expect_exit 1 "$MERX" shard-split --data bad.csv --column user --shards 4 --out parts
expect_contains err.txt "bad.csv:3"
expect_contains err.txt "empty id"
cmp p3.keep parts/part-00003.csv   # the earlier split is whole
grep -qx 'rows 3000' parts/_merx_shards
expect_exit 1 "$MERX" shard-split --data events.csv --column customer --shards 4 --out other
expect_contains err.txt "no column 'customer'"
[ ! -e other/_merx_shards ] && [ ! -e other/part-00000.csv ]
expect_exit 2 "$MERX" shard-split --data events.csv --column user --shards 0 --out other
expect_exit 2 "$MERX" shard-split --data events.csv --column user --shard 4 --out other
expect_contains err.txt "did you mean"
printf 'merx-shards 1\nshards 4\ncolumn user\nhash murmur3\n' > parts/_merx_shards
expect_exit 1 "$MERX" run -e "$read"
expect_contains err.txt "_merx_shards:4"
