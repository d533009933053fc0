#!/usr/bin/env bash
# tests/report/test_report.sh - report.html in a real browser (headless
# Chromium, Debian's chromium package), asserted from the rendered page
# (the DOM after its scripts ran), not from the HTML source:
#
#  0. the page's words: every indicator that can be a reason has what to
#     ask for on site, every clue fact a label (engine/ms_i18n_report.c);
#  1. a small world swept with --lang zh and with --lang en: the summary's
#     figures equal run.json's (rows read, per table, rejected) and
#     ranked.csv's (institutions ranked, with a reason, the money); the
#     list's first rows are ranked.csv's first rows; every dossier link
#     leads to a dossier;
#  2. the charts drew: every chart element holds an <svg> with paths, and
#     the page says it drew them all (body[data-charts]);
#  3. the language: the zh page's title, labels and reasons are Chinese;
#     the en page's text has no Chinese character at all;
#  4. no network request: Chromium's net log holds no request made for
#     the page (its own background requests, which it attributes to no
#     origin, are told apart and fail locally: every host name resolves to
#     nothing), and the console reports no load the page's
#     Content-Security-Policy had to block; the rendered page links and
#     loads nothing outside itself;
#  5. without scripts (the page with its scripts taken out) the same
#     figures are in the tables; without ECharts (MS_ECHARTS_JS pointing nowhere) the page
#     is written all the same, says it is tables only, and the sweep prints
#     nothing more;
#  6. the same sweep with 1 and 2 threads writes the same report.html.
#
# Screenshots of both pages (1400 x 2400) are kept in
# $MS_TEST_TMP/report-shots/ and copied to /tmp/report-zh.png and
# /tmp/report-en.png, for a person to look at.
#
# Skipped (77) without chromium.  Environment (from ctest): MS_BIN, MS_TEST_TMP.
set -euo pipefail
: "${MS_BIN:?}"
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "test_report: no chromium here (scripts/install-deps.sh installs it): skipped"; exit 77; }
tmp=${MS_TEST_TMP:-/tmp}
w=$tmp/report-$$
shots=$tmp/report-shots
rm -rf "$w"
mkdir -p "$w" "$shots"
keep=${MS_TEST_KEEP:-0}
trap '[ "$keep" = 1 ] || rm -rf "$w"' EXIT
fail() { echo "test_report: FAILED: $*" >&2; keep=1; exit 1; }

# One Chromium run: a profile of its own each time (two runs never share
# one), every host name resolving to nothing (nothing leaves the machine,
# whatever the browser tries), its own background services off as far as
# flags turn them off.
browse() { # browse NAME ARGS... (NAME: the profile and log names)
    local name=$1
    shift
    timeout 90 "$chrome" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$w/profile-$name" --no-first-run --disable-extensions --disable-sync \
        --disable-background-networking --disable-component-update --disable-default-apps --no-pings \
        --disable-domain-reliability --disable-breakpad --disable-spell-checking \
        --disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying \
        "--host-resolver-rules=MAP * ~NOTFOUND" --enable-logging=stderr --v=0 \
        --virtual-time-budget=5000 "$@" 2>"$w/chrome-$name.log"
}

echo "test_report: 0. the page's words: what to ask for behind every reason, every clue fact in words"
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python3 - "$src" <<'PY' || fail "report.html's catalogue (engine/ms_i18n_report.c) lacks words (above)"
import glob, re, sys
src = sys.argv[1]
keys = set(re.findall(r'\{"([a-z0-9_.]+)", "', open(src + "/engine/ms_i18n.c").read()))
report = set(re.findall(r'\{"(report\.[a-z0-9_.]+)", "', open(src + "/engine/ms_i18n_report.c").read()))
missing = []
for k in sorted(keys):
    if k.endswith(".reason"):  # an indicator that can be a reason
        ask = "report.ask." + k[: -len(".reason")]
        if ask not in report: missing.append(ask)
for f in glob.glob(src + "/models/*.c"):
    for col in re.findall(r'\{"([a-z_]+)", MS_FACT_[A-Z]+\}', open(f).read()):
        if "report.fact." + col not in report: missing.append("report.fact." + col)
assert not missing, "no words for: " + ", ".join(sorted(set(missing)))
PY

