#!/usr/bin/env bash
# bench/run_ranks.sh - the sweep across MPI ranks (docs/cluster.md): one
# whole sweep (every model) with 1, 2 and 4 ranks of --threads threads each
# under mpirun, alternated --repeat times; per rank count the wall time,
# records per second, records per CPU-second (user + sys of every rank,
# from the rusage of mpirun's children), peak memory of the largest rank,
# and the keyed records and bytes each rank sent in the exchange
# (run.json "cluster").  Checks every run's outputs against the first
# one-rank run byte for byte.
#
#   bench/run_ranks.sh [--persons N] [--data DIR] [--ranks 1,2,4] [--threads 1] [--repeat 2] [--work DIR]
#
# On this 2-core machine more ranks than cores are oversubscribed: 4 ranks
# share 2 cores, so their wall time says what the exchange and the merge
# cost, not how a cluster scales (docs/benchmarks.md says so beside the
# figures).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=1300000
data=
ranks=1,2,4
threads=1
repeat=2
work=build/bench-ranks
bench_args 2,18 --persons --data --ranks --threads --repeat --work -- "$@"

bench_build
command -v mpirun >/dev/null || { echo "run_ranks: no mpirun (scripts/install-deps.sh installs Open MPI)" >&2; exit 1; }
case "$("$bin" --version)" in
*"cluster mode: none"*) echo "run_ranks: $bin was built without MPI" >&2; exit 1 ;;
esac
echo "== medsweep sweep across MPI ranks: ranks $ranks x $threads thread(s)"
bench_machine
if [ -z "$data" ]; then
  data=$work/data
  bench_world "$data" "$persons"
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$work/runs"
IFS=, read -r -a rankv <<<"$ranks"
for ((r = 0; r < repeat; r++)); do
  for n in "${rankv[@]}"; do
    rm -rf "$work/out"
    /usr/bin/time -f "%e %U %S" -o "$work/runs/$n-$r.time" \
      mpirun -np "$n" --bind-to none "$bin" sweep "$data" --out "$work/out" --quiet --threads "$threads" >/dev/null
    cp "$work/out/run.json" "$work/runs/$n-$r.json"
    if [ -d "$work/first" ]; then
      for f in ranked.csv indicators.csv clues.csv features.h5; do
        cmp -s "$work/first/$f" "$work/out/$f" || { echo "run_ranks: $n ranks wrote another $f" >&2; exit 1; }
      done
    else
      mv "$work/out" "$work/first"
    fi
  done
done
rm -rf "$work/first" "$work/out"

python3 - "$work/runs" "$ranks" "$repeat" <<'PY'
import json, statistics, sys
d, ranks, repeat = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], int(sys.argv[3])
med = statistics.median
print(f"   {'ranks':>5} {'wall s':>8} {'M rec/s':>8} {'M rec/CPU-s':>12} {'peak MiB':>9} {'exchange s':>11}  keyed records / MB sent by each rank")
for n in ranks:
    runs = [json.load(open(f"{d}/{n}-{r}.json")) for r in range(repeat)]
    times = [tuple(map(float, open(f"{d}/{n}-{r}.time").read().split()[-3:])) for r in range(repeat)]
    rec = runs[0]["throughput"]["records"]
    wall = med(t[0] for t in times)
    cpu = med(t[1] + t[2] for t in times)
    peak = med(r["peak_memory_bytes"] for r in runs) / 2**20
    cl = runs[0].get("cluster")
    exch = med(max(x["exchange_seconds"] for x in r["cluster"]["per_rank"]) for r in runs) if cl else 0.0
    sent = ", ".join(f"{x['keyed_records_sent'] / 1e6:.2f} M / {x['keyed_bytes_sent'] / 1e6:.0f} MB" for x in cl["per_rank"]) if cl else "-"
    print(f"   {n:>5} {wall:>8.2f} {rec / wall / 1e6:>8.2f} {rec / cpu / 1e6:>12.2f} {peak:>9.0f} {exch:>11.3f}  {sent}")
print(f"   records: {rec:,}; median of {repeat}; peak: rank 0's (run.json)")
PY
