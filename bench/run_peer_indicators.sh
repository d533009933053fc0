#!/usr/bin/env bash
# bench/run_peer_indicators.sh - the sweep against its peer on the same rows
# (docs/benchmarks.md): DuckDB computing every model's indicators with SQL
# (bench/peer/duckdb_indicators.mjs), checked institution by institution
# against the sweep's indicators.csv (numerator and denominator equal), and
# timed one indicator, one model and all models at a time, beside
# `medsweep sweep --models X` for each model and the full sweep.
#
#   bench/run_peer_indicators.sh [--persons N] [--threads 1,2] [--repeat R] [--work DIR]
#                                [--no-build] [--keep]
#
# Default: 1.3 million persons (about 10 million settlements), threads 1,2,
# each timing the median of 3 runs (--repeat) after a warm-up (DuckDB).
# --no-build uses build/engine/medsweep as it is.  The world and its CSV
# stay in DIR with --keep (and are reused by the next run with that DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=1300000
threads=1,2
repeat=3
work=build/bench-peer-indicators
build=1
keep=0
bench_args 2,16 --persons --threads --repeat --work --no-build:build=0 --keep:keep=1 -- "$@"

if [ "$build" = 1 ]; then bench_build; else bin=build/engine/medsweep; fi
[ -x "$bin" ] || { echo "run_peer_indicators.sh: no $bin (build it, or drop --no-build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run_peer_indicators.sh: needs /usr/bin/time (Debian package time)" >&2; exit 1; }
echo "== indicators: the sweep against DuckDB, $persons persons, threads $threads, median of $repeat"
bench_machine
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this box slows both sides)"
mkdir -p "$work"
bench_world "$work/data" "$persons"
if [ ! -f "$work/csv/settlements.csv" ]; then
  rm -rf "${work:?}/csv"
  t0=$(date +%s.%N)
  "$bin" export "$work/data" "$work/csv"
  echo "   exported the world as CSV in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s (not timed)"
fi
bench_peer_deps "   installing Node.js for the DuckDB peer"

models="all volume overload false_hosp decomposed upcoding cost_shift drugs"

# One sweep: run.json's stages and /usr/bin/time -v's CPU seconds and peak
# memory, as one JSON line on stdout.
sweep_once() {
  local t=$1 m=$2 out=$work/sweep-$1-$2
  local -a sel=()
  [ "$m" = all ] || sel=(--models "$m")
  rm -rf "$out"
  /usr/bin/time -v -o "$out.time" "$bin" sweep "$work/data" --out "$out" --quiet --threads "$t" "${sel[@]}" >/dev/null
  python3 - "$out" "$t" "$m" <<'PY'
import json, re, sys
out, t, m = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(out + "/run.json"))
tv = open(out + ".time").read()
num = lambda k: float(re.search(re.escape(k) + r":\s*([0-9.:]+)", tv).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*(\S+)", tv).group(1).split(":")
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
st = r["stage_seconds"]
print(json.dumps({"threads": t, "model": m, "records": r["rows_read"]["settlements"] + r["rows_read"]["drug_items"],
                  "stages": st, "compute": st["map"] + st["merge"] + st["reduce"] + st["finalize"],
                  "seconds": r["throughput"]["seconds"], "wall": wall,
                  "cpu": num("User time (seconds)") + num("System time (seconds)"),
                  "peak_mib": num("Maximum resident set size (kbytes)") / 1024,
                  "rejected": sum(sum(v.values()) for v in r["rows_rejected"].values())}))
PY
}

