#!/usr/bin/env bash
# tests/cluster/test_mpi.sh - the sweep across MPI ranks, with real mpirun
# (Open MPI) on this machine:
#
#  1. 1, 2, 3 and 4 ranks, with 1 and 2 threads per rank, write the same
#     bytes as one process (ranked.csv, indicators.csv, clues.csv,
#     features.h5, a ranked_MODEL.csv); run.json lists every rank, and the
#     rows the ranks read add up to the dataset's; under a memory cap that
#     makes keyed records spill, the same bytes; a cap too small is refused
#     once (exit 2);
#  2. a rank that fails (a damaged partition in its range) fails the job
#     with exit 1, and rank 0 says which rank and which partition; with
#     --skip-bad the ranks leave it out as one process does (same bytes);
#  3. a rank that dies (SIGKILL after its first partition) ends the job
#     with a non-zero exit and mpirun's message naming the rank; nothing is
#     installed in OUT; --resume with another number of ranks then
#     finishes it with the same bytes;
#  4. a world with itemised bills: the rule base (whole partitions, three
#     tables) gives one process's bytes with 2 and 3 ranks.
#
# Skipped (77) without mpirun or when medsweep was built without MPI.
# Environment (from ctest): MS_BIN, MS_BIN_HOOKS, MS_TEST_TMP.
set -euo pipefail
: "${MS_BIN:?}" "${MS_BIN_HOOKS:?}"
command -v mpirun >/dev/null || { echo "test_mpi: no mpirun here: skipped"; exit 77; }
case "$("$MS_BIN" --version)" in
*"cluster mode: none"*) echo "test_mpi: medsweep was built without MPI: skipped"; exit 77 ;;
esac
w=${MS_TEST_TMP:-/tmp}/mpi-$$
rm -rf "$w"
mkdir -p "$w"
keep=${MS_TEST_KEEP:-0}
trap '[ "$keep" = 1 ] || rm -rf "$w"' EXIT
fail() { echo "test_mpi: FAILED: $*" >&2; keep=1; exit 1; }

# Root may run mpirun when told twice; more ranks than cores; shared memory
# without the single-copy mechanism containers lack (shared/notes).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
run() { # run NP [mpirun options] -- program args...: mpirun with NP ranks
    local np=$1
    shift
    timeout 120 mpirun -np "$np" --bind-to none "$@"
}
same() { # same DIR_A DIR_B
    local f
    for f in ranked.csv indicators.csv clues.csv features.h5 ranked_overload.csv; do
        cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from $1/$f"
    done
}

echo "test_mpi: a world of 6 partitions and its single-process sweep"
"$MS_BIN" gen --out "$w/data" --persons 120000 --institutions 300 --partitions 6 --quiet >/dev/null
"$MS_BIN" sweep "$w/data" --out "$w/ref" --quiet >/dev/null
total=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['rows_read']['settlements']+r['rows_read']['drug_items'])" "$w/ref/run.json")

echo "test_mpi: 1. 1-4 ranks, 1 and 2 threads each"
for case in 1:2 2:1 2:2 3:1 4:1; do
    np=${case%:*} th=${case#*:}
    out=$w/out-$np-$th
    run "$np" "$MS_BIN" sweep "$w/data" --out "$out" --threads "$th" --quiet >"$w/log" 2>&1 ||
        fail "$np ranks x $th threads: exit $? ($(tail -3 "$w/log"))"
    same "$w/ref" "$out"
    if [ "$np" -gt 1 ]; then
        python3 - "$out/run.json" "$np" "$total" "$w/ref/run.json" <<'PY' || fail "$np ranks: run.json's cluster object is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
np, total = int(sys.argv[2]), int(sys.argv[3])
ref = json.load(open(sys.argv[4]))
# rank 0 counts every rank's rows and rejections, as one process does
assert r["rows_read"] == ref["rows_read"], (r["rows_read"], ref["rows_read"])
assert r["rows_rejected"] == ref["rows_rejected"], (r["rows_rejected"], ref["rows_rejected"])
# the keys were counted over every rank (summed before the map), and
# records were left out by it: the same bytes above say none that mattered
assert r["key_count"]["off"] is None, r["key_count"]
assert sum(k["left_out_records"] for k in r["keyed_aggregations"]) > 0
c = r["cluster"]
assert c["ranks"] == np, c
ranks = c["per_rank"]
assert [x["rank"] for x in ranks] == list(range(np))
assert sum(x["rows_read"] for x in ranks) == total, (ranks, total)
# contiguous ranges covering every partition
assert ranks[0]["partitions"][0] == 0 and ranks[-1]["partitions"][1] == r["partitions"]["total"]
for a, b in zip(ranks, ranks[1:]):
    assert a["partitions"][1] == b["partitions"][0]
assert all(x["keyed_records_sent"] > 0 for x in ranks)
PY
    fi
    echo "test_mpi:   $np ranks x $th threads: same bytes"
done

echo "test_mpi: 1b. 2 ranks under a memory cap that makes the keyed records spill"
# Every record held (no key count): the most there is to spill.
run 2 "$MS_BIN" sweep "$w/data" --out "$w/out-cap" --memory-cap 120M --no-key-count --quiet >"$w/log" 2>&1 ||
    fail "2 ranks under --memory-cap 120M: exit $? ($(tail -3 "$w/log"))"
same "$w/ref" "$w/out-cap"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if sum(k['spilled_records'] for k in r['keyed_aggregations']) > 0 else 1)" \
    "$w/out-cap/run.json" || fail "nothing spilled under --memory-cap 120M: the case tests nothing"
