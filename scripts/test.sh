#!/usr/bin/env bash
# Second command of the README: install what is missing, build, run the tests.
#   ./scripts/test.sh              the short tests (ctest label "short")
#   ./scripts/test.sh --all        every test, the long ones too (or MS_TESTS=all)
#   ./scripts/test.sh --sanitize   then the short tests again in an
#                                  AddressSanitizer + UBSan build (./build-asan),
#                                  and each libFuzzer harness on 20,000 inputs
#                                  (scripts/fuzz.sh); CI (CI=true) always does this
#   ./scripts/test.sh --tsan       then the short tests again under ThreadSanitizer
#                                  (./build-tsan: clang, LLVM's libomp and its
#                                  Archer tool, so TSan sees OpenMP's barriers,
#                                  criticals and atomics); fails on any report
#                                  not in tests/tsan.supp; CI (CI=true) always
#                                  does this too, after the sanitizer step
# Other arguments go to ctest (e.g. -R csv).  Exits non-zero when any run fails.
# By hand, the TSan build needs the environment tsan_env gives it below:
#   OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so \
#   TSAN_OPTIONS="ignore_noninstrumented_modules=1 suppressions=$PWD/tests/tsan.supp" \
#   ctest --test-dir build-tsan -L short
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all=0
sanitize=0
tsan=0
[[ ${MS_TESTS:-} == all ]] && all=1
[[ ${CI:-} == true ]] && sanitize=1 && tsan=1
ctest_args=()
for a in "$@"; do
    case $a in
        --all) all=1 ;;
        --sanitize) sanitize=1 ;;
        --tsan) tsan=1 ;;
        *) ctest_args+=("$a") ;;
    esac
done

bash scripts/install-deps.sh
# report.html's charting library; without it test_report fails and says so.
bash scripts/fetch-report-deps.sh || echo "test: ECharts is not installed: report.html is tables only" >&2
bash scripts/build.sh

if ((all)); then
    echo "test: running all tests"
else
    echo "test: running the short tests (./scripts/test.sh --all for every test)"
    ctest_args=(-L short "${ctest_args[@]}")
fi
set +e
ctest --test-dir build --output-on-failure "${ctest_args[@]}"
rc=$?
set -e
echo "test: ctest exited with $rc"
if ((sanitize)); then
    echo "test: the short tests again under AddressSanitizer + UBSan (./build-asan)"
    jobs=$(nproc 2>/dev/null || echo 2)
    log=$(mktemp)
    if ! { cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON && cmake --build build-asan -j"$jobs"; } \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "test: the sanitizer build failed" >&2
        exit 1
    fi
    rm -f "$log"
    set +e
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 ctest --test-dir build-asan --output-on-failure -L short
    arc=$?
    set -e
    echo "test: sanitizer ctest exited with $arc"
    ((rc == 0)) && rc=$arc
    echo "test: each fuzzer on 20,000 inputs, after its regression inputs (scripts/fuzz.sh)"
    set +e
    bash scripts/fuzz.sh --runs 20000
    frc=$?
    set -e
    echo "test: fuzz run exited with $frc"
    ((rc == 0)) && rc=$frc
fi
if ((tsan)); then
    # ThreadSanitizer on every short test: almost all of them run medsweep
    # (itself the TSan build) with one worker per core, or call the threaded
    # code in-process.  libgomp is not instrumented, so this build uses LLVM's
    # libomp, and its Archer tool (OMPT) tells TSan about OpenMP's own
    # synchronisation.  Every process writes its reports to build-tsan/tsan-logs
    # (log_path), so a report from a subprocess whose exit status a test
    # ignores still fails the run.
    echo "test: the short tests again under ThreadSanitizer + libomp + Archer (./build-tsan)"
    t0=$SECONDS
    jobs=$(nproc 2>/dev/null || echo 2)
    log=$(mktemp)
    if ! { CC=clang cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DMS_TSAN=ON &&
           cmake --build build-tsan -j"$jobs"; } >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "test: the TSan build failed (needs clang, libclang-rt-14-dev, libomp-14-dev)" >&2
        exit 1
    fi
    rm -f "$log"
    archer=$(sed -n 's/^MS_ARCHER_LIBRARY:[A-Z]*=//p' build-tsan/CMakeCache.txt)
    omp=$(sed -n 's/^OpenMP_omp_LIBRARY:[A-Z]*=//p' build-tsan/CMakeCache.txt)
    logs=$PWD/build-tsan/tsan-logs
    rm -rf "$logs"
    mkdir -p "$logs"
    # tsan_env DIR CMD...: run CMD with Archer loaded and TSan's reports
    # written to DIR/tsan.<pid>.
    tsan_env() {
        local dir=$1
        shift
        OMP_TOOL_LIBRARIES=$archer \
            TSAN_OPTIONS="ignore_noninstrumented_modules=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp log_path=$dir/tsan" \
            "$@"
    }
    # Self-check first, so that a clean run means something
    # (tests/tsan_canary.c: silent with a barrier, a race without one).
    canary=build-tsan/tsan-canary
    mkdir -p "$canary"
    crc=0
    for racy in 0 1; do
        mkdir -p "$logs/canary/racy$racy"
        clang -g -O1 -fsanitize=thread -fopenmp=libomp -DRACY=$racy tests/tsan_canary.c -o "$canary/racy$racy" \
            "$omp" -Wl,-rpath,"$(dirname "$omp")" || crc=1
        ((crc)) || tsan_env "$logs/canary/racy$racy" "$canary/racy$racy" >/dev/null 2>&1 || true
    done
    if ((crc)) || compgen -G "$logs/canary/racy0/tsan.*" >/dev/null ||
        ! grep -qs "data race" "$logs"/canary/racy1/tsan.*; then
        cat "$logs"/canary/racy*/tsan.* 2>/dev/null | head -n 60
        echo "test: the TSan self-check failed: a barrier was reported or a plain race was not" \
             "(is Archer loaded? $archer)" >&2
        exit 1
    fi
    rm -rf "$logs/canary"
    echo "test: TSan self-check passed: a race is reported, a barrier is understood (Archer: $archer)"
    set +e
    tsan_env "$logs" ctest --test-dir build-tsan --output-on-failure -L short
    trc=$?
    set -e
    reports=("$logs"/tsan.*)
    if [[ -e ${reports[0]} ]]; then
        echo "test: ThreadSanitizer reported in ${#reports[@]} process(es); the first reports:" >&2
        cat "${reports[@]}" | head -n 400 >&2
        echo "test: every report is in $logs/ (a race of ours is fixed, not suppressed;" \
             "tests/tsan.supp says why each entry is not ours)" >&2
        ((trc == 0)) && trc=1
    fi
    echo "test: TSan ctest exited with $trc ($((SECONDS - t0)) s, the build included)"
    ((rc == 0)) && rc=$trc
fi
exit "$rc"
