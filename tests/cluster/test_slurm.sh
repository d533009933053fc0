#!/usr/bin/env bash
# tests/cluster/test_slurm.sh - the project's own Slurm scripts
# (cluster/slurm/) on a real single-machine Slurm (tests/cluster/slurmlab.sh):
#
#  1. weekly.sh submits the import and the sweep (afterok) of a small
#     generated world: both jobs end COMPLETED with exit code 0, the outputs
#     are byte for byte a single-process sweep's, run.json names the sweep's
#     job, and every log line carries a timestamp;
#  2. a sweep job killed after its first partition (the test-hook program)
#     fails with a non-zero exit code, and a job that depends on it (afterok)
#     never runs; the sweep job submitted again resumes (run.json: resumed
#     partitions) and writes the same bytes;
#  3. a sweep job on an OUT that holds a finished sweep leaves it untouched
#     and succeeds;
#  4. sweep.sbatch as a 2-task job (weekly.sh --no-import --ntasks 2 --cpus 1:
#     sbatch --ntasks=2 --cpus-per-task=1) on the imported dataset runs the
#     sweep as one MPI job step (srun --mpi=pmix): COMPLETED 0:0, the same
#     bytes, run.json's "cluster" object counts 2 ranks, every log line
#     carries a timestamp; a 2-task job whose rank 1 is killed after its
#     first partition fails (non-zero exit code), and submitted again it
#     resumes and writes the same bytes.  (Skipped when medsweep was built
#     without MPI.)
#
# Needs root and the Slurm and MUNGE daemons (scripts/install-deps.sh
# installs them); without them it is skipped (exit 77).  The daemons are
# stopped by PID whatever happens.  Environment (from ctest): MS_BIN,
# MS_BIN_HOOKS, MS_TEST_TMP.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/cluster/slurmlab.sh
. "$here/slurmlab.sh"

for tool in slurmctld slurmd munged sbatch srun squeue scontrol sinfo setpriv; do
    command -v "$tool" >/dev/null || { echo "test_slurm: no $tool here: skipped"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "test_slurm: needs root (MUNGE and slurmd): skipped"; exit 77; }
: "${MS_BIN:?}" "${MS_BIN_HOOKS:?}"
w=${MS_TEST_TMP:-/tmp}/slurm-$$
rm -rf "$w"
mkdir -p "$w"
keep=${MS_TEST_KEEP:-0}
trap 'slurmlab_stop; [ "$keep" = 1 ] || rm -rf "$w"' EXIT

fail() { echo "test_slurm: FAILED: $*" >&2; keep=1; exit 1; }
same() { # same DIR_A DIR_B: the sweep outputs are identical
    local f
    for f in ranked.csv indicators.csv clues.csv features.h5 ranked_false_hosp.csv; do
        cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from $1/$f"
    done
}
stamped() { # stamped LOG: the log is there and every line carries a timestamp
    [ -s "$1" ] || fail "no log $1"
    local bad
    bad=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9:]{5} ' "$1" || true)
    [ "$bad" = 0 ] || fail "$bad lines of $1 carry no timestamp"
}
resumed() { # resumed ID OUT: job ID, submitted again after a killed sweep, resumed it into OUT whole
    slurmlab_wait "$1" || fail "the sweep submitted again ($1) did not end"
    state_is "$1" "COMPLETED 0:0"
    grep -q "resuming" "$w/logs/ms-sweep-$1.log" || fail "the sweep submitted again ($1) did not resume"
    grep -qE '"resumed": [1-9]' "$2/run.json" || fail "$2/run.json does not count resumed partitions"
    same "$w/ref" "$2"
}
state_is() { # state_is ID WANT...: the job's "STATE EXITCODE" is one of WANT
    local got want
    got=$(slurmlab_state "$1")
    for want in "${@:2}"; do [ "$got" = "$want" ] && return 0; done
    fail "job $1 ended '$got', not '${*:2}' (logs in $w/logs)"
}

echo "test_slurm: a world and its single-process sweep"
"$MS_BIN" gen --out "$w/csv" --csv --persons 30000 --institutions 200 --quiet >/dev/null
"$MS_BIN" import "$w/csv" "$w/ref-data" --partitions 3 --quiet >/dev/null
"$MS_BIN" sweep "$w/ref-data" --out "$w/ref" --quiet >/dev/null

echo "test_slurm: starting munged, slurmctld and slurmd"
slurmlab_start "$w/slurm" || fail "Slurm did not start"

echo "test_slurm: 1. weekly.sh: import, then the sweep"
jobs=$("$root/cluster/slurm/weekly.sh" --bin "$MS_BIN" --csv "$w/csv" --data "$w/data" --out "$w/out" \
    --logs "$w/logs" --cpus 2 --import-args "--partitions 3")
imp=$(awk '$1 == "import" {print $2}' <<<"$jobs")
swp=$(awk '$1 == "sweep" {print $2}' <<<"$jobs")
[ -n "$imp" ] && [ -n "$swp" ] || fail "weekly.sh printed '$jobs'"
slurmlab_wait "$imp" "$swp" || fail "the weekly jobs did not end"
state_is "$imp" "COMPLETED 0:0"
state_is "$swp" "COMPLETED 0:0"
same "$w/ref" "$w/out"
grep -q "\"job_id\": \"$swp\"" "$w/out/run.json" || fail "run.json does not name job $swp"
stamped "$w/logs/ms-import-$imp.log"
stamped "$w/logs/ms-sweep-$swp.log"

