# merx model import --spark-json / --spark-csv: factor folders in the layout
# Spark writes (model.userFactors.write.json(DIR): part-NNNNN-UUID-c000.json
# JSON Lines, a gzip part, _SUCCESS and .crc files beside them), made here by
# a small generator; the imported factors and ids equal the written ones, and
# bad rows are refused naming the part file, line and field.
python3 - <<'PY'
import gzip, json, os, random, uuid
random.seed(3)
def write(d, rows, gz_part=1, fmt="json"):
    os.makedirs(d)
    job = uuid.UUID(int=random.getrandbits(128))
    parts = [rows[i::3] for i in range(3)]
    for p, chunk in enumerate(parts):
        name = f"part-{p:05d}-{job}-c000.{fmt}"
        if fmt == "json":
            text = "".join(json.dumps({"id": i, "features": f}, separators=(",", ":")) + "\n" for i, f in chunk)
        else:
            text = "id,features\n" + "".join(f'{i},"{" ".join(repr(x) for x in f)}"\n' for i, f in chunk)
        if p == gz_part:
            name += ".gz"
            open(os.path.join(d, name), "wb").write(gzip.compress(text.encode()))
        else:
            open(os.path.join(d, name), "w").write(text)
        open(os.path.join(d, "." + name + ".crc"), "wb").write(b"crc\0\1")
    open(os.path.join(d, "_SUCCESS"), "w").close()
    open(os.path.join(d, "._SUCCESS.crc"), "wb").write(b"crc\0")
rank = 8
users = [(u, [round(random.gauss(0, 0.3), 6) for _ in range(rank)]) for u in range(1, 61)]
items = [(10 * i, [round(random.gauss(0, 0.3), 6) for _ in range(rank)]) for i in range(1, 41)]
write("users", users); write("items", items)
write("users_csv", users, fmt="csv"); write("items_csv", items, gz_part=2, fmt="csv")
json.dump({"users": users, "items": items}, open("truth.json", "w"))
PY
expect_exit 0 "$MERX" model import --spark-json users items --out m.mxm
expect_contains out.txt "imported 60 users, 40 items, 8 factors"
expect_exit 0 "$MERX" model import --spark-csv users_csv items_csv --out c.mxm
expect_contains out.txt "imported 60 users, 40 items, 8 factors"
for m in m c; do
  expect_exit 0 "$MERX" model export --model $m.mxm --out exp_$m
  python3 - exp_$m <<'PY'
import json, struct, sys
d = sys.argv[1]
truth = json.load(open("truth.json"))
def npy(path):
    b = open(path, "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    data = b[10 + hl:]
    return struct.unpack("<%df" % (len(data) // 4), data)
for side in ("user", "item"):
    ids = open(f"{d}/{side}_ids.txt").read().split()
    f = npy(f"{d}/{side}_factors.npy")
    want = {str(i): v for i, v in truth[side + "s"]}
    assert sorted(ids) == sorted(want), side
    for r, i in enumerate(ids):
        got = f[r * 8:(r + 1) * 8]
        assert all(abs(a - b) <= 1e-6 for a, b in zip(got, want[i])), (side, i, got, want[i])
print("factors match", d)
PY
done
# recommendations are the dot products
expect_exit 0 "$MERX" recommend --model m.mxm --user 7 --k 3 --out rec.csv
python3 - <<'PY'
import csv, json
t = json.load(open("truth.json"))
u = dict((str(i), v) for i, v in t["users"])["7"]
scores = sorted(((sum(a * b for a, b in zip(u, v)), str(i)) for i, v in t["items"]), reverse=True)
got = [r["item"] for r in csv.DictReader(open("rec.csv"))]
assert got == [i for _, i in scores[:3]], (got, scores[:3])
PY

# refusals: one line naming the part file, line and field
bad() { rm -rf bad && mkdir bad && printf '%s\n' "$@" > bad/part-00000-x-c000.json; }
bad '{"id":1,"features":[0.1,0.2]}' '{"id":2,"features":[0.1,0.2,0.3]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "part-00000-x-c000.json:2"
expect_contains err.txt "3 features, but earlier rows have 2 (the rank)"
bad '{"id":1,"features":[0.1]}' '{"id":"u2","features":[0.2]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "part-00000-x-c000.json:2"
expect_contains err.txt "a string, but earlier ids are numbers"
bad '{"id":1.5,"features":[0.1]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "field 'id': must be an integer or a non-empty string"
bad '{"id":1,"features":[0.1,"NaN"]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "feature 2 is not a number"
bad '{"id":1,"features":[0.1]}' '{"id":1,"features":[0.2]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "id '1' appears twice"
bad '{"id":1,"features":[0.1]}'
expect_exit 1 "$MERX" model import --spark-json bad items --out x.mxm
expect_contains err.txt "item factors have rank 8, user factors (bad) 1"
rm -rf empty && mkdir empty && touch empty/_SUCCESS
expect_exit 1 "$MERX" model import --spark-json empty items --out x.mxm
expect_contains err.txt "no part files"
[ ! -e x.mxm ]
expect_exit 2 "$MERX" model import --spark-json users --out x.mxm
expect_contains err.txt "give both folders"
expect_exit 2 "$MERX" model import --spark-json users items --user-ids u.txt --out x.mxm
rm -rf badc && mkdir badc && printf 'id,features\n1,"0.1 0.2"\n2,"[0.1,zz]"\n' > badc/part-00000-y-c000.csv
expect_exit 1 "$MERX" model import --spark-csv badc items_csv --out x.mxm
expect_contains err.txt "part-00000-y-c000.csv:3"
expect_contains err.txt "feature 2 is not a number"
