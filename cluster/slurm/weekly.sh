#!/usr/bin/env bash
# cluster/slurm/weekly.sh - the weekly pipeline, submitted with one command:
# an import job, then the sweep as a job that starts only when the import
# succeeded (afterok).  Prints the job ids, one per line ("import 17",
# "sweep 18"), and exits with sbatch's status.
#
#   cluster/slurm/weekly.sh --csv DIR --data DIR --out DIR [options]
#
# options:
#   --csv DIR          the week's extract (institutions.csv, settlements.csv, ...)
#   --data DIR         the dataset the import writes and the sweep reads
#   --out DIR          the sweep's output folder
#   --no-import        sweep --data as it is (no import job)
#   --bin PATH         medsweep (default: build/engine/medsweep beside this folder,
#                      else medsweep on the PATH)
#   --logs DIR         the jobs' logs, DIR/ms-import-JOBID.log, ... (default: --out's
#                      parent folder)
#   --partition NAME   Slurm partition (default: the cluster's default)
#   --account NAME     Slurm account to charge
#   --time LIMIT       time limit of each job (default 04:00:00)
#   --cpus N           CPUs of each job's task (default 2): the import and each
#                      rank of the sweep run N workers
#   --ntasks N         MPI ranks of the sweep (default 1): with N > 1 the sweep
#                      job has N tasks and runs as one MPI job step (srun
#                      --mpi=pmix); the import stays one task
#   --nodes N          nodes of the sweep job (default: as Slurm places the
#                      tasks); with --ntasks
#   --mem SIZE         memory of each job (e.g. 16G; default: the partition's)
#   --sweep-args "..." more options for medsweep sweep (e.g. "--config rules.cfg")
#   --import-args "..." more options for medsweep import (e.g. "--skip-bad")
#   -h, --help         this text
#
# Every job is requeue-safe and exits 0 only when its output is whole
# (docs/cluster.md).  Follow them with: squeue -u "$USER"; the logs carry a
# timestamp on every line; run.json in --out records the sweep's job id.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }
csv= data= out= import=1 bin= logs= sweep_args= import_args=
sb=(--time=04:00:00 --cpus-per-task=2)
swp=() # the sweep job's own options
while [ $# -gt 0 ]; do
    case $1 in
        --csv) csv=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-import) import=0; shift ;;
        --bin) bin=$2; shift 2 ;;
        --logs) logs=$2; shift 2 ;;
        --partition) sb+=("--partition=$2"); shift 2 ;;
        --account) sb+=("--account=$2"); shift 2 ;;
        --time) sb+=("--time=$2"); shift 2 ;;
        --cpus) sb+=("--cpus-per-task=$2"); shift 2 ;;
        --mem) sb+=("--mem=$2"); shift 2 ;;
        --ntasks|--nodes)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "weekly.sh: $1 wants a positive number, got '${2:-}'" >&2; exit 2; }
            swp+=("$1=$2"); shift 2 ;;
        --sweep-args) sweep_args=$2; shift 2 ;;
        --import-args) import_args=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "weekly.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
    esac
done
[ -n "$data" ] && [ -n "$out" ] || { echo "weekly.sh: --data and --out are required (--help)" >&2; exit 2; }
((import == 0)) || [ -n "$csv" ] || { echo "weekly.sh: --csv is required unless --no-import" >&2; exit 2; }
if [ -z "$bin" ]; then
    if [ -x "$here/../../build/engine/medsweep" ]; then bin=$here/../../build/engine/medsweep; else bin=$(command -v medsweep || true); fi
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "weekly.sh: no medsweep program (build it, or give --bin)" >&2; exit 2; }
abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
bin=$(abs "$bin") data=$(abs "$data") out=$(abs "$out")
[ -z "$csv" ] || csv=$(abs "$csv")
logs=${logs:-$(dirname "$out")}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)

export MS_CLUSTER_DIR=$here MS_BIN=$bin MS_CSV=$csv MS_DATA=$data MS_OUT=$out
export MS_SWEEP_ARGS=$sweep_args MS_IMPORT_ARGS=$import_args
dep=()
if ((import)); then
    id=$(sbatch --parsable "${sb[@]}" --output="$logs/%x-%j.log" "$here/import.sbatch")
    id=${id%%;*}
    echo "import $id"
    dep=(--dependency="afterok:$id")
fi
id=$(sbatch --parsable "${sb[@]}" "${swp[@]}" "${dep[@]}" --output="$logs/%x-%j.log" "$here/sweep.sbatch")
echo "sweep ${id%%;*}"
