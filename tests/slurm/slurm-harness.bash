# A throwaway one-node Slurm (Debian's slurm-wlm 22.05 and munge) that lives entirely in one
# directory: its own munge key and socket, configuration, state, spool, logs and job records.
# Source this file from bash (bats or a script) as root.
#
#   slurm_available                 0 when the daemons and clients are installed
#   slurm_start DIR                 start munged, slurmctld and slurmd under DIR (must not exist
#                                   or be empty); exports SLURM_CONF and SLURM_DIR
#   slurm_stop                      cancel every job, stop exactly the processes slurm_start
#                                   started and the job steps they ran, remove the cgroups Slurm
#                                   created and DIR; safe to call twice and after a failed start
#   slurm_cancel_all                cancel every job and wait until they have left the node
#   slurm_submit_as USER SCRIPT [SBATCH_ARG...]
#                                   submit the file SCRIPT as USER, print the job id; the job's
#                                   output goes to $(slurm_job_output JOB)
#   slurm_wait JOB [TIMEOUT]        wait until the job has ended and left the node (default 60 s)
#   slurm_job_state JOB             RUNNING, COMPLETED, FAILED, CANCELLED, OUT_OF_MEMORY ...
#   slurm_job_exit JOB              the job's exit code as "CODE:SIGNAL"
#   slurm_job_cgroups JOB           the job's cgroup directories (job_<id>, one per v1
#                                   hierarchy), one per line; empty once Slurm removed them
#   slurm_job_pids JOB              the pids in the job's cgroups, nested ones included
#   slurm_job_output JOB            the file that holds the job's stdout and stderr
#   slurm_cgroup_snapshot FILE      every cgroup directory on the host, sorted
#
# There is no slurmdbd, so sacct knows nothing: the state and exit code come from
# `scontrol show job` while slurmctld still holds the record (MinJobAge), then from the
# jobcomp/filetxt record slurmctld writes when the job ends.
#
# The daemons and the job steps inherit the caller's mount namespace: run inside
# tests/e2e/run.sh and they resolve its test accounts. On a cgroup v2 host (the User-Mode Linux
# guest, tests/vm) the cgroup/v2 plugin is configured with the workarounds it needs without
# systemd (reference/slurm.md section 4). A host with no IPv4 address but loopback (that guest)
# gets a documentation address on lo while the cluster runs: Slurm resolves with
# AI_ADDRCONFIG, which finds no IPv4 address at all on such a host.

SLURM_CGROOT=/sys/fs/cgroup
SLURM_LO_ADDR=198.51.100.1/32

slurm_available() {
        local tool
        for tool in munged slurmctld slurmd slurmstepd sbatch scontrol scancel sinfo; do
                command -v "$tool" >/dev/null 2>&1 || return 1
        done
}

_slurm_log() {
        echo "slurm-harness: $*" >&2
}

_slurm_cgroup_v2() {
        [ "$(stat -fc %T "$SLURM_CGROOT" 2>/dev/null)" = cgroup2fs ]
}