echo "test_report: a world of 200 institutions, its first one renamed in Chinese with markup in the name"
"$MS_BIN" gen --csv --out "$w/csv" --persons 20000 --institutions 200 --quiet >/dev/null
"$MS_BIN" import "$w/csv" "$w/data0" --quiet >/dev/null
"$MS_BIN" sweep "$w/data0" --out "$w/first" --quiet >/dev/null
# The name an extract could hold: Chinese, markup, quotes, an ampersand.
# The page must show it as text, exactly.
export MS_TEST_NAME='华山医院 <b>试</b> & "引号" '"'"'x'"'"
python3 - "$w/csv/institutions.csv" "$w/first/ranked.csv" <<'PY'
import csv, os, sys
top = next(csv.DictReader(open(sys.argv[2], encoding="utf-8-sig")))["inst_code"].lstrip("'")
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
col = rows[0].index("name")
hits = [r for r in rows[1:] if r[0] == top]
assert len(hits) == 1, top
hits[0][col] = os.environ["MS_TEST_NAME"]
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
PY
"$MS_BIN" import "$w/csv" "$w/data" --quiet >/dev/null

echo "test_report: swept in Chinese and in English"
"$MS_BIN" sweep "$w/data" --out "$w/zh" --lang zh --threads 2 >"$w/sweep-zh.out" 2>&1 || fail "sweep --lang zh: $(tail -3 "$w/sweep-zh.out")"
"$MS_BIN" sweep "$w/data" --out "$w/en" --lang en --quiet >/dev/null || fail "sweep --lang en"
for l in zh en; do
    [ -s "$w/$l/report.html" ] || fail "no $l/report.html"
    grep -q 'id="no-charts"' "$w/$l/report.html" &&
        fail "$l/report.html has no charts: ECharts is missing (scripts/fetch-report-deps.sh installs it)"
done

echo "test_report: 6. 1 and 2 threads write the same page"
"$MS_BIN" sweep "$w/data" --out "$w/zh1" --lang zh --threads 1 --quiet >/dev/null
cmp -s "$w/zh/report.html" "$w/zh1/report.html" || fail "report.html differs between 1 and 2 threads"

echo "test_report: rendering both pages in Chromium ($("$chrome" --version 2>/dev/null | head -1))"
for l in zh en; do
    browse "dom-$l" --log-net-log="$w/net-$l.json" --dump-dom "file://$w/$l/report.html" >"$w/$l.dom" ||
        fail "chromium could not render $l/report.html (log: $(tail -3 "$w/chrome-dom-$l.log"))"
    browse "shot-$l" --window-size=1400,2400 --screenshot="$shots/report-$l.png" "file://$w/$l/report.html" \
        >/dev/null || fail "chromium could not take the $l screenshot"
    [ -s "$shots/report-$l.png" ] || fail "no $l screenshot"
    cp "$shots/report-$l.png" "/tmp/report-$l.png" 2>/dev/null || true
done
# The page as a browser without scripts has it: its <script> elements
# taken out (Chromium's --dump-dom itself needs scripts).
python3 - "$w/zh/report.html" "$w/zh/noscript.html" <<'PY'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
stripped, n = re.subn(r"<script\b.*?</script>", "", page, flags=re.S)
assert n >= 3, n
open(sys.argv[2], "w", encoding="utf-8").write(stripped)
PY
browse noscript --dump-dom "file://$w/zh/noscript.html" >"$w/zh-noscript.dom" ||
    fail "chromium could not render zh/report.html without scripts"

echo "test_report: 5. without ECharts: tables only, said on the page, nothing more printed"
MS_ECHARTS_JS=$w/nowhere/echarts.min.js "$MS_BIN" sweep "$w/data" --out "$w/bare" --lang zh --threads 2 \
    >"$w/sweep-bare.out" 2>&1 || fail "sweep without ECharts: $(tail -3 "$w/sweep-bare.out")"
# Progress lines (a stage's N/M) depend on how long the run took.
noprog() { grep -Ev '^sweep: .* [0-9]+/[0-9]+ (slices|partitions)' "$1" | wc -l; }
[ "$(noprog "$w/sweep-bare.out")" = "$(noprog "$w/sweep-zh.out")" ] ||
    fail "the sweep printed something more without ECharts: $(cat "$w/sweep-bare.out")"
