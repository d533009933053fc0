#!/usr/bin/env bash
# bench/run_drugs.sh - the drug-traceability model's benchmark
# (docs/benchmarks.md, "Drug traceability"): a generated world, swept with
# --models drugs in memory (default cap) and with a forced spill (the
# smallest --memory-cap the engine takes for the thread count, read from its
# own refusal), printing traceability codes per second per core = drug lines
# / (map + reduce seconds) / threads, from run.json, and the peak memory.
# The two sweeps must write byte-identical indicators.csv and clues.csv.
#
#   bench/run_drugs.sh [--persons N] [--threads 1,2] [--work DIR] [--keep]
#
# Default: 2.5 million persons (about 11 million drug lines).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=2500000
threads=1,2
work=build/bench-drugs
keep=0
bench_args 2,13 --persons --threads --work --keep:keep=1 -- "$@"

bench_build
echo "== drugs model benchmark: $persons persons, threads $threads"
bench_machine
bench_world "$work/data" "$persons"

# One sweep into $work/$1: prints the figures from run.json.
sweep() {
  local out=$1 name=$2; shift 2
  rm -rf "${work:?}/$out"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" sweep "$work/data" --out "$work/$out" --quiet --models drugs "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 - "$work/$out" "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" <<'PY'
import csv, json, sys
out, name, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
r = json.load(open(out + "/run.json"))
lines = r["rows_read"]["drug_items"]
st, cfg = r["stage_seconds"], r["configuration"]
mr = st["map"] + st["reduce"]
rep = hoard = 0
for row in csv.DictReader(open(out + "/indicators.csv")):
    if row["model"] != "drugs": continue
    if row["indicator"] == "repeated_trace_code": rep += int(row["numerator"])
    if row["indicator"] == "hoarding_buyer_share": hoard += int(row["numerator"])
print(f'{name:34s} {lines / mr / cfg["threads"] / 1e6:6.2f} M codes/s/core  (drug lines {lines}, '
      f'map {st["map"]:.2f} s, reduce {st["reduce"]:.2f} s, wall {wall:.1f} s, threads {cfg["threads"]}, '
      f'cap {cfg["memory_cap"] / 2**20:.0f} MiB, shuffle {cfg["shuffle_memory"] / 2**20:.0f} MiB, '
      f'peak {r["peak_memory_bytes"] / 2**20:.0f} MiB; repeats {rep}, hoarder lines {hoard})')
PY
}

for t in ${threads//,/ }; do
  sweep mem "in memory, $t thread(s)" --threads "$t"
  least=$("$bin" sweep "$work/data" --out "$work/probe" --replace --quiet --models drugs --threads "$t" --memory-cap 1M 2>&1 |
          sed -n 's/.*at least \([0-9]*\) MiB.*/\1/p' || true)
  if [ -z "$least" ]; then echo "run_drugs.sh: could not read the smallest --memory-cap" >&2; exit 1; fi
  sweep spill "spill (--memory-cap ${least}M), $t thread(s)" --threads "$t" --memory-cap "${least}M"
  for f in indicators.csv clues.csv; do
    cmp -s "$work/mem/$f" "$work/spill/$f" || { echo "run_drugs.sh: $f differs between in-memory and spill" >&2; exit 1; }
  done
  echo "   in-memory and spill outputs identical (indicators.csv, clues.csv)"
done

echo "== peer: DuckDB, the same drug lines: codes sold more than once (GROUP BY ... HAVING)"
bench_peer_deps ""
rm -rf "$work/csv"
"$bin" export "$work/data" "$work/csv"
for t in ${threads//,/ }; do
  node bench/peer/duckdb_codes.mjs "$work/csv" "$t" "$work/peer.duckdb"
done
rm -rf "${work:?}/csv"

[ "$keep" = 1 ] || rm -rf "${work:?}/mem" "${work:?}/spill" "${work:?}/probe"
