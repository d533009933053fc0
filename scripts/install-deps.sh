#!/usr/bin/env bash
# Install the Debian packages medsweep needs (Debian 12).  Installs only what
# is missing; runs `apt-get update` only when something is missing.  Works as
# root, or through sudo when run as another user.
#   scripts/install-deps.sh           what building, testing, report.html and the cluster need
#   scripts/install-deps.sh --bench   the same (bench/ asks for it; Node.js and npm are always installed now)
set -euo pipefail

for a in "$@"; do
    case $a in
        --bench) ;; # the same now: Node.js and npm are always installed
        -h | --help) sed -n '2,6p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) printf 'install-deps: unknown option %s\n' "$a" >&2; exit 2 ;;
    esac
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Every package the project needs, in one place.  Those that ship services
# (the cluster's) are installed with their services kept from starting.
SERVICE_PACKAGES=(openmpi-bin libopenmpi-dev munge slurmctld slurmd slurm-client)
PACKAGES=(
    # build and test (clang and its runtime: the libFuzzer harnesses, scripts/fuzz.sh)
    build-essential cmake pkg-config git python3 clang libclang-rt-14-dev
    # LLVM's OpenMP runtime and its Archer tool (libarcher.so) for the TSan
    # build, scripts/test.sh --tsan (clang does not pull it in)
    libomp-14-dev
    # libraries
    libhdf5-dev hdf5-tools hdf5-filter-plugin
    libhwloc-dev hwloc libopenblas-dev libcmocka-dev
    liblz4-dev libcsv-dev libconfig-dev libxxhash-dev libjansson-dev
    # pre-notification: the HTTP server of `medsweep serve` (GNU
    # libmicrohttpd); curl for its test (tests/check/test_serve.sh) and wrk
    # to load it (bench/run_serve.sh)
    libmicrohttpd-dev curl wrk
    # report.html: headless Chromium renders it in tests/report/test_report.sh,
    # with a CJK font so that Chinese draws as Chinese (docs/report.md)
    chromium fonts-noto-cjk
    # cluster work (MPI, Slurm, MUNGE)
    "${SERVICE_PACKAGES[@]}"
)
# Node.js and npm: `npm ci` installs the charting library report.html
# inlines (scripts/fetch-report-deps.sh), and the benchmarks' DuckDB peer
# (bench/).  A node and npm already on the PATH (another packaging of
# Node.js, whose nodejs bundles npm) count as installed.
NODE_PACKAGES=(nodejs npm)
for p in "${NODE_PACKAGES[@]}"; do
    case $p in
        nodejs) command -v node >/dev/null 2>&1 || PACKAGES+=("$p") ;;
        *) command -v "$p" >/dev/null 2>&1 || PACKAGES+=("$p") ;;
    esac
done

log() { printf 'install-deps: %s\n' "$*"; }

is_installed() {
    dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

is_service_package() {
    local p
    for p in "${SERVICE_PACKAGES[@]}"; do [[ $p == "$1" ]] && return 0; done
    return 1
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "this script needs Debian's dpkg-query and apt-get (Debian 12)" >&2
    exit 1
fi

missing=() missing_services=()
for p in "${PACKAGES[@]}"; do
    is_installed "$p" && continue
    if is_service_package "$p"; then missing_services+=("$p"); else missing+=("$p"); fi
done

if ((${#missing[@]} + ${#missing_services[@]} == 0)); then
    log "all ${#PACKAGES[@]} packages are installed"
    exit 0
fi
todo=("${missing[@]}" "${missing_services[@]}")
log "missing: ${todo[*]}"

SUDO=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
        log "not root: using sudo"
    else
        log "run as root (or install sudo) to install: ${todo[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends)

log "apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update

if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    "${APT[@]}" install "${missing[@]}"
fi

if ((${#missing_services[@]})); then
    # Keep their services from starting while they install: a temporary
    # /usr/sbin/policy-rc.d that exits 101 ("action forbidden").  An existing
    # one is copied aside first and put back afterwards, whatever happens.
    POLICY=/usr/sbin/policy-rc.d
    BACKUP=/usr/sbin/policy-rc.d.medsweep-backup
    MARK='medsweep install-deps: temporary'
    had_policy=0
    if [[ -e $POLICY ]] && ! grep -qF "$MARK" "$POLICY"; then
        "${SUDO[@]}" cp -p "$POLICY" "$BACKUP"
        had_policy=1
    fi
    restore_policy() {
        if ((had_policy)); then
            "${SUDO[@]}" mv -f "$BACKUP" "$POLICY"
            log "put back the previous $POLICY"
        else
            "${SUDO[@]}" rm -f "$POLICY"
            log "removed the temporary $POLICY"
        fi
    }
    trap restore_policy EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\n# %s: keep services from starting.\nexit 101\n' "$MARK" \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    log "installed a temporary $POLICY (services will not start)"
    log "apt-get install ${missing_services[*]}"
    "${APT[@]}" install "${missing_services[@]}"
fi

still=()
for p in "${PACKAGES[@]}"; do is_installed "$p" || still+=("$p"); done
if ((${#still[@]})); then
    log "still missing after install: ${still[*]}" >&2
    exit 1
fi
log "done: all ${#PACKAGES[@]} packages are installed"