browse bare --dump-dom "file://$w/bare/report.html" >"$w/bare.dom" || fail "chromium could not render the bare page"

python3 - "$w" <<'PY' || fail "the rendered pages are wrong (above)"
import csv, json, os, re, sys
from html.parser import HTMLParser

w = sys.argv[1]

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

class Dom(HTMLParser):
    """The rendered page: text by element id, the rows of every table with
    an id, each chart element's SVG paths (d, fill), every src/href, and
    the visible text."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.ids, self.text = [], {}, []
        self.charts, self.urls, self.tables = {}, [], {}
        self.in_script = 0
        self.html_lang = self.body_charts = None
        self.table, self.row, self.cell = None, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html": self.html_lang = a.get("lang")
        if tag == "body": self.body_charts = a.get("data-charts")
        if tag in ("script", "style"): self.in_script += 1
        for k in ("src", "href", "xlink:href", "action", "data", "poster"):
            if a.get(k): self.urls.append((tag, k, a[k]))
        if tag == "table" and a.get("id"): self.table = self.tables.setdefault(a["id"], [])
        if self.table is not None and tag == "tr": self.row = []
        if self.row is not None and tag == "td": self.cell = []
        cls = (a.get("class") or "").split()
        if "chart" in cls and a.get("id"): self.charts[a["id"]] = {"svg": 0, "paths": []}
        hidden = any(t in ("defs", "clippath", "mask", "pattern") for t, _ in self.stack)
        for el in self.stack:
            if el[1] in self.charts and not hidden:
                if tag == "svg": self.charts[el[1]]["svg"] += 1
                if tag == "path":
                    fill = "" if a.get("fill-opacity") == "0" else a.get("fill", "")
                    self.charts[el[1]]["paths"].append((a.get("d", ""), fill))
        if tag not in VOID:
            self.stack.append((tag, a.get("id")))
        if a.get("id"): self.ids[a["id"]] = []
    def handle_endtag(self, tag):
        if tag in ("script", "style"): self.in_script -= 1
        if tag == "td" and self.cell is not None:
            self.row.append("".join(self.cell).strip()); self.cell = None
        if tag == "tr" and self.row is not None:
            if self.row: self.table.append(self.row)
            self.row = None
        if tag == "table": self.table = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag: break
    def handle_data(self, d):
        if self.in_script: return
        self.text.append(d)
        if self.cell is not None: self.cell.append(d)
        for t, i in self.stack:
            if i is not None: self.ids[i].append(d)
    def get(self, i):
        assert i in self.ids, "no element #%s in the rendered page" % i
        return "".join(self.ids[i]).strip()

BAR = re.compile(r"^M\s*([-\d.e]+)[ ,]([-\d.e]+)\s*l\s*([-\d.e]+)[ ,]([-\d.e]+)\s*l\s*([-\d.e]+)[ ,]([-\d.e]+)\s*l")

def bars(chart):
    """The bars a chart drew: visibly filled rectangles (ECharts writes a
    bar as M x y l w 0 l 0 h l -w 0 Z) of non-zero width and height, by
    colour."""
    out = []
    for d, fill in chart["paths"]:
        m = BAR.match(d)
        if not m or fill in ("", "none", "transparent"):
            continue
        v = [float(x) for x in m.groups()]
        w, h = abs(v[2]) + abs(v[4]), abs(v[3]) + abs(v[5])
        if w > 0.5 and h > 0.5:
            out.append(fill.lower())
    return out

def dom(path):
    d = Dom()
    d.feed(open(path, encoding="utf-8").read())
    return d

def rows_name(d):
    return d.tables["top-table"][0][2]

def number(s):
    return float(s.replace(",", "").strip())

def figures(d, run, ranked, where):
    read = run["rows_read"]
    assert number(d.get("sum-records")) == read["settlements"] + read["drug_items"], (where, d.get("sum-records"), read)
    assert number(d.get("sum-settlements")) == read["settlements"], where
    assert number(d.get("sum-drug-items")) == read["drug_items"], where
    rej = sum(v for t in run["rows_rejected"].values() for v in t.values())
    assert number(d.get("sum-rejected")) == rej, (where, d.get("sum-rejected"), rej)
    assert number(d.get("sum-ranked")) == len(ranked), (where, d.get("sum-ranked"), len(ranked))
    flagged = sum(1 for r in ranked if float(r["priority"]) > 0)
    assert flagged > 0, "the test world should have institutions with a reason"
    assert number(d.get("sum-flagged")) == flagged, (where, d.get("sum-flagged"), flagged)
    susp = sum(float(r["suspicious_amount_yuan"]) for r in ranked)
    assert abs(number(d.get("sum-suspicious")) - susp) < 0.01 * len(ranked) + 0.01, (where, d.get("sum-suspicious"), susp)
    # The list: ranked.csv's first rows, in order, with their priority.
    rows = d.tables.get("top-table", [])
    assert 0 < len(rows) <= 50 and len(rows) == min(50, len(ranked)), (where, len(rows))
    for got, want in zip(rows, ranked):
        assert got[0] == want["rank"] and got[1] == want["inst_code"].lstrip("'"), (where, got[:3], want["rank"], want["inst_code"])
        assert got[5] == want["priority"], (where, got[1], got[5], want["priority"])
    return flagged

cjk = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
for lang in ("zh", "en"):
    run = json.load(open("%s/%s/run.json" % (w, lang)))
    ranked = list(csv.DictReader(open("%s/%s/ranked.csv" % (w, lang), encoding="utf-8-sig")))
    d = dom("%s/%s.dom" % (w, lang))
    flagged = figures(d, run, ranked, lang)
    # 2. the charts drew: each chart element holds an SVG whose bars are
    # the page's data, and that data agrees with the tables and ranked.csv
    # (the data is read from the page's own JSON; the bars from the
    # rendered SVG).
    src = open("%s/%s/report.html" % (w, lang), encoding="utf-8").read()
    data = json.loads(re.search(r'<script type="application/json" id="ms-data">(.*?)</script>', src, re.S).group(1))
    assert d.charts, "%s: no chart element in the rendered page" % lang
    for cid, c in d.charts.items():
        assert c["svg"] >= 1, "%s: chart #%s drew no SVG" % (lang, cid)
    assert d.body_charts == str(len(d.charts)), (lang, d.body_charts, len(d.charts))
    for must in ("chart-top", "chart-ind", "chart-prov"):
        assert must in d.charts, "%s: no %s" % (lang, must)
    top = data["top"]
    assert len(top["cat"]) == min(20, flagged), (lang, len(top["cat"]))
    for k, r in enumerate(ranked[: len(top["cat"])]):  # the parts add up to the priority
        total = sum(s["data"][k] for s in top["series"])
        assert abs(total - float(r["priority"])) < 0.0005, (lang, k, total, r["priority"])
    parts = sum(1 for s in top["series"] for v in s["data"] if v > 0)
    assert len(bars(d.charts["chart-top"])) >= parts > 0, (lang, "chart-top", len(bars(d.charts["chart-top"])), parts)
    cred = [int(number(r[3])) for r in d.tables["indicator-table"]]
    assert data["ind"]["val"] == cred, (lang, data["ind"]["val"], cred)
    assert len(bars(d.charts["chart-ind"])) == sum(1 for v in cred if v > 0), (lang, "chart-ind")
    flag = [int(number(r[2])) for r in d.tables["province-table"]]
    assert data["prov"]["flagged"] == flag, (lang, data["prov"]["flagged"], flag)
    assert len(bars(d.charts["chart-prov"])) == sum(1 for v in flag if v > 0), (lang, "chart-prov")
    hists = [h for h in data["hist"] if h.get("el")]
    assert hists and len(hists) == sum(1 for k in d.charts if k.startswith("h-")), (lang, len(hists))
    for h in hists:
        assert sum(h["c"]) == h["n"] and h["c"][h["m"]] >= 1, (lang, h)
        got = bars(d.charts[h["el"]])
        assert len(got) == sum(1 for c in h["c"] if c > 0), (lang, h["el"], got, h["c"])
        assert got.count("#b3261e") == 1, "%s: %s does not mark the institution's bin: %s" % (lang, h["el"], got)
    # every dossier link leads to a dossier, one per row with a reason
    links = [u for t, k, u in d.urls if t == "a" and u.startswith("#d-")]
    assert len(links) == min(flagged, 50), (lang, len(links), flagged)
    for u in links:
        assert u[1:] in d.ids, "%s: dossier %s missing" % (lang, u)
    # 4. nothing outside the page: only in-page links, nothing loaded
    for t, k, u in d.urls:
        assert (t == "a" and k == "href" and u.startswith("#")), "%s: <%s %s=%r> points outside the page" % (lang, t, k, u)
    # the renamed institution, first in the list, shown as text exactly
    name = os.environ["MS_TEST_NAME"]
    assert rows_name(d) == name, (lang, rows_name(d), name)
    raw = open("%s/%s.dom" % (w, lang), encoding="utf-8").read()
    assert "<b>试</b>" not in raw and "&lt;b&gt;试&lt;/b&gt;" in raw, "%s: the name's markup was not escaped" % lang
    # 3. the language
    text = "".join(d.text).replace(name, "")
    title = d.get("title")
    if lang == "zh":
        assert d.html_lang == "zh-CN" and title == "医保基金监管筛查报告", (d.html_lang, title)
        for label in ("本期概况", "重点核查机构", "按模型", "按省份", "机构档案", "现场核查需调取", "同类机构"):
            assert label in text, "zh: no %r on the page" % label
        assert "Institutions" not in text and "peers" not in text, "zh: English labels on the Chinese page"
    else:
        assert d.html_lang == "en" and title == "Medical-insurance fund screening report", (d.html_lang, title)
        for label in ("This sweep at a glance", "Institutions to inspect first", "What to ask for on site", "vs peers"):
            assert label in text, "en: no %r on the page" % label
        found = sorted(set(cjk.findall(text)))
        assert not found, "en: Chinese characters on the English page: %s" % "".join(found[:40])
    # 4. the net log: no request made for the page
    net = json.load(open("%s/net-%s.json" % (w, lang)))
    names = {v: k for k, v in net["constants"]["logEventTypes"].items()}
    page, browser = [], []
    for e in net["events"]:
        p = e.get("params") or {}
        if names.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        mine = "file://" in str(p.get("network_isolation_key", "")) or p.get("initiator") in ("null", "file://")
        (page if mine else browser).append(p["url"])
    bad = [u for u in page if not u.startswith("file:")]
    assert not bad, "%s: the page made network requests: %s" % (lang, bad)
    log = open("%s/chrome-dom-%s.log" % (w, lang), errors="replace").read()
    assert "Content Security Policy" not in log, "%s: the page tried to load something: %s" % (
        lang, [l for l in log.splitlines() if "Content Security Policy" in l][:3])
    print("test_report: %s: figures match run.json and ranked.csv, %d charts drew, %d dossiers, "
          "no request from the page (Chromium's own, blocked: %d)" % (lang, len(d.charts), len(links), len(browser)))

# 5. without scripts: the same figures, in tables, no chart drawn
run = json.load(open("%s/zh/run.json" % w))
ranked = list(csv.DictReader(open("%s/zh/ranked.csv" % w, encoding="utf-8-sig")))
d = dom("%s/zh-noscript.dom" % w)
figures(d, run, ranked, "zh without scripts")
assert d.body_charts is None and all(c["svg"] == 0 for c in d.charts.values()), "charts drew without scripts?"
# without the library: said on the page, the tables all there
d = dom("%s/bare.dom" % w)
figures(d, run, ranked, "zh without ECharts")
assert "no-charts" in d.ids and "ECharts" in d.get("no-charts"), "the bare page does not say it has no charts"
assert not d.charts and d.body_charts is None, "the bare page has chart elements"
print("test_report: without scripts and without ECharts: the same figures, in tables")
PY

for l in zh en; do
    python3 - "$shots/report-$l.png" <<'PY' || fail "the $l screenshot is not a 1400 x 2400 PNG"
import struct, sys
b = open(sys.argv[1], "rb").read(32)
assert b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (1400, 2400), b[:24]
PY
done
echo "test_report: screenshots in $shots (and /tmp/report-zh.png, /tmp/report-en.png)"
echo "test_report: passed"
