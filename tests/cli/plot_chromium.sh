# The --plot pages of merx forecast, backtest and plan rendered by headless
# Chromium (issue #22): each page gives a non-blank screenshot, and after its
# script ran (--dump-dom of page.html?q=plain) the search shows only the
# matching panel. Skipped (77) without a chromium binary (Debian package
# chromium; not in scripts/lib.sh's packages) and under the sanitizers (the
# pages are those of the plain build, and Chromium costs ~5 s a run).
D="$MERX_SRC/examples/data"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then echo "chromium is not installed: skipped"; exit 77; fi
case "$(ldd "$MERX" 2>/dev/null || true)" in
  *libasan*) echo "sanitizer build: Chromium runs in the plain build only"; exit 77 ;;
esac
# one Chromium run: private profile under $TMPDIR, no sandbox (root in CI),
# bounded time, its own process group killed afterwards
chrome() {
  local profile rc
  profile="$(mktemp -d "$TMPDIR/chromium-XXXXXX")"
  set +e
  setsid timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --disable-dev-shm-usage --no-first-run --no-default-browser-check \
    --user-data-dir="$profile" --window-size=1000,1400 "$@" 2>>chromium.log &
  local pid=$!
  wait "$pid"
  rc=$?
  kill -- -"$pid" 2>/dev/null
  set -e
  rm -rf "$profile"
  return "$rc"
}
expect_exit 0 "$MERX" forecast --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 6 --out fc.csv --plot forecast.html
expect_exit 0 "$MERX" backtest --data "$D/plot_ids.csv" --format long --freq week \
  --horizon 4 --methods ets,snaive --origins 2 --plot backtest.html
expect_exit 0 "$MERX" plan --stock "$D/plot_stock.csv" --history "$D/plot_ids.csv" \
  --format long --freq week --horizon 8 --out orders.csv --plot plan.html
for page in forecast backtest plan; do
  chrome --screenshot="$PWD/$page.png" "file://$PWD/$page.html"
  chrome --dump-dom "file://$PWD/$page.html?q=plain" > "$page.dom"
  python3 - "$page" <<'PY'
import re, struct, sys, zlib
page = sys.argv[1]
png = open(page + ".png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (1000, 1400), (w, h)
# decode the IDAT stream: a rendered chart leaves many non-white bytes
pos, idat = 8, b""
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    if kind == b"IDAT":
        idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
dark = sum(1 for b in raw[::7] if b < 200)
assert dark > 2000, ("screenshot looks blank", dark)
dom = open(page + ".dom", encoding="utf-8").read()
panels = re.findall(r'<section class="panel" data-id="([^"]*)"([^>]*)>', dom)
assert len(panels) == 3, panels
shown = [i for i, rest in panels if "display: none" not in rest]
assert shown == ["plain-1"], shown
assert "1 of 3 shown" in dom, "search count not updated"
print("ok", page, w, h, "dark samples", dark)
PY
done