# A cap too small is refused by every rank alike, and said once.
rc=0
run 2 "$MS_BIN" sweep "$w/data" --out "$w/out-small" --memory-cap 64M --quiet >"$w/log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a cap too small gave exit $rc, not 2 ($(cat "$w/log"))"
[ "$(grep -c "too small" "$w/log")" = 1 ] || fail "the refusal is not said once: $(cat "$w/log")"
grep -q "error: rank 0 of 2: --memory-cap" "$w/log" || fail "the refusal does not name rank 0 once: $(cat "$w/log")"

echo "test_mpi: 2. a damaged partition in rank 1's range"
cp -r "$w/data" "$w/bad"
part=$w/bad/settlements/part-00005.h5
size=$(stat -c %s "$part")
dd if=/dev/zero of="$part" bs=1 seek=$((size / 2)) count=4096 conv=notrunc status=none
rc=0
run 2 "$MS_BIN" sweep "$w/bad" --out "$w/out-bad" --quiet >"$w/log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a damaged partition gave exit $rc, not 1 ($(cat "$w/log"))"
grep -q "rank 1 of 2: .*partition 5" "$w/log" || fail "the error does not name rank 1 and partition 5: $(cat "$w/log")"
[ ! -e "$w/out-bad/ranked.csv" ] || fail "a failed sweep installed ranked.csv"
# With --skip-bad the partition is left out alike by one process and by
# ranks: the same bytes, and the same partitions skipped in run.json.
"$MS_BIN" sweep "$w/bad" --out "$w/skip-1" --skip-bad --quiet >"$w/log" 2>&1 || fail "--skip-bad alone: $(cat "$w/log")"
run 2 "$MS_BIN" sweep "$w/bad" --out "$w/skip-2" --skip-bad --quiet >"$w/log" 2>&1 ||
    fail "--skip-bad with 2 ranks: exit $? ($(tail -3 "$w/log"))"
same "$w/skip-1" "$w/skip-2"
python3 -c "import json,sys; a,b=(json.load(open(f))['partitions']['skipped'] for f in sys.argv[1:]); sys.exit(0 if a == b and len(a) == 1 else 1)" \
    "$w/skip-1/run.json" "$w/skip-2/run.json" || fail "--skip-bad: run.json's skipped partitions differ with 2 ranks"

echo "test_mpi: 3. a rank that dies, then --resume with 3 ranks"
rc=0
MS_SWEEP_KILL_AFTER=1 MS_SWEEP_KILL_RANK=1 run 2 -x MS_SWEEP_KILL_AFTER -x MS_SWEEP_KILL_RANK \
    "$MS_BIN_HOOKS" sweep "$w/data" --out "$w/out-dead" --quiet >"$w/log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a job whose rank 1 was killed exited 0"
grep -q "rank 1 .*signal 9" "$w/log" || fail "mpirun did not name the dead rank: $(cat "$w/log")"
[ ! -e "$w/out-dead/ranked.csv" ] || fail "the killed job installed ranked.csv"
[ -d "$w/out-dead/.sweep-state" ] || fail "the killed job left no state to resume"
run 3 "$MS_BIN" sweep "$w/data" --out "$w/out-dead" --resume --quiet >"$w/log" 2>&1 ||
    fail "--resume with 3 ranks: exit $? ($(tail -3 "$w/log"))"
grep -q "resumed)" "$w/log" || fail "no summary line: $(cat "$w/log")"
grep -qE '\(([1-9]) resumed\)' "$w/log" || fail "--resume resumed nothing: $(cat "$w/log")"
same "$w/ref" "$w/out-dead"

echo "test_mpi: 4. a world with itemised bills: the rule base across 2 and 3 ranks"
"$MS_BIN" gen --out "$w/bills" --persons 8000 --institutions 60 --bills --partitions 4 --quiet >/dev/null
"$MS_BIN" sweep "$w/bills" --out "$w/bills-ref" --quiet >/dev/null
grep -q ',rules,' "$w/bills-ref/clues.csv" || fail "the rule base found nothing in a world that plants every rule"
for np in 2 3; do
    run "$np" "$MS_BIN" sweep "$w/bills" --out "$w/bills-$np" --quiet >"$w/log" 2>&1 ||
        fail "bills, $np ranks: exit $? ($(tail -3 "$w/log"))"
    for f in ranked.csv indicators.csv clues.csv ranked_rules.csv; do
        cmp -s "$w/bills-ref/$f" "$w/bills-$np/$f" || fail "bills, $np ranks: $f differs from one process's"
    done
done

echo "test_mpi: passed"
