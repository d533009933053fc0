#!/usr/bin/env bash
# Second command of the README: install what is missing, build, run the tests.
#   ./scripts/test.sh              the short tests (ctest label "short")
#   ./scripts/test.sh --all        every test, the long ones too (or MS_TESTS=all)
#   ./scripts/test.sh --sanitize   then the short tests again in an
#                                  AddressSanitizer + UBSan build (./build-asan),
#                                  and each libFuzzer harness on 20,000 inputs
#                                  (scripts/fuzz.sh); CI (CI=true) always does this
# Other arguments go to ctest (e.g. -R csv).  Exits non-zero when any run fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all=0
sanitize=0
[[ ${MS_TESTS:-} == all ]] && all=1
[[ ${CI:-} == true ]] && sanitize=1
ctest_args=()
for a in "$@"; do
    case $a in
        --all) all=1 ;;
        --sanitize) sanitize=1 ;;
        *) ctest_args+=("$a") ;;
    esac
done

bash scripts/install-deps.sh
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
exit "$rc"
