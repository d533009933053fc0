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

persons=13000000
institutions=20000
threads=2
work=build/bench-gen
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --institutions) institutions=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run_gen.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/build.sh >/dev/null
echo "== medsweep gen benchmark: $persons persons, $institutions institutions, $threads threads"
echo "   machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
rm -rf "$work"
mkdir -p "$(dirname "$work")"
build/engine/medsweep gen --out "$work" --persons "$persons" --institutions "$institutions" \
  --threads "$threads" --quiet
echo "   on disk: $(du -sh "$work" | cut -f1)"
[ "$keep" = 1 ] || rm -rf "$work"
