# shellcheck shell=bash
# bench/lib.sh - what the bench/run_*.sh scripts share.  Sourced, not run:
# a script sets -euo pipefail, enters the repository root and then
#
#   . bench/lib.sh
#
# bench_args HELP_LINES OPTION... -- "$@"
#     Parse the script's command line.  An OPTION "--name" takes a value,
#     stored in the variable name; "--name:var=value" is a flag that sets var
#     to value.  -h/--help prints lines HELP_LINES ("2,9", sed's form) of the
#     script, its header, and exits 0; anything else is "SCRIPT: unknown
#     option X" on stderr and exit status 2.
# bench_build
#     Build into ./build (scripts/build.sh, its output hidden); $bin is then
#     the medsweep binary.
# bench_machine
#     Print "   machine: N cores, M GiB; git REV"; bench_memory ("M GiB") and
#     bench_git (REV, or "unknown") are its pieces.
# bench_world DIR PERSONS
#     A generated world of PERSONS persons in DIR, unless DIR is there already.
# bench_peer_deps NOTE
#     Node.js (installed when missing, after printing NOTE unless it is "")
#     and bench/peer's DuckDB package, for the DuckDB peers.

bench_args() {
  local _help=$1 _spec _flag
  local -a _specs=()
  shift
  while [ "$1" != -- ]; do
    _specs+=("$1")
    shift
  done
  shift
  while [ $# -gt 0 ]; do
    for _spec in "${_specs[@]}"; do
      [ "${_spec%%:*}" = "$1" ] || continue
      if [ "$_spec" = "$1" ]; then
        printf -v "${1#--}" '%s' "$2"
        shift 2
      else
        _flag=${_spec#*:}
        printf -v "${_flag%%=*}" '%s' "${_flag#*=}"
        shift
      fi
      continue 2
    done
    case "$1" in
      -h|--help) sed -n "${_help}p" "$0"; exit 0 ;;
      *) echo "${0##*/}: unknown option $1" >&2; exit 2 ;;
    esac
  done
}

bench_build() {
  bash scripts/build.sh >/dev/null
  bin=build/engine/medsweep
}

bench_memory() {
  awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo
}

bench_git() {
  git rev-parse --short HEAD 2>/dev/null || echo unknown
}

bench_machine() {
  echo "   machine: $(nproc) cores, $(bench_memory); git $(bench_git)"
}

bench_world() {
  if [ ! -d "$1" ]; then
    "$bin" gen --out "$1" --persons "$2" --institutions $(($2 / 500 + 100)) --quiet --replace
  fi
}

bench_peer_deps() {
  if ! command -v node >/dev/null; then
    if [ -n "$1" ]; then echo "$1"; fi
    bash scripts/install-deps.sh --bench >/dev/null
  fi
  if [ ! -d bench/peer/node_modules/@duckdb/node-api ]; then
    (cd bench/peer && (npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null))
  fi
}
