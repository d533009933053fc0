#!/usr/bin/env bash
# bench/run_models.sh - where each model spends its time, with the kernel
# set this CPU runs best and with the references (docs/kernels.md):
#   one whole sweep per kernel set (every model, 1 thread), alternated
#   --repeat times; per model the map's CPU ns per record of the tables it
#   reads and its reduce seconds (run.json "models"), the median of the
#   repeats, and the ratio reference / fast.
#
#   bench/run_models.sh [--persons N] [--data DIR] [--models LIST] [--sets ref,best] [--repeat 3] [--work DIR]
#
# --sets: kernel sets (MS_KERNELS values); "best" leaves MS_KERNELS unset.
#
# Default: a generated world of 1.3 million persons (about 16 million
# records); --data sweeps an existing dataset instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=1300000
data=
models=
sets=
repeat=3
work=build/bench-models
bench_args 2,14 --persons --data --models --sets --repeat --work -- "$@"

bench_build
# "best": MS_KERNELS unset, the set the CPU detection picks (run.json names it).
[ -n "$sets" ] || sets=ref,best
echo "== medsweep models: map and reduce cost per record, kernel sets $sets"
bench_machine
if [ -z "$data" ]; then
  data=$work/data
  bench_world "$data" "$persons"
fi
mkdir -p "$work/runs"
extra=()
[ -z "$models" ] || extra=(--models "$models")

IFS=, read -r -a setv <<<"$sets"
for ((r = 0; r < repeat; r++)); do
  for s in "${setv[@]}"; do
    rm -rf "$work/out"
    if [ "$s" = best ]; then k=; else k=$s; fi
    MS_KERNELS=$k "$bin" sweep "$data" --out "$work/out" --quiet --threads 1 "${extra[@]}" >/dev/null
    cp "$work/out/run.json" "$work/runs/$s-$r.json"
  done
done

python3 - "$work/runs" "$sets" "$repeat" <<'PY'
import json, statistics, sys
d, sets, repeat = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
runs = {s: [json.load(open(f"{d}/{s}-{r}.json")) for r in range(repeat)] for s in sets}
# Each set by the name run.json gives it ("best" is the CPU's pick).
names = {s: runs[s][0]["configuration"]["kernels"] for s in sets}
med = statistics.median
first = runs[sets[0]][0]
rows = first["rows_read"]
print(f"   data: {rows['settlements']:,} settlements + {rows['drug_items']:,} drug items; median of {repeat}")
head = "   model        " + "".join(f"{'map ns/rec ' + names[s]:>20}" for s in sets)
if len(sets) == 2:
    head += f"{'x ' + names[sets[0]]:>10}"
head += "".join(f"{'reduce s ' + names[s]:>18}" for s in sets)
print(head)
tot = {s: 0.0 for s in sets}
for i, m in enumerate(first["models"]):
    ns = {s: med(r["models"][i]["map_ns_per_record"] for r in runs[s]) for s in sets}
    red = {s: med(r["models"][i]["reduce_seconds"] for r in runs[s]) for s in sets}
    for s in sets:
        tot[s] += med(r["models"][i]["map_cpu_seconds"] for r in runs[s])
    line = f"   {m['name']:<13}" + "".join(f"{ns[s]:>20.1f}" for s in sets)
    if len(sets) == 2:
        line += f"{ns[sets[0]] / ns[sets[1]] if ns[sets[1]] else 0:>10.2f}"
    line += "".join(f"{red[s]:>18.3f}" for s in sets)
    print(line)
read = {s: med(r["throughput"]["read_cpu_seconds"] for r in runs[s]) for s in sets}
print("   all models' map, CPU s: " + ", ".join(f"{names[s]} {tot[s]:.3f}" for s in sets) +
      (f"  (x {tot[sets[0]] / tot[sets[1]]:.2f})" if len(sets) == 2 and tot[sets[1]] else ""))
print("   reading (decode, checks, persons), CPU s: " + ", ".join(f"{names[s]} {read[s]:.3f}" for s in sets))
PY
