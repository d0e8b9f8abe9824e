#!/bin/bash
# Checks that tests/vm/uml-run gives the test suite what it relies on: a
# cgroup v2 guest with cpu, memory and pids, enforced memory limits, exit
# status and output passed through, setuid binaries on --rw directories,
# a time limit, and nothing left behind. TAP output; exit 77 when
# user-mode-linux is not installed or when not run as root.

set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
uml_run=$here/uml-run

if ((EUID != 0)); then
        echo "1..0 # skipped: needs root (setuid check, host ownership through hostfs)"
        exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/uml-selftest.XXXXXX") || exit 1
trap 'rm -rf -- "$work"' EXIT
# Readable by the guest's unprivileged user, who runs the setuid copy below.
chmod 0755 "$work"
# uml-run's own temporary directories go here, to check that none remain.
mkdir "$work/tmp"
export TMPDIR=$work/tmp

n=0
failed=0
started=
elapsed=
timer_start() { started=${EPOCHREALTIME/[.,]/}; }
timer_stop() {
        local us=$((${EPOCHREALTIME/[.,]/} - started))
        elapsed=$(printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000)))
}
ok() {
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
        shift
        (($# == 0)) || printf '#   %s\n' "$@"
}
# check NAME COND...: run the [[ ]] condition given as words
check() {
        local name=$1
        shift
        if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
equals() { [[ $1 == "$2" ]]; }
contains() { [[ $1 == *"$2"* ]]; }
lacks() { [[ $1 != *"$2"* ]]; }

# --- boot and power off, timed -------------------------------------------
timer_start
"$uml_run" -- true 2>"$work/err"
rc=$?
timer_stop
if ((rc == 77)); then
        echo "1..0 # $(<"$work/err")"
        exit 77
fi
check "boot, run true, power off (${elapsed} s wall)" equals "$rc" 0

# --- exit status ---------------------------------------------------------
"$uml_run" -- sh -c 'exit 3' 2>/dev/null
check "exit status 3 is passed through" equals "$?" 3

# --- output capture ------------------------------------------------------
out=$("$uml_run" -- sh -c 'printf "to stdout\n"; printf "to stderr\n" >&2; printf "no newline"' 2>"$work/err")
check "stdout is the command's stdout only" equals "$out" $'to stdout\nno newline'
check "stderr is the command's stderr only" equals "$(<"$work/err")" "to stderr"

# --- cgroup v2, OOM kill, setuid: one boot ---------------------------------
suid=$work/suid
mkdir -m 0755 "$suid"
cp /usr/bin/id "$suid/id"
chown 0:0 "$suid/id"
chmod 4755 "$suid/id"

# Allocates 200 MiB inside a child cgroup limited to 64 MiB. python3 is the
# fastest way to touch the pages; tail -c buffers what it reads from a pipe.
# shellcheck disable=SC2016 # expanded in the guest
guest_script='
cg=/sys/fs/cgroup
echo "mount=$(awk '\''$2 == "/sys/fs/cgroup" { print $3 }'\'' /proc/mounts)"
echo "v1_mounts=$(awk '\''$3 == "cgroup"'\'' /proc/mounts | wc -l)"
echo "controllers=$(cat $cg/cgroup.controllers)"
echo "subtree_control=$(cat $cg/cgroup.subtree_control)"
mkdir $cg/selftest
echo 64M >$cg/selftest/memory.max
echo 0 >$cg/selftest/memory.swap.max
(
        echo $BASHPID >$cg/selftest/cgroup.procs
        if command -v python3 >/dev/null; then
                exec python3 -c "b = b\"x\" * (200 << 20)"
        fi
        head -c 200M /dev/zero | tail -c 200M >/dev/null
) 2>/dev/null
echo "alloc_status=$?"
echo "oom_kill=$(awk '\''$1 == "oom_kill" { print $2 }'\'' $cg/selftest/memory.events)"
echo "peak=$(cat $cg/selftest/memory.peak)"
rmdir $cg/selftest
echo "suid_mount=$(awk -v d="$1" '\''$2 == d { print $4 }'\'' /proc/mounts)"
echo "suid_euid=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$1/id" -u)"
echo "suid_ruid=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$1/id" -ru)"
echo "init_groups=$(setpriv --reuid=nobody --regid=nogroup --init-groups id -un)"
'
timer_start
facts=$("$uml_run" --rw "$suid" -- bash -c "$guest_script" guest "$suid" 2>"$work/err")
rc=$?
timer_stop
fact() { sed -n "s/^$1=//p" <<<"$facts"; }
check "guest checks ran (${elapsed} s wall)" equals "$rc" 0
check "cgroup2 is mounted on /sys/fs/cgroup" equals "$(fact mount)" cgroup2
check "no cgroup v1 hierarchy is mounted" equals "$(fact v1_mounts)" 0
for c in cpu memory pids; do
        check "controller $c is available" contains " $(fact controllers) " " $c "
        check "controller $c is enabled in the root subtree_control" contains " $(fact subtree_control) " " $c "
done
check "200 MiB allocation under memory.max 64M is killed (status $(fact alloc_status))" \
        equals "$(fact alloc_status)" 137
check "memory.events reports oom_kill 1" equals "$(fact oom_kill)" 1
check "memory.peak stays at the limit ($(fact peak))" equals "$(fact peak)" 67108864
check "the OOM report stays on the guest console" lacks "$facts$(<"$work/err")" "out of memory"
check "the --rw mount is not nosuid ($(fact suid_mount))" lacks ",$(fact suid_mount)," ",nosuid,"
check "setuid-root binary on --rw dir runs as euid 0 for uid 65534" equals "$(fact suid_euid)" 0
check "its real uid stays 65534" equals "$(fact suid_ruid)" 65534
check "setpriv --init-groups works for a named user" equals "$(fact init_groups)" nobody

# --- time limit ----------------------------------------------------------
timer_start
"$uml_run" --timeout 3 -- sleep 60 2>"$work/err"
rc=$?
timer_stop
check "--timeout 3 stops sleep 60 with status 124 (${elapsed} s)" equals "$rc" 124
check "the time limit is reported" contains "$(<"$work/err")" "timed out after 3 s"

# --- missing package -----------------------------------------------------
UML_RUN_KERNEL=$work/no-such-kernel "$uml_run" -- true 2>"$work/err"
check "a missing kernel gives status 77" equals "$?" 77
check "and says why" contains "$(<"$work/err")" "skipped: user-mode-linux not installed"

# --- the AMX xstate fix loads without harm --------------------------------
if command -v cc >/dev/null; then
        UML_RUN_XSTATE_FIX=always "$uml_run" -- true 2>"$work/err"
        check "boot with the xstate fix preloaded (host AMX: $(grep -qw amx_tile /proc/cpuinfo && echo yes || echo no))" \
                equals "$?" 0
else
        ok "boot with the xstate fix preloaded # SKIP no C compiler"
fi

# --- nothing left behind ---------------------------------------------------
left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | head -n 5)
check "no temporary files remain" equals "$left" ""
procs=
for f in /proc/[0-9]*/cmdline; do
        mapfile -d '' args 2>/dev/null <"$f" || continue
        if [[ "${args[*]}" == *"$TMPDIR/"* ]]; then
                p=${f#/proc/}
                procs+=" ${p%/cmdline}"
        fi
done
check "no process of the guests remains" equals "$procs" ""

echo "1..$n"
((failed == 0))
