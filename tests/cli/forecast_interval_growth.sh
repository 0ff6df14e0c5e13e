# Property (issue #22): over the Online Retail top-100 weekly series, every
# method's interval width never shrinks with the horizon (relative 1e-8: the
# CSV's 10 significant digits), for auto and each single method. Exception the
# model implies: a multiplicative-error ETS (ETS(M,.,.)) spreads in proportion
# to the level, so under a falling forecast only its width relative to the
# forecast must not shrink (Hyndman et al. 2008, ch. 6, class 2 variances).
D="$MERX_SRC/examples/data"
METHODS="auto ets theta damped"
# under the sanitizers: the two methods with the most cases, to stay in budget
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) METHODS="auto ets" ;; esac
for m in $METHODS; do
  expect_exit 0 "$MERX" forecast --data "$D/retail_top100_weekly.csv" --format wide \
    --horizon 8 --method $m --out fc_$m.csv --plot fc_$m.html
  python3 - "$m" <<'PY'
import csv, collections, re, sys
html = open("fc_%s.html" % sys.argv[1]).read()
mult = set(re.findall(r'data-id="([^"]+)"><h2>[^<]*</h2>\n<p class="meta">method <b>[a-z]+</b> \(ETS\(M,', html))
by = collections.defaultdict(list)
for r in csv.DictReader(open("fc_%s.csv" % sys.argv[1])):
    by[r["id"]].append(r)
assert len(by) == 100, len(by)
for i, rs in by.items():
    for lv in ("80", "95"):
        w = [float(r["hi" + lv]) - float(r["lo" + lv]) for r in rs]
        if i in mult:
            w = [x / max(abs(float(r["forecast"])), 1e-9) for x, r in zip(w, rs)]
        for j in range(len(w) - 1):
            assert w[j + 1] >= w[j] * (1 - 1e-8) - 1e-9, (sys.argv[1], i, lv, w)
PY
done
