#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer harnesses of tests/fuzz and run each one.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [NAME...]
#
#   NAME        codec, csv, config, part, part_data, partial (default: all)
#   --seconds N how long each harness fuzzes (default 10: the short run;
#               nightly: e.g. --seconds 3600)
#   --runs N    instead of a time: exactly N inputs each, from seed 1, so the
#               run is the same every time (what the test suite uses:
#               scripts/test.sh runs --runs 20000).  The partition harnesses
#               are slower per input (fuzz_part forks a probe for each,
#               fuzz_part_data writes an HDF5 file for each): they run a
#               fraction of N (part N/40, part_data N/20), so that the whole
#               counted run stays short (--runs 20000: about 50 s for all six
#               on 2 cores)
#   --jobs J    compile jobs (default: nproc)
#
# The build directory is $MS_FUZZ_BUILD (default build-fuzz; every path
# below in build-fuzz is in it).
# Configures ./build-fuzz with clang (CC=clang, -DMS_FUZZ=ON, -DMS_TESTS=OFF:
# every library built with -fsanitize=fuzzer-no-link,address,undefined),
# builds the harnesses, runs each harness's regression inputs once (ctest
# fuzz_<name>_regress), then fuzzes each for N seconds on a copy of its seed
# corpus, tests/fuzz/corpus/<name>/, in build-fuzz/work/<name>/ (the corpus
# the run grows stays there; the seeds in the tree are never changed).
# Exits 1 on a crash, a leak, UB or a timeout, naming the input that did it
# (build-fuzz/crashes/<name>/crash-..., leak-..., timeout-...).  Needs clang
# and libclang-rt-14-dev (Debian: apt-get install -y clang libclang-rt-14-dev).
#
# A crash becomes a regression test:
#   1. reproduce:  build-fuzz/tests/fuzz/fuzz_<name> build-fuzz/crashes/<name>/crash-XXXX
#      (runs that one input once and prints the sanitizer's stack);
#   2. fix the code;
#   3. keep the input: cp build-fuzz/crashes/<name>/crash-XXXX \
#                         tests/fuzz/regress/<name>/<short-description>
#      (any file name; every file of regress/<name>/ is run once by the ctest
#      entry fuzz_<name>_regress of the fuzz build, at each scripts/fuzz.sh
#      run and by `ctest --test-dir build-fuzz -L fuzz`);
#   4. optionally add it to tests/fuzz/corpus/<name>/ too, as a seed.
# Seeds: corpus/codec/ is written by build-fuzz/tests/fuzz/fuzz_codec_mkseed
# (the project's encoder), corpus/csv/ is settlements.csv rows from
# bench/ms_mkcsv (header stripped: the harness writes it), corpus/config/ is
# `medsweep models --config`, corpus/part/ and corpus/part_data/ are written
# by build-fuzz/tests/fuzz/fuzz_part_mkseed (ms_part_write), corpus/partial/
# by build-fuzz/tests/fuzz/fuzz_partial_mkseed (the models' own save after
# mapping a small made-up partition, and ms_partial_write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=10
runs=
jobs=$(nproc 2>/dev/null || echo 2)
names=()
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        codec | csv | config | part | part_data | partial) names+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=(codec csv config part part_data partial)
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: --seconds wants a whole number" >&2; exit 2 ;; esac
case ${runs:-0} in *[!0-9]*) echo "fuzz.sh: --runs wants a whole number" >&2; exit 2 ;; esac

# Per harness: the share of --runs it runs (a divisor) and the largest input.
runs_div() { case $1 in part) echo 40 ;; part_data) echo 20 ;; *) echo 1 ;; esac; }
max_len() { case $1 in part) echo 262144 ;; *) echo 65536 ;; esac; }

build=${MS_FUZZ_BUILD:-build-fuzz}
case $build in '' | /* | *..*) echo "fuzz.sh: MS_FUZZ_BUILD wants a directory name under the tree" >&2; exit 2 ;; esac
mkdir -p "$build"
echo "fuzz: configuring ./$build (clang, MS_FUZZ=ON)"
CC=${CC_FUZZ:-clang} cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC_FUZZ:-clang}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_FUZZ=ON -DMS_TESTS=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 1; }
echo "fuzz: building ${names[*]} with $jobs jobs"
cmake --build "$build" -j"$jobs" --target "${names[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for name in "${names[@]}"; do
    bin=$build/tests/fuzz/fuzz_$name
    echo "fuzz: $name: regression inputs (tests/fuzz/regress/$name/)"
    if ! (cd "$build" && ctest --output-on-failure -R "^fuzz_${name}_regress\$") >"$build/regress-$name.log" 2>&1; then
        tail -n 60 "$build/regress-$name.log"
        echo "fuzz: $name: a regression input fails (log: $build/regress-$name.log)" >&2
        status=1
        continue
    fi
    work=$build/work/$name crashes=$build/crashes/$name
    # A counted run starts from the seeds alone, so that it is the same run
    # every time; a timed run keeps growing the corpus of earlier ones.
    if [ -n "$runs" ]; then rm -rf "$work"; fi
    mkdir -p "$work" "$crashes"
    cp -f tests/fuzz/corpus/"$name"/* "$work"/
    log=$build/fuzz-$name.log
    if [ -n "$runs" ]; then
        n=$(( (runs + $(runs_div "$name") - 1) / $(runs_div "$name") ))
        limit=(-runs="$n" -seed=1); what="$n inputs from seed 1"
    else
        limit=(-max_total_time="$seconds"); what="${seconds}s"
    fi
    echo "fuzz: $name: fuzzing for $what (corpus $work, log $log)"
    start=$SECONDS
    if "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=4096 -max_len="$(max_len "$name")" \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$work" >"$log" 2>&1; then
        rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        [ "$rate" != 0 ] || rate= # libFuzzer says 0 for a run under a second
        echo "fuzz: $name: clean, $((SECONDS - start))s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?') inputs run${rate:+, $rate/s}"
    else
        status=1
        # the end of the log: fuzz_part's log also holds reports of its probes' children (damage, not findings)
        grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY|^fuzz_[a-z_]*: ' "$log" | tail -n 5 >&2 || true
        input=$(grep -o "Test unit written to .*" "$log" | sed 's/^Test unit written to //' | tail -n 1)
        echo "fuzz: $name: FAILED after $((SECONDS - start))s; input: ${input:-see $log}; log: $log" >&2
        echo "fuzz: reproduce: $bin ${input:-INPUT}; keep it as a test: cp it to tests/fuzz/regress/$name/" >&2
    fi
done
exit $status
