#!/usr/bin/env bash
# bench/run_gen.sh - generator throughput (docs/benchmarks.md): a world of
# about 100 million settlements with `medsweep gen`, its rows/s, size on disk
# and peak memory, on the given thread count.
#
#   bench/run_gen.sh [--persons N] [--institutions N] [--threads N] [--work DIR] [--keep]
#
# Default: 13 million persons (about 100 million settlements), 20,000
# institutions, 2 threads, in build/bench-gen (about 4 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=13000000
institutions=20000
threads=2
work=build/bench-gen
keep=0
bench_args 2,9 --persons --institutions --threads --work --keep:keep=1 -- "$@"

bench_build
echo "== medsweep gen benchmark: $persons persons, $institutions institutions, $threads threads"
bench_machine
rm -rf "$work"
mkdir -p "$(dirname "$work")"
"$bin" gen --out "$work" --persons "$persons" --institutions "$institutions" \
  --threads "$threads" --quiet
echo "   on disk: $(du -sh "$work" | cut -f1)"
[ "$keep" = 1 ] || rm -rf "$work"