# Two TCP ports nobody listens on now (a leftover cluster must not answer our clients).
_slurm_free_ports() {
        python3 - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

slurm_cgroup_snapshot() {
        find "$SLURM_CGROOT" -mindepth 1 -type d 2>/dev/null | LC_ALL=C sort >"$1"
}

# The roots under which Slurm puts its node's cgroups.
_slurm_cgroup_roots() {
        if _slurm_cgroup_v2; then
                local d
                for d in "$SLURM_CGROOT"/system.slice/*slurmstepd.scope; do
                        [ -d "$d" ] && echo "$d"
                done
        else
                local d
                for d in "$SLURM_CGROOT"/*/slurm_"$SLURM_NODE"; do
                        [ -d "$d" ] && echo "$d"
                done
        fi
        return 0
}

# Start one daemon in the foreground, in the background of this shell, with no fd of ours
# (bats waits for its fds 3 and up to close).
_slurm_spawn() {
        local name=$1
        shift
        # The spool directory as working directory marks the slurmstepd processes of this
        # cluster: slurmd does not change directory, and they inherit it.
        (cd "$SLURM_DIR/spool" && exec "$@") </dev/null >"$SLURM_DIR/log/$name.out" 2>&1 \
                3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        echo $! >"$SLURM_DIR/run/$name.pid"
}

# A Slurm client command with a bound: an unreachable daemon makes them retry for long.
_slurm_client() {
        timeout 10 "$@"
}

# _slurm_wait_for WHAT SECONDS COMMAND...
_slurm_wait_for() {
        local what=$1 deadline=$((SECONDS + $2))
        shift 2
        while ((SECONDS < deadline)); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        _slurm_log "timed out waiting for $what"
        return 1
}

_slurm_node_idle() {
        [ "$(_slurm_client sinfo -h -n "$SLURM_NODE" -o %T 2>/dev/null)" = idle ]
}

_slurm_write_config() {
        local ctld_port=$1 slurmd_port=$2
        local cpus mem_mib addr=127.0.0.1
        cpus=$(nproc)
        mem_mib=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
        [ "$mem_mib" -le 4096 ] || mem_mib=4096
        cat >"$SLURM_DIR/etc/slurm.conf" <<EOF
ClusterName=glexectest
SlurmctldHost=$SLURM_NODE($addr)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.socket
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pidfile
SlurmdPidFile=$SLURM_DIR/run/slurmd.pidfile
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=1
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
# Schedule a batch job at once, not up to 3 s later (batch_sched_delay).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
KillWait=5
MinJobAge=600
InactiveLimit=0
NodeName=$SLURM_NODE NodeAddr=$addr CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
        if _slurm_cgroup_v2; then
                # No systemd to ask over D-Bus for slurmstepd's scope: slurmd makes it.
                local cores=no
                grep -qw cpuset "$SLURM_CGROOT/cgroup.controllers" && cores=yes
                cat >"$SLURM_DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v2
CgroupMountpoint=$SLURM_CGROOT
IgnoreSystemd=yes
ConstrainCores=$cores
ConstrainRAMSpace=yes
EOF
        else
                cat >"$SLURM_DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupMountpoint=$SLURM_CGROOT
CgroupAutomount=no
ConstrainCores=yes
ConstrainRAMSpace=yes
EOF
        fi
}

# cgroup/v2 in 22.05 expects systemd's layout: it puts slurmstepd in
# system.slice/slurmstepd.scope and needs the controllers enabled down to there.
_slurm_prepare_cgroup_v2() {
        local slice=$SLURM_CGROOT/system.slice ctrl
        if [ ! -d "$slice" ]; then
                mkdir "$slice" || return 1
                echo "$slice" >>"$SLURM_DIR/run/made-cgroups"
        fi
        for ctrl in cpuset cpu memory pids; do
                grep -qw "$ctrl" "$SLURM_CGROOT/cgroup.controllers" || continue
                echo "+$ctrl" >"$SLURM_CGROOT/cgroup.subtree_control" 2>/dev/null || true
                echo "+$ctrl" >"$SLURM_CGROOT/system.slice/cgroup.subtree_control" 2>/dev/null ||
                        true
        done
}

slurm_start() {
        local dir=$1
        if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
                _slurm_log "$dir exists and is not empty"
                return 1
        fi
        mkdir -p "$dir"
        SLURM_DIR=$(cd "$dir" && pwd)
        SLURM_NODE=$(hostname -s)
        export SLURM_DIR SLURM_NODE SLURM_CONF=$SLURM_DIR/etc/slurm.conf
        # Clients and daemons must never fall back to a site configuration.
        unset SLURM_CONF_SERVER
        chmod 0755 "$SLURM_DIR"
        mkdir -m 0755 "$SLURM_DIR"/{etc,munge,run,log}
        # Job output of every submitting user goes here.
        mkdir -m 1777 "$SLURM_DIR/work"
        mkdir -m 0700 "$SLURM_DIR"/{state,spool}
        slurm_cgroup_snapshot "$SLURM_DIR/run/cgroups-before"

        # munged as root with its own key: nothing of a munge installation is used.
        (umask 077 && head -c 1024 /dev/urandom >"$SLURM_DIR/munge/munge.key")
        chmod 0400 "$SLURM_DIR/munge/munge.key"
        _slurm_spawn munged munged --foreground --key-file="$SLURM_DIR/munge/munge.key" \
                --socket="$SLURM_DIR/munge/munge.socket" \
                --pid-file="$SLURM_DIR/munge/munged.pid" \
                --log-file="$SLURM_DIR/log/munged.log" \
                --seed-file="$SLURM_DIR/munge/munged.seed"
        _slurm_wait_for "munged's socket" 5 test -S "$SLURM_DIR/munge/munge.socket" ||
                { cat "$SLURM_DIR/log/munged.out" >&2; return 1; }

        if [ -z "$(ip -4 -o addr show scope global 2>/dev/null)" ]; then
                ip addr add "$SLURM_LO_ADDR" dev lo || return 1
                echo "$SLURM_LO_ADDR" >"$SLURM_DIR/run/lo-addr"
        fi
        local ports
        ports=$(_slurm_free_ports) || return 1
        # shellcheck disable=SC2086
        _slurm_write_config $ports
        if _slurm_cgroup_v2; then
                _slurm_prepare_cgroup_v2 || return 1
        fi
        _slurm_spawn slurmctld slurmctld -D -i -f "$SLURM_CONF"
        _slurm_wait_for "slurmctld" 10 _slurm_client scontrol ping ||
                { cat "$SLURM_DIR/log/slurmctld.log" >&2; return 1; }
        _slurm_spawn slurmd slurmd -D -N "$SLURM_NODE" -f "$SLURM_CONF"
        _slurm_wait_for "the node to be idle" 15 _slurm_node_idle ||
                { cat "$SLURM_DIR/log/slurmd.log" >&2; return 1; }
}

_slurm_stop_daemon() {
        local name=$1 pid i
        pid=$(cat "$SLURM_DIR/run/$name.pid" 2>/dev/null) || return 0
        if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
                kill -TERM "$pid" 2>/dev/null
                for ((i = 0; i < 100; i++)); do
                        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || break
                        sleep 0.1
                done
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && kill -KILL "$pid" 2>/dev/null
        fi
        # Reap it when it is our child; harmless otherwise.
        wait "$pid" 2>/dev/null || true
        rm -f "$SLURM_DIR/run/$name.pid"
        return 0
}

# slurmstepd processes of this cluster: they were forked by our slurmd and keep the spool
# directory as their working directory.
_slurm_stepd_pids() {
        local p
        for p in /proc/[0-9]*; do
                [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
                [ "$(readlink "$p/cwd" 2>/dev/null)" = "$SLURM_DIR/spool" ] || continue
                echo "${p#/proc/}"
        done
}

# Remove the cgroups that appeared under Slurm's roots during this run, killing whatever is
# still in them (job processes only: the daemons are stopped by then).
_slurm_remove_cgroups() {
        local before=$SLURM_DIR/run/cgroups-before root d pid i left
        for ((i = 0; i < 10; i++)); do
                left=0
                while read -r root; do
                        while read -r d; do
                                grep -qxF "$d" "$before" && continue
                                [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
                                if [ -f "$d/cgroup.kill" ]; then
                                        echo 1 >"$d/cgroup.kill" 2>/dev/null
                                else
                                        while read -r pid; do
                                                kill -KILL "$pid" 2>/dev/null
                                        done <"$d/cgroup.procs"
                                fi
                                rmdir "$d" 2>/dev/null || left=1
                        done < <(find "$root" -depth -type d 2>/dev/null)
                done < <(_slurm_cgroup_roots)
                # The cgroups made for cgroup/v2 (system.slice) go last, if still empty.
                if [ -f "$SLURM_DIR/run/made-cgroups" ]; then
                        while read -r d; do
                                rmdir "$d" 2>/dev/null || { [ -d "$d" ] && left=1; }
                        done < <(tac "$SLURM_DIR/run/made-cgroups")
                fi
                [ "$left" -eq 0 ] && return 0
                sleep 0.2
        done
        _slurm_log "cgroups left behind:"
        while read -r root; do find "$root" -type d >&2; done < <(_slurm_cgroup_roots)
        return 1
}

slurm_stop() {
        [ -n "${SLURM_DIR:-}" ] && [ -d "$SLURM_DIR/run" ] || return 0
        local rc=0 pid i
        if [ -f "$SLURM_DIR/run/slurmctld.pid" ] &&
                _slurm_client scontrol ping >/dev/null 2>&1; then
                slurm_cancel_all
        fi
        _slurm_stop_daemon slurmd
        # Job steps whose jobs outlived the cancel: slurmstepd without its slurmd.
        for ((i = 0; i < 50; i++)); do
                pid=$(_slurm_stepd_pids)
                [ -z "$pid" ] && break
                # shellcheck disable=SC2086
                [ "$i" -eq 20 ] && kill -KILL $pid 2>/dev/null
                sleep 0.1
        done
        _slurm_stop_daemon slurmctld
        _slurm_stop_daemon munged
        _slurm_remove_cgroups || rc=1
        if [ -f "$SLURM_DIR/run/lo-addr" ]; then
                ip addr del "$(cat "$SLURM_DIR/run/lo-addr")" dev lo || rc=1
        fi
        if [ -n "$(_slurm_stepd_pids)" ]; then
                _slurm_log "slurmstepd still running: $(_slurm_stepd_pids)"
                rc=1
        fi
        rm -rf "$SLURM_DIR"
        return $rc
}

slurm_cancel_all() {
        local jobs
        [ -d "${SLURM_DIR:-}/run" ] || return 0
        jobs=$(_slurm_client squeue -h -o %i 2>/dev/null) || return 1
        [ -n "$jobs" ] || return 0
        # shellcheck disable=SC2086
        _slurm_client scancel $jobs 2>/dev/null
        _slurm_wait_for "the jobs to end" 15 _slurm_no_jobs
}

slurm_submit_as() {
        local user=$1 script=$2
        shift 2
        local gid out
        gid=$(id -g "$user") || return 1
        out=$(setpriv --reuid="$user" --regid="$gid" --init-groups -- \
                env -i PATH=/usr/local/bin:/usr/bin:/bin SLURM_CONF="$SLURM_CONF" \
                sbatch --parsable --chdir="$SLURM_DIR/work" \
                --output="$SLURM_DIR/work/job-%j.out" "$@" <"$script") || return 1
        echo "${out%%;*}"
}

slurm_job_output() {
        echo "$SLURM_DIR/work/job-$1.out"
}

# "Key=Value" from the job's scontrol record, or from its jobcomp record once it has one.
_slurm_job_field() {
        local job=$1 key=$2 rec
        rec=$(_slurm_client scontrol -o show job "$job" 2>/dev/null) ||
                rec=$(grep -E "^JobId=$job " "$SLURM_DIR/jobcomp.txt" 2>/dev/null | tail -n 1)
        [ -n "$rec" ] || return 1
        tr ' ' '\n' <<<"$rec" | sed -n "s/^$key=//p" | head -n 1
}

slurm_job_state() {
        _slurm_job_field "$1" JobState
}

slurm_job_exit() {
        _slurm_job_field "$1" ExitCode
}

# Ended: slurmctld wrote its jobcomp record and no longer waits for the node to finish the
# job (COMPLETING), so its processes and cgroups are gone.
_slurm_job_done() {
        grep -qE "^JobId=$1 " "$SLURM_DIR/jobcomp.txt" 2>/dev/null &&
                [ -z "$(_slurm_client squeue -h -j "$1" -o %i 2>/dev/null)" ]
}

_slurm_no_jobs() {
        local out
        out=$(_slurm_client squeue -h -o %i 2>/dev/null) && [ -z "$out" ]
}

slurm_wait() {
        local job=$1 timeout=${2:-60}
        _slurm_wait_for "job $job to end" "$timeout" _slurm_job_done "$job" && return 0
        _slurm_log "job $job: state $(slurm_job_state "$job")"
        return 1
}

slurm_job_cgroups() {
        local job=$1 root
        while read -r root; do
                find "$root" -type d -name "job_$job" 2>/dev/null
        done < <(_slurm_cgroup_roots)
}

slurm_job_pids() {
        local d
        while read -r d; do
                find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
        done < <(slurm_job_cgroups "$1") | sort -un
}
