-- merx.json.encode/decode for scripts (the same conversion merx.http.post_json sends).
local J = merx.json
-- keys sorted, integers stay integers, arrays are arrays
local s = J.encode({ b = { 1, 2.5, "x" }, a = true, c = { d = J.null } })
assert(s == '{"a":true,"b":[1,2.5,"x"],"c":{"d":null}}', s)
assert(J.encode("caf\u{e9}") == '"caf\u{e9}"')
assert(J.encode(42) == "42")
assert(J.encode({}) == "{}")

local v = J.decode('{"n": 3, "x": 1.5, "s": "\\u00e9", "l": [1, null, {"k": false}], "z": null}')
assert(math.type(v.n) == "integer" and v.n == 3)
assert(v.x == 1.5 and v.s == "\u{e9}")
assert(#v.l == 3 and v.l[2] == J.null and v.l[3].k == false)
assert(v.z == J.null)
-- round trip
local back = J.decode(J.encode(v))
assert(back.l[3].k == false and back.n == 3 and back.z == J.null)
assert(J.decode("[]")[1] == nil and J.decode("7") == 7)

-- errors name the position or the bad value
local ok, err = pcall(J.decode, '{"a": 1,}')
assert(not ok and err:find("merx.json.decode: line 1", 1, true), err)
ok, err = pcall(J.encode, { f = print })
assert(not ok and err:find("merx.json.encode: cannot encode a function", 1, true), err)
ok, err = pcall(J.encode, { [true] = 1 })
assert(not ok and err:find("keys must be strings", 1, true), err)
local deep = {}
local t = deep
for _ = 1, 100 do t.x = {}; t = t.x end
ok, err = pcall(J.encode, deep)
assert(not ok and err:find("nested too deeply", 1, true), err)
print("json ok")
