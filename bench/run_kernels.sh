#!/usr/bin/env bash
# bench/run_kernels.sh - the kernel benchmark (bench/bench_kernels.c): every
# kernel of the dispatch table for every instruction set this CPU runs, at
# working sets in L1, L2, L3 and memory, records/s and GB/s beside the
# reference and a streaming read of as many bytes (bench_kernels --help says
# how to read the tables).  Builds bench_kernels into ./build when needed, that
# target only, so that a tree whose other parts are mid-edit still measures.
#
#   bench/run_kernels.sh [--json FILE] [BENCH_KERNELS_OPTIONS...]
#
# --json FILE writes bench_kernels' JSON object to FILE instead of printing the
# tables.  Any other option goes to bench_kernels, e.g. --kernel sort_i32,rank_u64
# --isa portable,avx2 --sizes l1,l2 --repeat 3 --max-bytes 64M.  Default: every
# kernel, set and size, under a minute on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

json=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --json)
      [ $# -ge 2 ] || { echo "run_kernels.sh: --json needs a file" >&2; exit 2; }
      json=$2
      shift 2
      ;;
    -h|--help)
      sed -n 2,14p "$0"
      exit 0
      ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done

# Configure ./build as scripts/build.sh does (Release) only when it is not
# configured yet; a build of another type is kept, but timing it is said to
# mislead.
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >/dev/null
fi
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' build/CMakeCache.txt)
if [ "$type" != Release ]; then
  echo "run_kernels.sh: warning: ./build is a ${type:-default} build, not Release: timings will mislead" >&2
fi
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target bench_kernels >/dev/null
bin=build/bench/bench_kernels

if [ -n "$json" ]; then
  mkdir -p "$(dirname "$json")"
  "$bin" --json ${args[@]+"${args[@]}"} >"$json"
  echo "run_kernels.sh: wrote $json"
else
  echo "== kernel benchmark"
  bench_machine
  "$bin" ${args[@]+"${args[@]}"}
fi
