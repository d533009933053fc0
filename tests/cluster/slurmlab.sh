# shellcheck shell=bash
# tests/cluster/slurmlab.sh - a real Slurm on this one machine, for the
# tests: MUNGE, slurmctld and slurmd started by hand (no systemd here), each
# with its own socket, ports, state and logs under one folder, and stopped
# by PID.  Sourced, not run (../../../shared/notes/cluster-testing.md has the
# facts it rests on).
#
#   slurmlab_start DIR    start the three daemons, wait for the node to be
#                         idle; exports SLURM_CONF; tries three sets of ports
#                         (one may be taken); returns 1 (and says why) when
#                         they do not come up
#   slurmlab_stop         stop them, whatever state they are in (use in a trap)
#   slurmlab_wait ID...   wait (at most 300 s) until none of the jobs is pending
#                         or running
#   slurmlab_state ID     "COMPLETED 0:0", "FAILED 1:0", "CANCELLED 0:0", ...

slurmlab_pids=()
slurmlab_dir=

slurmlab_start() {
    local try
    for try in 0 1 2; do
        slurmlab_start_on "$1" $((20000 + (($$ + try * 1777) % 5000) * 2)) && return 0
        slurmlab_stop
    done
    return 1
}

# Start on ports port (slurmctld) and port + 1 (slurmd).
slurmlab_start_on() {
    local d=$1 port=$2 cpus mem i st
    slurmlab_dir=$d
    rm -rf "$d"
    mkdir -p "$d/state" "$d/spool" "$d/log" "$d/munge"
    chown munge:munge "$d/munge"
    cpus=$(nproc)
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    # Ports of our own, so that a Slurm already on this machine is left alone.
    cat >"$d/slurm.conf" <<CONF
ClusterName=medsweep-test
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
DependencyParameters=kill_invalid_depend
MailProg=/bin/true
MinJobAge=3600
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$d/slurm.conf
    # MUNGE refuses to run as root: as the munge user, in the foreground, so
    # that $! is the daemon itself.
    setpriv --reuid munge --regid munge --clear-groups munged --foreground --force \
        --socket="$d/munge/munge.sock" --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" \
        --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
    slurmlab_pids+=($!)
    for i in $(seq 1 50); do [ -S "$d/munge/munge.sock" ] && break; sleep 0.1; done
    slurmctld -D -f "$d/slurm.conf" >"$d/log/slurmctld.out" 2>&1 &
    slurmlab_pids+=($!)
    slurmd -D -N localhost -f "$d/slurm.conf" >"$d/log/slurmd.out" 2>&1 &
    slurmlab_pids+=($!)
    for i in $(seq 1 100); do
        st=$(sinfo -h -o %T 2>/dev/null || true)
        [ "$st" = idle ] && return 0
        sleep 0.2
    done
    echo "slurmlab: the node did not become idle on ports $port-$((port + 1)) (state '$st'); logs:" >&2
    tail -n 20 "$d"/log/*.out "$d"/log/*.log "$d/munge/munged.log" >&2 2>/dev/null || true
    return 1
}

slurmlab_stop() {
    local p
    for p in "${slurmlab_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${slurmlab_pids[@]}"; do
        for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    slurmlab_pids=()
}

slurmlab_wait() {
    local i left
    for i in $(seq 1 600); do
        left=$(squeue -h -j "$(IFS=,; echo "$*")" -o %i 2>/dev/null | wc -l)
        [ "$left" = 0 ] && return 0
        sleep 0.5
    done
    echo "slurmlab: jobs $* still queued or running after 300 s" >&2
    squeue >&2 || true
    return 1
}

slurmlab_state() {
    scontrol show job "$1" | tr ' ' '\n' | sed -n 's/^JobState=//p; s/^ExitCode=//p' | paste -sd' '
}