for t in ${threads//,/ }; do
  echo "== $t thread(s): medsweep sweep, all models and each model alone (median of $repeat by compute time)"
  : >"$work/sweep-$t.jsonl"
  for m in $models; do
    for _ in $(seq "$repeat"); do sweep_once "$t" "$m"; done >"$work/runs.jsonl"
    python3 -c '
import json, sys
runs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["compute"])
print(json.dumps(runs[(len(runs) - 1) // 2]))' "$work/runs.jsonl" >>"$work/sweep-$t.jsonl"
    # A model swept alone writes the same numbers as in the full sweep.
    if [ "$m" != all ]; then
      cmp -s <(grep -E ",($m|volume)," "$work/sweep-$t-all/indicators.csv") \
             <(grep -E ",($m|volume)," "$work/sweep-$t-$m/indicators.csv") ||
        { echo "run_peer_indicators.sh: --models $m writes other indicators than the full sweep" >&2; exit 1; }
    fi
  done
  echo "== $t thread(s): DuckDB, the same indicators in SQL, checked against the sweep's indicators.csv"
  /usr/bin/time -v -o "$work/peer-$t.time" node bench/peer/duckdb_indicators.mjs "$work/csv" "$t" "$work/peer.duckdb" \
    --check "$work/sweep-$t-all/indicators.csv" --repeat "$repeat" >"$work/peer-$t.jsonl"
  python3 - "$work/sweep-$t.jsonl" "$work/peer-$t.jsonl" "$work/peer-$t.time" "$t" <<'PY'
import json, re, sys
sw = {r["model"]: r for r in map(json.loads, open(sys.argv[1]))}
peer = [json.loads(l) for l in open(sys.argv[2])]
peak = float(re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", open(sys.argv[3]).read()).group(1)) / 1024
t = sys.argv[4]
M = lambda x: f"{x / 1e6:.2f} M"
def match(p):
    if not p["checked"]: return "not checked"
    if p["differing"] == 0: return "yes"
    bad = ", ".join(f"{k} {v}" for k, v in p["differing_by_indicator"].items() if v)
    return f"**no**: {p['differing']} institutions ({bad})"
pre = {(p["unit"], p["model"]): p for p in peer if p["unit"].endswith("-prefiltered")}
rows = []
def row(name, s, p, q=None):
    rows.append([name,
                 f"{s['compute']:.2f} ({s['cpu']:.2f} CPU)" if s else "",
                 f"{p['seconds']:.2f} ({p['cpu_seconds']:.2f} CPU)",
                 f"{q['seconds']:.2f} ({q['cpu_seconds']:.2f} CPU)" if q else "",
                 f"{M(s['records'] / s['compute'])} / {M(s['records'] / s['cpu'])}" if s else "",
                 f"{M(p['records_per_s'])} / {M(p['records_per_cpu_s'])}",
                 match(p) + ("" if not q or q["differing"] == 0 else f"; prefiltered {match(q)}")])
for m in ["volume", "overload", "false_hosp", "decomposed", "upcoding", "cost_shift", "drugs"]:
    ps = [p for p in peer if p["model"] == m]
    for p in ps:
        if p["unit"] == "model": row(f"**{m}**", sw.get(m), p, pre.get(("model-prefiltered", m)))
    for p in ps:
        if p["unit"] == "indicator": row(f"&nbsp;&nbsp;{p['indicators'][0]}", None, p)
allp = next(p for p in peer if p["unit"] == "all")
row("**every model** (full sweep; DuckDB: one statement)", sw["all"], allp, pre.get(("all-prefiltered", "all")))
models = [p for p in peer if p["unit"] == "model"]
ssum, csum = sum(p["seconds"] for p in models), sum(p["cpu_seconds"] for p in models)
mpre = [p for p in peer if p["unit"] == "model-prefiltered"]
rows.append(["every model (DuckDB: the 7 model statements in turn)", "", f"{ssum:.2f} ({csum:.2f} CPU)",
             f"{sum(p['seconds'] for p in mpre):.2f} ({sum(p['cpu_seconds'] for p in mpre):.2f} CPU)" if mpre else "",
             "", f"{M(allp['records'] / ssum)} / {M(allp['records'] / csum)}", "(as the model rows)"])
a = sw["all"]
print(f"{allp['records']:,} records (settlements + drug items), {t} thread(s). Full sweep: map {a['stages']['map']:.2f} s, "
      f"merge {a['stages']['merge']:.2f}, reduce {a['stages']['reduce']:.2f}, finalize+score {a['stages']['finalize']:.2f}, "
      f"write {a['stages']['write']:.2f}; process wall {a['wall']:.2f} s, CPU {a['cpu']:.2f} s, peak {a['peak_mib']:,.0f} MiB; "
      f"rows the quality filter rejected: {a['rejected']}. DuckDB process peak {peak:,.0f} MiB (tables loaded in it).")
print()
print("| indicator (or model) | sweep s: map+merge+reduce+finalize (CPU s: the whole process, plan and write included) | DuckDB s, filter in the query "
      "(CPU s) | DuckDB s, rows filtered at load (CPU s) | sweep records/s / per CPU-s | DuckDB records/s / per CPU-s "
      "| match: every institution's num and den |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for r in rows: print("| " + " | ".join(r) + " |")
print()
PY
done
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work/runs.jsonl" "$work/peer.duckdb" "$work/peer.duckdb.wal"
[ "$keep" = 1 ] || rm -rf "${work:?}"
