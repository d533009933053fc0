#!/usr/bin/env bash
# bench/run_sweep.sh - the engine's benchmark (docs/benchmarks.md):
#   the sweep's raw limit (decoding every settlement chunk, bench_read) beside
#   a sweep that reads every settlement column and aggregates per institution
#   (the volume model with --all-columns), with 1..N threads; the batch-size
#   sweep; every model with its keys counted and with every keyed record
#   held; and DuckDB's per-institution GROUP BY over the same rows.
#
#   bench/run_sweep.sh [--persons N] [--threads 1,2] [--work DIR] [--no-peer] [--keep]
#
# Default: 1.3 million persons (about 10 million settlements).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=1300000
threads=1,2
work=build/bench-sweep
peer=1
keep=0
bench_args 2,10 --persons --threads --work --no-peer:peer=0 --keep:keep=1 -- "$@"

bench_build
echo "== medsweep engine benchmark: $persons persons, threads $threads"
bench_machine
bench_world "$work/data" "$persons"

echo "== raw limit: decode every settlement chunk (bench_read, pread)"
build/bench/bench_read "$work/data" --threads "$threads" --mode pread --repeat 3

# One sweep: prints "name  records/s  (map stage)" from run.json.
sweep() {
  local name=$1; shift
  rm -rf "$work/out"
  "$bin" sweep "$work/data" --out "$work/out" --quiet "$@" >/dev/null
  python3 - "$work/out/run.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["rows_read"]["settlements"] + r["rows_read"]["drug_items"]
st = r["stage_seconds"]
print(f'{sys.argv[2]:44s} {rows / st["map"] / 1e6:7.2f} M rec/s (map {st["map"]:.2f} s, total {r["throughput"]["seconds"]:.2f} s, '
      f'batch {r["configuration"]["batch_rows"]}, peak {r["peak_memory_bytes"] / 2**20:.0f} MiB)')
PY
}

echo "== sweep: every settlement column, aggregated per institution (volume model)"
for t in ${threads//,/ }; do
  sweep "sweep all columns, $t thread(s)" --models volume --all-columns --threads "$t"
done
for t in ${threads//,/ }; do
  sweep "sweep volume columns only, $t thread(s)" --models volume --threads "$t"
done

echo "== batch size (2 threads, all columns)"
for b in 1024 4096 16384 65536; do
  sweep "batch $b rows" --models volume --all-columns --threads 2 --batch-rows "$b"
done

# Every model, keys counted before the map (the default) and every keyed
# record held (--no-key-count): the same outputs; CPU seconds of the whole
# process, peak memory and the keyed records each held.
echo "== every model: key count on and off (docs/engine.md, Key count)"
for t in ${threads//,/ }; do
  for kc in "" --no-key-count; do
    rm -rf "$work/out"
    /usr/bin/time -f "%U %S" -o "$work/time" "$bin" sweep "$work/data" --out "$work/out" --quiet --threads "$t" $kc >/dev/null
    python3 - "$work/out/run.json" "$work/time" "$t" "${kc:-key count}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
user, sys_ = (float(x) for x in open(sys.argv[2]).read().split()[-2:])
rows = r["rows_read"]["settlements"] + r["rows_read"]["drug_items"]
held = sum(k["records"] for k in r["keyed_aggregations"])
print(f'{sys.argv[4]:16s} {sys.argv[3]} thread(s): {rows / (user + sys_) / 1e6:6.2f} M rec per CPU-s '
      f'(user {user:.2f} s, sys {sys_:.2f} s), total {r["throughput"]["seconds"]:.2f} s, '
      f'peak {r["peak_memory_bytes"] / 2**20:.0f} MiB, keyed records held {held / 1e6:.2f} M')
PY
  done
done

if [ "$peer" = 1 ]; then
  echo "== peer: DuckDB, the same settlements grouped by institution"
  bench_peer_deps ""
  rm -rf "$work/csv"
  "$bin" export "$work/data" "$work/csv"
  for t in ${threads//,/ }; do
    node bench/peer/duckdb_sweep.mjs "$work/csv" "$t" "$work/peer.duckdb"
  done
  rm -rf "$work/csv"
fi
rm -rf "$work/out"
[ "$keep" = 1 ] || rm -rf "$work"