echo "test_slurm: 2. a sweep killed after one partition, its dependant, and the sweep again"
export MS_CLUSTER_DIR=$root/cluster/slurm MS_DATA=$w/data MS_OUT=$w/out2
k=$(MS_BIN=$MS_BIN_HOOKS MS_SWEEP_KILL_AFTER=1 sbatch --parsable --cpus-per-task=2 \
    --output="$w/logs/%x-%j.log" "$root/cluster/slurm/sweep.sbatch")
dep=$(sbatch --parsable --dependency="afterok:$k" --output="$w/logs/%x-%j.log" --wrap "touch $w/dependant-ran")
slurmlab_wait "$k" "$dep" || fail "the killed sweep and its dependant did not end"
echo "test_slurm: the killed sweep: $(slurmlab_state "$k")"
state_is "$k" "FAILED 137:0" "FAILED 1:0" "FAILED 9:0" "FAILED 0:9"
state_is "$dep" "CANCELLED 0:0"
[ ! -e "$w/dependant-ran" ] || fail "a job that depends (afterok) on a failed sweep ran"
[ -d "$w/out2/.sweep-state" ] || fail "the killed sweep left no state to resume"
again=$(MS_BIN=$MS_BIN sbatch --parsable --cpus-per-task=2 --output="$w/logs/%x-%j.log" \
    "$root/cluster/slurm/sweep.sbatch")
resumed "$again" "$w/out2"

echo "test_slurm: 3. a sweep job on a finished OUT"
before=$(stat -c %Y "$w/out2/run.json")
done_id=$(MS_BIN=$MS_BIN sbatch --parsable --output="$w/logs/%x-%j.log" "$root/cluster/slurm/sweep.sbatch")
slurmlab_wait "$done_id" || fail "the job on a finished OUT did not end"
state_is "$done_id" "COMPLETED 0:0"
[ "$(stat -c %Y "$w/out2/run.json")" = "$before" ] || fail "a finished OUT was swept again"
same "$w/ref" "$w/out2"

if [[ $("$MS_BIN" --version) == *"cluster mode: none"* ]]; then
    echo "test_slurm: 4. skipped: medsweep was built without MPI"
    echo "test_slurm: passed"
    exit 0
fi
echo "test_slurm: 4. sweep.sbatch as a 2-task job: one sweep of 2 MPI ranks"
plugins=$(srun --mpi=list 2>&1 || true)
grep -qw pmix <<<"$plugins" || fail "srun --mpi=list has no pmix: $(paste -sd' ' <<<"$plugins")"
# Open MPI's shared-memory single copy (CMA) fails in some containers
# (sbatch exports it to the jobs).
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# weekly.sh --no-import --ntasks 2 --cpus 1: sbatch --ntasks=2 --cpus-per-task=1 sweep.sbatch
jobs=$("$root/cluster/slurm/weekly.sh" --bin "$MS_BIN" --no-import --data "$w/data" --out "$w/out4" \
    --logs "$w/logs" --ntasks 2 --cpus 1)
mpi=$(awk '$1 == "sweep" {print $2}' <<<"$jobs")
[ -n "$mpi" ] || fail "weekly.sh --no-import --ntasks 2 printed '$jobs'"
slurmlab_wait "$mpi" || fail "the 2-task sweep did not end"
state_is "$mpi" "COMPLETED 0:0"
grep -q "run: srun --mpi=pmix .*--ntasks=2 " "$w/logs/ms-sweep-$mpi.log" || fail "the 2-task sweep did not run srun --mpi=pmix"
same "$w/ref" "$w/out4"
grep -q '"ranks": 2' "$w/out4/run.json" || fail "run.json of the 2-task sweep does not count 2 ranks"
grep -q "\"job_id\": \"$mpi\"" "$w/out4/run.json" || fail "run.json does not name job $mpi"
stamped "$w/logs/ms-sweep-$mpi.log"
k=$(MS_BIN=$MS_BIN_HOOKS MS_OUT=$w/out5 MS_SWEEP_KILL_RANK=1 MS_SWEEP_KILL_AFTER=1 sbatch --parsable \
    --ntasks=2 --cpus-per-task=1 --output="$w/logs/%x-%j.log" "$root/cluster/slurm/sweep.sbatch")
slurmlab_wait "$k" || fail "the 2-task sweep with a killed rank did not end"
got=$(slurmlab_state "$k")
echo "test_slurm: the 2-task sweep with a killed rank: $got"
[[ $got == FAILED* && $got != "FAILED 0:0" ]] || fail "the 2-task sweep with a killed rank ended '$got', not FAILED"
again=$(MS_BIN=$MS_BIN MS_OUT=$w/out5 sbatch --parsable --ntasks=2 --cpus-per-task=1 \
    --output="$w/logs/%x-%j.log" "$root/cluster/slurm/sweep.sbatch")
resumed "$again" "$w/out5"

echo "test_slurm: passed"
