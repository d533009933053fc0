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
# shellcheck source=bench/lib.sh
. bench/lib.sh

settlements=10000000
threads=1,2
work=build/bench-io
keep=0
bench_args 2,9 --settlements --threads --work --keep:keep=1 -- "$@"

bench_build
mkdir -p "$work"
echo "== medsweep data-layer benchmark: $settlements settlements, threads $threads"
echo "   machine: $(nproc) cores, $(bench_memory), $(uname -r)"
echo "   git: $(bench_git)"

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
bench_peer_deps "   node is missing: installing Debian's nodejs and npm"
for t in ${threads//,/ }; do
  node bench/peer/duckdb_io.mjs "$work/csv" "$t" "$work/peer.duckdb"
done

[ "$keep" = 1 ] || rm -rf "$work/csv" "$work/data"
