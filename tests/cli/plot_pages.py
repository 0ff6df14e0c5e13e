# Structure of a `--plot` page (merx forecast, backtest, plan), with the
# standard library's html.parser only: python3 plot_pages.py KIND PAGE [IDS...]
# KIND forecast|backtest|plan; IDS are the expected panel ids (bytes read as
# UTF-8 with invalid bytes replaced, as the page must show them). Checks: the
# search box and its script, nothing fetched, one panel per id, in each a
# chart with a numeric value axis, dated x ticks in time order, the 80% and
# 95% fan, the lines of its kind, and one tooltip row per x position;
# --window=N first: every panel chart spans exactly N periods.
import re
import sys
from html.parser import HTMLParser

kind, page = sys.argv[1], sys.argv[2]
want_ids = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for a in sys.argv[3:]]
window = None
if want_ids and want_ids[0].startswith("--window="):
    window = int(want_ids.pop(0).split("=")[1])
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.panels, self.search, self.scripts = [], [], False, 0
        self.external = []
        self.cur = None       # current panel
        self.chart = None     # current svg.chart
        self.text_into = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href")):
            self.external.append((tag, a))
        if tag == "script":
            self.scripts += 1
        if tag == "input" and a.get("id") == "search" and a.get("type") == "search":
            self.search = True
        if tag == "section" and "panel" in cls:
            self.cur = {"id": a.get("data-id"), "charts": []}
            self.panels.append(self.cur)
        if tag == "svg" and "chart" in cls:
            self.chart = {"x0": int(a["data-x0"]), "x1": int(a["data-x1"]), "yt": [], "xt": [],
                          "cls": set(), "tips": ""}
            if self.cur is not None:
                self.cur["charts"].append(self.chart)
            else:
                summary_charts.append(self.chart)
        if self.chart is not None:
            for c in cls:
                self.chart["cls"].add(c)
            if tag == "g" and "axis" in cls:
                self.axis = "y" if "y" in cls else "x"
            if tag == "text" and "tick" in cls:
                self.text_into = self.axis + "t"
            if tag == "metadata" and "tips" in cls:
                self.text_into = "tips"
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None
        if tag == "section":
            self.cur = None
        if tag in ("text", "metadata"):
            self.text_into = None

    def handle_data(self, data):
        if self.chart is None or self.text_into is None:
            return
        if self.text_into == "tips":
            self.chart["tips"] += data
        else:
            self.chart[self.text_into].append(data)


summary_charts = []
raw = open(page, "rb").read()
p = Page()
p.feed(raw.decode("utf-8"))  # the page must be valid UTF-8 whatever the ids
assert p.search, "no search box"
assert p.scripts == 1, p.scripts
assert not p.external, p.external
assert b"http://" not in raw.replace(b"http://www.w3.org/2000/svg", b""), "a network reference"
ids = [q["id"] for q in p.panels]
if want_ids:
    assert ids == want_ids, (ids, want_ids)
assert ids, "no panels"
# raw markup never carries an id's markup characters unescaped
for i in want_ids:
    if "<" in i:
        assert i.encode() not in raw, i


def check_chart(c, dated, need):
    yt = [float(t) for t in c["yt"]]
    assert len(yt) >= 3 and yt == sorted(yt), ("value axis", yt)
    xt = c["xt"]
    assert len(xt) >= 2, ("x ticks", xt)
    if dated:
        assert all(DATE.match(t) for t in xt), ("undated x ticks", xt)
        assert xt == sorted(xt), ("x ticks out of order", xt)
    missing = set(need) - c["cls"]
    assert not missing, ("missing", missing, c["cls"])
    rows = c["tips"].rstrip("\n").split("\n")
    assert len(rows) == c["x1"] - c["x0"] + 1, (len(rows), c["x0"], c["x1"])
    if dated:
        assert DATE.match(rows[0].split("|")[0]), rows[0]
    assert any("|" in r for r in rows), "tooltips without values"


need = {"forecast": ["fan80", "fan95", "hist", "fc", "origin"],
        "backtest": ["fan80", "fan95", "hist", "actual", "fc", "origin"],
        "plan": ["fan80", "fan95", "stock", "safety", "target"]}[kind]
for q in p.panels:
    assert q["charts"], ("panel without a chart", q["id"])
    for c in q["charts"]:
        check_chart(c, True, need)
        if window is not None:
            assert c["x1"] - c["x0"] + 1 == window, ("x positions", c["x0"], c["x1"], window)
if kind == "backtest":
    assert len(summary_charts) == 2, len(summary_charts)
    for c in summary_charts:
        check_chart(c, False, ["m0", "m1"])
print("ok", kind, len(p.panels), "panels")
