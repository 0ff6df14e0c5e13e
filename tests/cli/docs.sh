# The command reference is complete: every command of src/cli/commands.def has
# docs/cli/<command>.md, and every flag its --help prints (and the --help of each
# subcommand its usage names, e.g. `merx model import --help`) appears on that page.
docs="$MERX_SRC/docs/cli"
flags() { grep -oE -- '--[A-Za-z][A-Za-z0-9-]*' "$1" | sort -u; }
fail=0
for cmd in $(sed -n 's/^MX_COMMAND("\([a-z-]*\)".*/\1/p' "$MERX_SRC/src/cli/commands.def"); do
  page="$docs/$cmd.md"
  [ -f "$page" ] || { echo "FAIL: merx $cmd has no page docs/cli/$cmd.md"; fail=1; continue; }
  expect_exit 0 "$MERX" "$cmd" --help
  cp out.txt "help_$cmd.txt"
  for sub in $(sed -nE "s/^ *(usage: +)?merx $cmd ([a-z][a-z-]*)( .*)?\$/\2/p" "help_$cmd.txt" | sort -u); do
    expect_exit 0 "$MERX" "$cmd" "$sub" --help
    cat out.txt >> "help_$cmd.txt"
  done
  for f in $(flags "help_$cmd.txt" | grep -vx -- --help | comm -23 - <(flags "$page")); do
    echo "FAIL: docs/cli/$cmd.md does not mention $f (merx $cmd --help prints it)"; fail=1
  done
done

# Every relative link of the README and docs/ resolves: the file exists and, for
# FILE.md#anchor, FILE.md has a heading with that anchor (GitHub's rule).
anchors() { sed -n 's/^#\{1,6\} //p' "$1" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_ -]//g; s/ /-/g'; }
links() { awk '/^```/{c=!c; next} !c' "$1" | grep -oE '\]\([^) ]+\)' | sed 's/^](//; s/)$//' | grep -vE '^[a-z]+:' || true; }
cd "$MERX_SRC"
for md in README.md CONTRIBUTING.md SECURITY.md docs/*.md docs/cli/*.md; do
  [ -f "$md" ] || continue
  for l in $(links "$md"); do
    path="${l%%#*}"; anchor=""; [ "$path" != "$l" ] && anchor="${l#*#}"
    target="$md"; [ -n "$path" ] && target="$(dirname "$md")/$path"
    if [ ! -e "$target" ]; then echo "FAIL: $md: broken link $l"; fail=1; continue; fi
    if [ -n "$anchor" ] && [[ "$target" == *.md ]] && ! anchors "$target" | grep -qxF -- "$anchor"; then
      echo "FAIL: $md: no heading for #$anchor in $target"; fail=1
    fi
  done
done
cd - >/dev/null
[ "$fail" = 0 ]
