#!/usr/bin/env bash
# bench/run_eval.sh - detection quality (docs/models.md): a generated world
# swept and evaluated against its truth at default and at low intensity,
# beside the naive ranking by fund payment; plus the full sweep's speed.
#
#   bench/run_eval.sh [--persons N] [--institutions N] [--low X] [--work DIR]
#
# Default: 1.3 million persons (about 10 million settlements), 2,600
# institutions, low intensity 0.3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
persons=1300000
institutions=2600
low=0.3
work=build/bench-eval
bench_args 2,9 --persons --institutions --low --work -- "$@"
bench_build
for intensity in 1 "$low"; do
  echo "== intensity $intensity: $persons persons, $institutions institutions"
  "$bin" gen --out "$work/world" --persons "$persons" --institutions "$institutions" --intensity "$intensity" \
    --quiet --replace
  "$bin" sweep "$work/world" --out "$work/sweep" --quiet --replace
  python3 - "$work/sweep/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["rows_read"]["settlements"] + r["rows_read"]["drug_items"]
st = r["stage_seconds"]
print(f'   sweep, every model: {rows} records, map {st["map"]:.2f} s ({rows / st["map"] / 1e6:.2f} M records/s), '
      f'total {r["throughput"]["seconds"]:.2f} s, {r["configuration"]["threads"]} threads, '
      f'peak {r["peak_memory_bytes"] / 2**20:.0f} MiB')
PY
  "$bin" eval "$work/sweep" --truth "$work/world/truth"
done
rm -rf "$work"
