#!/usr/bin/env bash
# First command of the README: install what medsweep needs, build it, make a
# small sample data set and run the main job on it.
#   sudo ./scripts/setup.sh      (or ./scripts/setup.sh as root)
# Under sudo, the build and the sample are made as the user who owns the
# checkout, so that ./build and ./sample stay theirs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

step() { printf '\n== setup: %s\n' "$*"; }

# Run a command as the owner of the checkout when we are root through sudo.
as_owner=()
if ((EUID == 0)) && [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    owner=$(stat -c %U "$root")
    if [[ $owner == "$SUDO_USER" ]]; then
        if command -v runuser >/dev/null 2>&1; then
            as_owner=(runuser -u "$owner" --)
        else
            as_owner=(sudo -u "$owner" --)
        fi
    fi
fi
run() {
    printf '$ %s\n' "$*"
    "${as_owner[@]}" env BUILD_TYPE="${BUILD_TYPE:-Release}" MS_SANITIZE="${MS_SANITIZE:-OFF}" "$@"
}

step "1/5 installing missing Debian packages, and ECharts for report.html"
bash scripts/install-deps.sh
# Without it the sweep's report.html is tables only: a warning, not a stop.
run bash scripts/fetch-report-deps.sh || echo "setup: ECharts is not installed: report.html will be tables only" >&2

step "2/5 building (./build)"
run bash scripts/build.sh

step "3/5 making a sample world with planted fraud and itemised bills, as canonical CSV (sample/csv)"
run build/engine/medsweep gen --csv --bills --persons 20000 --institutions 100 --seed 1 --out sample/csv --replace --quiet

step "4/5 importing it into an HDF5 dataset (sample/data) and verifying it"
run build/engine/medsweep import sample/csv sample/data --replace
run build/engine/medsweep inspect sample/data --verify

step "5/5 sweeping it (sample/sweep)"
run build/engine/medsweep sweep sample/data --out sample/sweep --replace --quiet
echo "   the top of sample/sweep/ranked.csv:"
cut -d, -f1,2,9 sample/sweep/ranked.csv | head -6 | sed 's/^/     /'
run build/engine/medsweep eval sample/sweep --truth sample/csv/truth

cat <<EOT

== setup: done
  built:    $root/build (engine/medsweep, bench/ms_mkcsv, bench/bench_read)
  sample:   $root/sample/csv   canonical CSV (institutions, groups, settlements, drug_items,
                               service_items: the itemised bills; knowledge/: the knowledge base)
            $root/sample/csv/truth  which institutions cheat, and the planted records
            $root/sample/data  the same as an HDF5 dataset, imported and verified
  sweep:    $root/sample/sweep  report.html (open it first), ranked.csv, clues.csv, features.h5, run.json
  next:     ./scripts/test.sh                          run the tests
            build/engine/medsweep inspect sample/data  look at the dataset
            build/engine/medsweep serve --data sample/data  pre-notification over HTTP (docs/prenotification.md)
EOT
