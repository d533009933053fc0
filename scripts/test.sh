#!/usr/bin/env bash
# Second command of the README: install what is missing, build, run the tests.
#   ./scripts/test.sh            the short tests (ctest label "short")
#   ./scripts/test.sh --all      every test, the long ones too (or MS_TESTS=all)
# Other arguments go to ctest (e.g. -R csv).  Exits with ctest's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all=0
[[ ${MS_TESTS:-} == all ]] && all=1
ctest_args=()
for a in "$@"; do
    if [[ $a == --all ]]; then all=1; else ctest_args+=("$a"); fi
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
exit "$rc"
