# As curl does: library and CLI code never call the unbounded string
# functions (sprintf, vsprintf, strcpy, strcat, sscanf, gets, strtok).
# Use snprintf, memcpy with a checked length, and the parsers in util/.
hits="$(grep -rnE '(^|[^_a-zA-Z0-9])(sprintf|vsprintf|strcpy|strcat|sscanf|gets|strtok)[[:space:]]*\(' \
  "$MERX_SRC/src" --include='*.c' --include='*.h' || true)"
if [ -n "$hits" ]; then
  echo "banned functions used:"; echo "$hits"; exit 1
fi
