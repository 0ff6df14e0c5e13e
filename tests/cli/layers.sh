#!/usr/bin/env bash
# The layers hold by rule, not by convention: every `#include "..."` in src/
# must name a header of a layer its own layer may use, by the allow-list in
# docs/ARCHITECTURE.md (the ```layers and ```headers blocks). A header of
# include/merx/ that the map does not name fails too, so a new public header
# gets a layer when it is added.
set -euo pipefail
root="${MERX_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
doc="$root/docs/ARCHITECTURE.md"
[ -f "$doc" ] || { echo "layers: $doc is missing"; exit 1; }

block() { awk -v name="$1" '$0 == "```" name {on=1; next} on && /^```/ {exit} on && !/^#/ && NF' "$doc"; }
declare -A may header_layer
while read -r layer uses; do may[${layer%:}]="${layer%:} $uses"; done < <(block layers)
while read -r layer headers; do
  for h in $headers; do header_layer[$h]="${layer%:}"; done
done < <(block headers)
[ ${#may[@]} -gt 0 ] && [ ${#header_layer[@]} -gt 0 ] || { echo "layers: no allow-list in $doc"; exit 1; }

fail=0
for h in "$root"/include/merx/*.h; do
  name="merx/$(basename "$h")"
  [ -n "${header_layer[$name]:-}" ] || { echo "$name: not in the headers map of docs/ARCHITECTURE.md"; fail=1; }
done
while IFS=: read -r file line inc; do
  rel="${file#"$root"/src/}"
  layer="${rel%%/*}"
  [ -n "${may[$layer]:-}" ] || { echo "src/$rel: layer '$layer' is not in docs/ARCHITECTURE.md"; fail=1; continue; }
  inc="${inc#*\"}"; inc="${inc%%\"*}"
  case "$inc" in
    merx/*) target="${header_layer[$inc]:-}" ;;
    */*) target="${inc%%/*}" ;;
    *) continue ;;  # a header beside the file
  esac
  if [ -z "$target" ]; then
    echo "src/$rel:$line: $inc has no layer in docs/ARCHITECTURE.md"; fail=1
  elif [[ " ${may[$layer]} " != *" $target "* ]]; then
    echo "src/$rel:$line: the $layer layer may not include $inc (layer $target); it may use: ${may[$layer]}"
    fail=1
  fi
done < <(grep -rn --include='*.[ch]' --include='*.def' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/src" | sort)
# The build's per-layer include views (CMakeLists.txt, MERX_HEADERS_*) name the same headers.
cm="$root/CMakeLists.txt"
if [ -f "$cm" ]; then
  declare -A cmake_layer
  while read -r layer headers; do
    for h in $headers; do cmake_layer["merx/$h.h"]="$layer"; done
  done < <(awk '/^set\(MERX_HEADERS_/ {on=1} on {line = line " " $0} on && /\)/ {on=0; print line; line=""}' "$cm" |
           sed -E 's/^ *set\(MERX_HEADERS_([a-z]+)/\1/; s/[)"]//g')
  for h in "${!header_layer[@]}"; do
    [ "${cmake_layer[$h]:-}" = "${header_layer[$h]}" ] ||
      { echo "$h: layer ${header_layer[$h]} in docs/ARCHITECTURE.md, '${cmake_layer[$h]:-none}' in CMakeLists.txt MERX_HEADERS_*"; fail=1; }
  done
fi
# Names (docs/ARCHITECTURE.md "Conventions"): an mx_ function or variable with external
# linkage is public API, named in include/merx/; one that files of merx share but that is
# not public is mx__. Read from the object files of the build (nm), so static and static
# inline helpers, types and macros cannot trip it; objects whose source is gone (a renamed
# file in an old build directory) are ignored.
objs=0
if [ -n "${MERX:-}" ] && [ -d "$(dirname "$MERX")/CMakeFiles" ]; then
  command -v nm >/dev/null || { echo "layers: nm (binutils) is needed for the symbol check"; exit 1; }
  build="$(cd "$(dirname "$MERX")" && pwd)"
  grep -ohE '\<mx_[A-Za-z0-9_]+' "$root"/include/merx/*.h | sort -u >public_names.txt
  : >objects.txt
  while IFS= read -r o; do
    src="${o#*.dir/}"; src="${src%.o}"
    [ -f "$root/$src" ] && echo "$o" >>objects.txt
  done < <(find "$build/CMakeFiles" -name '*.c.o' \( -path '*/merx_*_obj.dir/src/*' -o -path '*/merx.dir/src/*' \) | sort)
  objs=$(wc -l <objects.txt)
  [ "$objs" -gt 0 ] || { echo "layers: no object files of src/ under $build/CMakeFiles"; exit 1; }
  # nm -A: "object: address type name"
  xargs nm -A -g --defined-only <objects.txt | awk '$NF ~ /^mx_/ && $NF !~ /^mx__/ {print $1, $NF}' |
    awk 'NR == FNR {public[$1] = 1; next} !($2 in public) {
           src = $1; sub(/^.*\.dir\//, "", src); sub(/\.o:.*$/, "", src)
           n = $2; sub(/^mx_/, "mx__", n)
           print src ": " $2 " has external linkage but is not public API (include/merx/): make it static or rename it " n
         }' public_names.txt - >internal.txt
  if [ -s internal.txt ]; then sort -u internal.txt; fail=1; fi
fi
[ $fail -eq 0 ] || exit 1
echo "layers: every include in src/ is allowed"
[ "$objs" -eq 0 ] || echo "layers: every mx_ symbol of $objs objects is public; internal ones are mx__"
