# shellcheck shell=bash
# cluster/slurm/lib.sh - what the batch scripts share.  Sourced by them from
# $MS_CLUSTER_DIR (set by weekly.sh; Slurm runs a copy of each script, so a
# script cannot find its own folder), never run.
#
#   ms_log MESSAGE...      one line on stderr, "2026-12-01T02:40:00+00:00 [job 17] MESSAGE"
#   ms_run COMMAND...      run it with every line of its output time-stamped;
#                          returns the command's exit status
#   ms_need VAR...         exit 2, naming it, when a variable is unset or empty

ms_log() {
    printf '%s [job %s%s] %s\n' "$(date -Iseconds)" "${SLURM_JOB_ID:-none}" \
        "${SLURM_RESTART_COUNT:+, restart $SLURM_RESTART_COUNT}" "$*" >&2
}

ms_run() {
    ms_log "run: $*"
    local rc
    set +e
    "$@" 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$(date -Iseconds)" "$line"; done >&2
    rc=${PIPESTATUS[0]}
    set -e
    ms_log "exit status $rc: $1"
    return "$rc"
}

ms_need() {
    local v
    for v in "$@"; do
        if [ -z "${!v:-}" ]; then
            ms_log "error: $v is not set (see docs/cluster.md)"
            exit 2
        fi
    done
}
