#!/usr/bin/env bash
# Install the charting library report.html inlines (docs/report.md): Apache
# ECharts, pinned in report/package.json and report/package-lock.json,
# installed by `npm ci` into report/node_modules (npm: scripts/install-deps.sh).
# Does nothing when the pinned version is already there.  The build points
# medsweep at report/node_modules/echarts/dist/echarts.common.min.js
# (engine/CMakeLists.txt); without it report.html is tables only.
#   scripts/fetch-report-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../report"

log() { printf 'fetch-report-deps: %s\n' "$*"; }

version() { # version FILE KEY...: a string in a JSON file, or nothing
    python3 - "$@" <<'PY' 2>/dev/null || true
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)
PY
}

want=$(version package-lock.json packages node_modules/echarts version)
have=$(version node_modules/echarts/package.json version)
if [[ -n $want && $have == "$want" && -s node_modules/echarts/dist/echarts.common.min.js ]]; then
    log "ECharts $have is installed (report/node_modules)"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    log "npm is missing (scripts/install-deps.sh installs it): report.html will be tables only" >&2
    exit 1
fi
log "npm ci: ECharts ${want:-?} into report/node_modules"
# The lock file pins every package and its checksum; no install scripts run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
have=$(version node_modules/echarts/package.json version)
if [[ $have != "$want" || ! -s node_modules/echarts/dist/echarts.common.min.js ]]; then
    log "npm ci left no ECharts $want in report/node_modules" >&2
    exit 1
fi
log "ECharts $have installed"
