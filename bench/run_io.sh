#!/usr/bin/env bash
# bench/run_io.sh - the data layer's benchmark (docs/benchmarks.md):
#   CSV generation, `medsweep import` rows/s and peak memory, partition read
#   throughput with 1 and 2 threads in both read modes, and DuckDB loading and
#   scanning the same CSV in the same run.
#
#   bench/run_io.sh [--settlements N] [--threads 1,2] [--work DIR] [--keep]
#
# Default: 10 million settlements in build/bench-io (about 3 GB of CSV).
set -euo pipefail
cd "$(dirname "$0")/.."

settlements=10000000
threads=1,2
work=build/bench-io
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --settlements) settlements=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run_io.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/build.sh >/dev/null
bin=build/engine/medsweep
mkdir -p "$work"
echo "== medsweep data-layer benchmark: $settlements settlements, threads $threads"
echo "   machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "   git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo "== generate CSV"
t0=$(date +%s.%N)
build/bench/ms_mkcsv --settlements "$settlements" --seed 7 --out "$work/csv"
t1=$(date +%s.%N)
du -sh "$work/csv"
awk -v a="$t0" -v b="$t1" -v n="$settlements" 'BEGIN {printf "   %.1f s, %.2f M settlements/s\n", b-a, n/(b-a)/1e6}'

for t in ${threads//,/ }; do
  echo "== import, $t thread(s)"
  rm -rf "$work/data"
  OMP_NUM_THREADS=$t $bin import "$work/csv" "$work/data" --threads "$t" --quiet
done
$bin inspect "$work/data" | sed -n '1,12p'

echo "== partition read throughput (every settlement column)"
build/bench/bench_read "$work/data" --threads "$threads" --mode both --repeat 3

echo "== peer: DuckDB on the same CSV"
if ! command -v node >/dev/null; then
  echo "   node is missing: installing Debian's nodejs and npm"
  bash scripts/install-deps.sh --bench >/dev/null
fi
if [ ! -d bench/peer/node_modules/@duckdb/node-api ]; then
  (cd bench/peer && npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null)
fi
for t in ${threads//,/ }; do
  node bench/peer/duckdb_io.mjs "$work/csv" "$t" "$work/peer.duckdb"
done

[ "$keep" = 1 ] || rm -rf "$work/csv" "$work/data"
