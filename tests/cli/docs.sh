# The command reference is complete: every command of src/cli/commands.def has
# docs/cli/<command>.md, and every flag its --help prints (and the --help of each
# subcommand its usage names, e.g. `merx model import --help`) appears on that page.
# Every --help (and each subcommand's) ends with an Example: block.
docs="$MERX_SRC/docs/cli"
options_part() { awk '/^Examples?:$/ {exit} 1' out.txt; }  # examples may use other commands' flags
flags() { grep -oE -- '--[A-Za-z][A-Za-z0-9-]*' "$1" | sort -u; }
fail=0
# Every --help ends with an "Example:" (or "Examples:") block: indented lines
# that run merx, after which nothing else is printed.
ends_with_example() {
  awk -v what="$1" '
    /^Examples?:$/ { ex = NR; n = 0; bad = ""; next }
    ex && NF { if ($0 ~ /^  (merx |#|  )/) n++; else bad = $0 }
    END { if (!ex || !n || bad != "") { print "FAIL: " what " does not end with an Example: block" (bad != "" ? " (then: " bad ")" : ""); exit 1 } }' "$2" || fail=1
}
for cmd in $(sed -n 's/^MX_COMMAND("\([a-z-]*\)".*/\1/p' "$MERX_SRC/src/cli/commands.def"); do
  page="$docs/$cmd.md"
  [ -f "$page" ] || { echo "FAIL: merx $cmd has no page docs/cli/$cmd.md"; fail=1; page=/dev/null; }
  expect_exit 0 "$MERX" "$cmd" --help
  options_part > "help_$cmd.txt"
  ends_with_example "merx $cmd --help" out.txt
  for sub in $(sed -nE "s/^ *(usage: +)?merx $cmd ([a-z][a-z-]*)( .*)?\$/\2/p" "help_$cmd.txt" | sort -u); do
    expect_exit 0 "$MERX" "$cmd" "$sub" --help
    ends_with_example "merx $cmd $sub --help" out.txt
    options_part >> "help_$cmd.txt"
  done
  [ "$page" = /dev/null ] && continue
  for f in $(flags "help_$cmd.txt" | grep -vx -- --help | comm -23 - <(flags "$page")); do
    echo "FAIL: docs/cli/$cmd.md does not mention $f (merx $cmd --help prints it)"; fail=1
  done
done

# Every relative link of the README and docs/ resolves: the file exists and, for
# FILE.md#anchor, FILE.md has a heading with that anchor (GitHub's rule). One awk
# pass over every page (a process per link would be slow).
cd "$MERX_SRC"
awk '
  function norm(p,   n, a, i, out, k, o) {
    n = split(p, a, "/"); k = 0
    for (i = 1; i <= n; i++) {
      if (a[i] == "." || a[i] == "") continue
      if (a[i] == ".." && k > 0 && o[k] != "..") { k--; continue }
      o[++k] = a[i]
    }
    out = o[1]; for (i = 2; i <= k; i++) out = out "/" o[i]
    return out
  }
  FNR == 1 { code = 0; dir = FILENAME; if (!sub(/\/[^\/]*$/, "", dir)) dir = "."; seen[FILENAME] = 1 }
  /^```/ { code = !code; next }
  code { next }
  /^#+ / { h = tolower($0); sub(/^#+ /, "", h); gsub(/[^a-z0-9_ -]/, "", h); gsub(/ /, "-", h); anchor[FILENAME "#" h] = 1 }
  {
    line = $0
    while (match(line, /\]\([^) ]+\)/)) {
      l = substr(line, RSTART + 2, RLENGTH - 3); line = substr(line, RSTART + RLENGTH)
      if (l ~ /^[a-z]+:/) continue
      path = l; frag = ""
      if (index(l, "#")) { path = substr(l, 1, index(l, "#") - 1); frag = substr(l, index(l, "#") + 1) }
      t = (path == "") ? FILENAME : norm(dir "/" path)
      nl++; src[nl] = FILENAME ":" FNR; tgt[nl] = t; frg[nl] = frag; raw[nl] = l
    }
  }
  END {
    bad = 0
    for (i = 1; i <= nl; i++) {
      t = tgt[i]
      if (!(t in seen) && (getline x < t) < 0 && system("test -e \"" t "\"") != 0) {
        print "FAIL: " src[i] ": broken link " raw[i]; bad = 1; continue
      }
      if (frg[i] != "" && t ~ /\.md$/) {
        if (!(t in seen)) { print "FAIL: " src[i] ": " t " is not a checked page"; bad = 1; continue }
        if (!((t "#" frg[i]) in anchor)) { print "FAIL: " src[i] ": no heading for #" frg[i] " in " t; bad = 1 }
      }
    }
    exit bad
  }' $(ls README.md CONTRIBUTING.md SECURITY.md docs/*.md docs/cli/*.md 2>/dev/null) || fail=1
cd - >/dev/null
[ "$fail" = 0 ]
