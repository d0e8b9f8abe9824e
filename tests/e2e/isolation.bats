#!/usr/bin/env bats
# What the payload sees (SPEC section 9; sandbox-anchors.md section 2 and checklist A-E, G), in
# every deployment mode: the probe (tests/probe, $GX_PROBE) looks at the sandbox from inside,
# the host side is checked with ps/pgrep. The probe's path is unique to the run, so its
# command line marks the payload's processes on the host.

load helpers

MODES=(declare-only mapping site-isolation)

setup() {
        [ -x "$GX_PROBE" ] || skip "no probe: run through tests/e2e/run.sh"
        setup_site
        local dn
        dn=$(awk -F'\t' '$1 == "alice" { print $2 }' "$GX_FX/users.tsv")
        printf '"%s" alicea\n' "$dn" >"$T/grid-security/grid-mapfile"
        chmod 0644 "$T/grid-security/grid-mapfile"
        HOST_TMP_FILES=()
}

teardown() {
        rm -f "${HOST_TMP_FILES[@]}"
        # A failed test must not leave payloads behind; they are found by the run's probe path.
        # Root's processes (glexec, its reaper) are left alone: a reaper killed between
        # freezing and thawing a v1 cgroup would leave the payload frozen for good.
        local pid
        for pid in $(pgrep -f -- "$GX_PROBE"); do
                [ "$(ps -o euid= -p "$pid" 2>/dev/null | tr -d ' ')" = 0 ] ||
                        kill -KILL "$pid" 2>/dev/null || true
        done
}

# use_mode MODE [section.key=value...]: write the configuration and set TARGET_UID, the uid
# the payload must run as (the valid proxy is Alice's; her DN maps to alicea).
use_mode() {
        local mode=$1
        shift
        write_config "$mode" "$@"
        case $mode in
        declare-only) TARGET_UID=$(id -u pilot) ;;
        mapping) TARGET_UID=$(id -u alicea) ;;
        site-isolation) TARGET_UID=$(id -u gxnobody) ;;
        esac
        echo "# mode $mode, payload uid $TARGET_UID"
}

# The probe as the payload of a launch by the pilot.
probe() {
        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$GX_PROBE" "$@"
}

# A shell script as the payload; "$0" in the script is the probe.
payload_sh() {
        local script=$1
        shift
        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c "$script" "$GX_PROBE" "$@"
}

# Wait at most $2 seconds for the background glexec $1; its exit status in GX_STATUS. A glexec
# that does not end in time is killed, and the test fails.
wait_gx() {
        local pid=$1 limit=$2
        for _ in $(seq $((limit * 20))); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid"
                wait "$pid" || true
                echo "glexec $pid did not end within $limit s"
                return 1
        fi
        GX_STATUS=0
        wait "$pid" || GX_STATUS=$?
}

# The run's processes still alive on the host, one per line: the probe's path is in the
# command line of the payloads (as argv[0]) and of their init (as an argument).
leftovers() {
        pgrep -a -f -- "$GX_PROBE" || true
}

# The number of payload processes (not their init) of this run that run as uid $1.
payloads_of() {
        pgrep -u "$1" -f -- "^$GX_PROBE " | wc -l
}

@test "PID 1 is glexec's init, the payload is its child, /proc shows only the payload's processes" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe pid
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "pid: pid=2 ppid=1" ]
                run probe proc-pids
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "proc-pids: 1 2" ]
                # PID 1 is glexec (a fork of it), not the payload; its parent is outside.
                run payload_sh 'tr "\0" " " </proc/1/cmdline; echo; echo "$$ $PPID $(cut -d" " -f4 /proc/1/stat)"'
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "${lines[0]}" == "$GLEXEC /bin/sh -c "* ]]
                [ "${lines[1]}" = "2 1 0" ]
        done
}

@test "an orphan is reaped by the init while the payload runs, and nothing outlives the launch" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                # The grandchild ends after 1 s as an orphan of the init; a zombie left
                # unreaped would still be listed in /proc a second later.
                run payload_sh '"$0" orphan 1; sleep 2; "$0" proc-pids'
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "${lines[1]}" =~ ^proc-pids:\ 1\ 2\ [0-9]+$ ]]

                # A grandchild that would sleep for a minute: glexec returns as soon as the
                # payload exits, and the orphan is gone from the host's view.
                local start=$SECONDS
                run probe orphan 60
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" == "orphan: pid="*" sleeping 60s" ]]
                [ $((SECONDS - start)) -lt 30 ]
                [ -z "$(leftovers)" ]
                run ps -o stat=,comm= -u "$TARGET_UID"
                echo "$output"
                [[ "$output" != *Z*glexec-probe* ]]
        done
}

@test "SIGTERM reaches a payload that handles it" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- \
                        "$GX_PROBE" sigterm-trap trapped
                wait_for_line "$T/out" "sigterm-trap: waiting"
                kill -TERM "$GX_PID"
                wait_gx "$GX_PID" 10
                cat "$T/out"
                [ "$GX_STATUS" -eq 42 ]
        done
}

@test "kill -9 of glexec leaves no payload process" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                        '"$0" orphan 120; exec "$0" sleep 120' "$GX_PROBE"
                wait_for_line "$T/out" "sleep: 120s"
                # The payload and its orphan run on the host as the target.
                [ "$(payloads_of "$TARGET_UID")" -eq 2 ]
                kill -KILL "$GX_PID"
                wait_gx "$GX_PID" 10
                [ "$GX_STATUS" -eq $((128 + 9)) ]
                for _ in $(seq 100); do
                        [ -n "$(leftovers)" ] || break
                        sleep 0.05
                done
                leftovers
                [ -z "$(leftovers)" ]
        done
}

@test "no capabilities in any set, no_new_privs, a seccomp filter" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe status
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" == *"CapBnd: 0000000000000000"* ]]
                [[ "$output" == *"Seccomp: 2"* ]]
                # Nor does the init that shares the payload's PID namespace hold any.
                run payload_sh 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/1/status'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$(echo "$output" | grep -c ':[[:space:]]*0000000000000000$')" -eq 5 ]
                run probe setuid0
                echo "$output"
                [ "$status" -eq 0 ]
        done
}

@test "every syscall default.json denies fails with the profile's errno" {
        # name errno pairs from the installed profile, so that profile and test cannot drift.
        local -a calls
        mapfile -t calls < <(python3 - "$GX_PREFIX/share/glexec-ng/seccomp/default.json" <<'PY'
import json, sys
seen = {}
for rule in json.load(open(sys.argv[1]))["syscalls"]:
    if rule["action"] != "SCMP_ACT_ERRNO":
        continue
    for name in rule["names"]:
        seen.setdefault(name, rule.get("errnoRet", 1))
for name, errno in seen.items():
    print(name, errno)
PY
)
        [ "${#calls[@]}" -ge 40 ]
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe syscall all
                echo "$output"
                [ "$status" -eq 0 ]
                # Each one by name, with the errno the profile gives; the probe knows them all.
                run payload_sh 'p=$0; for c in "$@"; do "$p" syscall $c || exit; done' \
                        "${calls[@]}"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "${#lines[@]}" -eq "${#calls[@]}" ]
        done
}

@test "the strict profile refuses with ENOSYS what default.json denies, and ptrace" {
        use_mode declare-only sandbox.seccomp_profile="$GX_PREFIX/share/glexec-ng/seccomp/strict.json"
        local -a names
        mapfile -t names < <(python3 - "$GX_PREFIX/share/glexec-ng/seccomp/default.json" <<'PY'
import json, sys
names = [n for r in json.load(open(sys.argv[1]))["syscalls"] for n in r["names"]]
print("\n".join(dict.fromkeys(names + ["ptrace"])))
PY
)
        run payload_sh 'p=$0; for c in "$@"; do "$p" syscall "$c" ENOSYS || exit; done' \
                "${names[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq "${#names[@]}" ]
        # and ordinary payloads still work under it
        run payload_sh 'ls / >/dev/null && "$0" status'
        echo "$output"
        [ "$status" -eq 0 ]
}

@test "x32 and i386 system calls kill the payload with SIGSYS" {
        [ "$(uname -m)" = x86_64 ] || skip "x32 and i386 calls exist only on x86_64"
        # Outside the sandbox an i386 call works where the kernel has IA32 emulation.
        local ia32=no
        ! "$GX_PROBE" ia32 | grep -q "not killed" || ia32=yes
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe x32
                echo "$output"
                [ "$status" -eq $((128 + 31)) ]
                [[ "$output" != *"not killed"* ]]
                [ "$ia32" = yes ] || continue
                run probe ia32
                echo "$output"
                [ "$status" -eq $((128 + 31)) ]
        done
}

@test "TIOCSTI is refused by the filter, also with high bits set in the command (CVE-2019-10063)" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                # stdin is no terminal: without the filter the kernel would say ENOTTY.
                run probe tiocsti </dev/null
                echo "$output"
                [ "$status" -eq 0 ]
                run probe syscall ioctl
                echo "$output"
                [ "$status" -eq 0 ]
        done
}

@test "the payload runs in its own session without a controlling terminal" {
        command -v script >/dev/null || skip "script(1) is missing"
        # The pilot calls glexec from a terminal (script gives it one).
        local cmd
        cmd=$(printf '%q ' setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- \
                env -i -C "$PILOT_HOME" PATH=/usr/bin:/bin GLEXEC_CLIENT_CERT="$(proxy valid)" \
                "$GLEXEC" /bin/sh -c 'set -- $(cut -d" " -f6,7 /proc/$$/stat); echo "pid=$$ sid=$1 tty=$2"')
        run script -qec 'cut -d" " -f7 /proc/self/stat' /dev/null
        echo "caller tty: $output"
        [ "$(echo "$output" | tr -d '\r')" != 0 ]
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run script -qec "$cmd" /dev/null
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$(echo "$output" | tr -d '\r')" = "pid=2 sid=2 tty=0" ]
        done
}

@test "an fd the caller left open does not reach the payload, in every mode" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe fds 7</etc/hostname 9>"$T/fd9"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "fds: 0 1 2" ]
        done
}

@test "hide_paths: a hidden directory and file are not reachable" {
        mkdir -p "$T/hidden-dir"
        echo secret-in-dir >"$T/hidden-dir/data"
        echo secret-file >"$T/hidden-file"
        chmod 0755 "$T/hidden-dir"
        chmod 0644 "$T/hidden-dir/data" "$T/hidden-file"
        for mode in "${MODES[@]}"; do
                # Without hide_paths the target can read both: the check below means something.
                use_mode "$mode"
                run payload_sh 'cat "$1" "$2"' "$T/hidden-dir/data" "$T/hidden-file"
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" == *secret-in-dir*secret-file* ]]

                use_mode "$mode" sandbox.hide_paths="$T/hidden-dir,$T/hidden-file"
                run probe read "$T/hidden-dir/data"
                echo "$output"
                [ "$status" -eq 5 ]
                run payload_sh 'ls -A "$1"' "$T/hidden-dir"
                echo "$output"
                [ "$status" -ne 0 ]
                run payload_sh 'cat "$1"' "$T/hidden-file"
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" != *secret* ]]
        done
}

@test "/tmp and /var/tmp are private in both directions" {
        local host_file=/tmp/glexec-e2e-host.$$ out_file=/tmp/glexec-e2e-payload.$$
        local var_file=/var/tmp/glexec-e2e-payload.$$
        HOST_TMP_FILES=("$host_file" "$out_file" "$var_file")
        echo host >"$host_file"
        chmod 0644 "$host_file"
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe read "$host_file"
                echo "$output"
                [ "$status" -eq 5 ]
                [[ "$output" == *ENOENT* ]]
                run payload_sh '"$0" write "$1" && "$0" write "$2" && "$0" read "$1"' \
                        "$out_file" "$var_file"
                echo "$output"
                [ "$status" -eq 0 ]
                [ ! -e "$out_file" ]
                [ ! -e "$var_file" ]
        done
}

@test "a setuid-root binary inside the sandbox gains nothing" {
        mkdir -p "$T/suid"
        chmod 0755 "$T/suid"
        cp "$GX_PROBE" "$T/suid/probe"
        chown root:root "$T/suid/probe"
        chmod 4755 "$T/suid/probe"
        # Outside the sandbox it does make the pilot root: the check below means something.
        run setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- "$T/suid/probe" ids
        echo "host: $output"
        [[ "$output" == *" euid=0 "* ]]
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run payload_sh '"$1" ids && "$1" setuid0 && "$1" status' "$T/suid/probe"
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "${lines[0]}" == "ids: uid=$TARGET_UID gid="*" euid=$TARGET_UID "*"suid=$TARGET_UID "* ]]
        done
}

@test "another payload's sandbox and the pilot's proxy are out of reach" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- \
                        "$GX_PROBE" sleep 60
                wait_for_line "$T/out" "sleep: 60s"
                # The first payload's sandbox is there on the host; a second payload (the
                # same uid in site-isolation) sees only its own in the sandbox base.
                local first
                first=$(find "$T/sandbox" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
                [ "$(echo "$first" | wc -l)" -eq 1 ]
                run payload_sh 'ls -A "$1"; "$0" cwd' "$T/sandbox"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "${#lines[@]}" -eq 2 ]
                [ "${lines[0]}" != "$first" ]
                [ "${lines[1]}" = "cwd: $T/sandbox/${lines[0]}" ]
                kill -TERM "$GX_PID"
                wait_gx "$GX_PID" 10
                # The credential the pilot handed over and the pilot's own proxy: out of
                # reach of any other account, and covered where the payload has the pilot's
                # uid (declare-only), though the payload has its own copy of the first.
                local own=$PILOT_HOME/pilot-own-proxy.pem
                cp "$(proxy valid)" "$own"
                chown pilot: "$own"
                chmod 0600 "$own"
                local f
                for f in "$(proxy valid)" "$own"; do
                        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" X509_USER_PROXY="$own" \
                                -- "$GX_PROBE" read "$f"
                        echo "$output"
                        if [ "$mode" = declare-only ]; then
                                [ "$status" -eq 0 ]
                                [[ "$output" == *": 0 bytes" ]]
                        else
                                [ "$status" -eq 5 ]
                                [[ "$output" == *EACCES* ]]
                        fi
                done
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                        'test -s "$X509_USER_PROXY" && echo copy'
                [ "$output" = copy ]
        done
}

@test "/etc/shadow cannot be read" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run probe read /etc/shadow
                echo "$output"
                [ "$status" -eq 5 ]
                [[ "$output" == *EACCES* ]]
        done
}

@test "the working directory is the sandbox: 0700, owned by the target" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run payload_sh '"$0" cwd && stat -c "%u %a" .'
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "${lines[0]}" =~ ^cwd:\ $T/sandbox/[0-9a-f]+$ ]]
                [ "${lines[1]}" = "$TARGET_UID 700" ]
        done
}

@test "namespaces with net, ipc and uts: loopback only and up, other namespaces than the host's" {
        local ip host_ns
        ip=$(command -v ip) || skip "ip(8) is missing"
        host_ns=$(readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts | tr '\n' ' ')
        for mode in "${MODES[@]}"; do
                # Without net the payload shares the host's network.
                use_mode "$mode"
                run payload_sh 'readlink /proc/self/ns/net'
                [ "$output" = "$(readlink /proc/self/ns/net)" ]

                use_mode "$mode" sandbox.namespaces=user,mount,pid,ipc,uts,net
                run payload_sh 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = lo ]
                run payload_sh '"$1" -o link show' "$ip"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "${#lines[@]}" -eq 1 ]
                [[ "${lines[0]}" == *" lo: <LOOPBACK,UP"* ]]
                run payload_sh 'readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts'
                echo "$output"
                [ "$status" -eq 0 ]
                local n
                for n in "${lines[@]}"; do
                        [[ "$host_ns" != *"$n"* ]]
                done
        done
}

# An installed copy of glexec without the setuid bit. The configuration path is compiled in,
# so it reads the same $CONF.
nosuid_glexec() {
        mkdir -p "$GX_TMP/nosuid/sbin"
        install -o root -g root -m 0755 "$GX_PREFIX/sbin/glexec" "$GX_TMP/nosuid/sbin/glexec"
        echo "$GX_TMP/nosuid/sbin/glexec"
}

@test "declare-only from a binary without the setuid bit: the same sandbox in an unprivileged user namespace" {
        local GLEXEC
        GLEXEC=$(nosuid_glexec)
        mkdir -p "$T/pilot-sandbox"
        chown pilot:pilot "$T/pilot-sandbox"
        chmod 0700 "$T/pilot-sandbox"
        # As the README says: a sandbox base and no audit log (both would have to be root's);
        # the pilot's cgroup is not delegated to it here, so no limits either.
        use_mode declare-only sandbox.sandbox_base="$T/pilot-sandbox" audit.audit_log= \
                audit.require_audit=no limits.require_cgroup=no

        run probe ids
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == "ids: uid=$TARGET_UID gid=$(id -g pilot) euid=$TARGET_UID "* ]]
        run probe pid
        [ "$output" = "pid: pid=2 ppid=1" ]
        run probe proc-pids
        [ "$output" = "proc-pids: 1 2" ]
        run probe status
        echo "$output"
        [ "$status" -eq 0 ]
        run probe syscall all
        echo "$output"
        [ "$status" -eq 0 ]
        run probe fds 7</etc/hostname
        [ "$output" = "fds: 0 1 2" ]
        run probe read /etc/shadow
        [ "$status" -eq 5 ]
        run payload_sh '"$0" cwd && stat -c "%u %a" .'
        echo "$output"
        [[ "${lines[0]}" =~ ^cwd:\ $T/pilot-sandbox/[0-9a-f]+$ ]]
        [ "${lines[1]}" = "$TARGET_UID 700" ]
        if [ "$(uname -m)" = x86_64 ]; then
                run probe x32
                [ "$status" -eq $((128 + 31)) ]
        fi
        run probe exit 7
        [ "$status" -eq 7 ]
        # the sandbox is cleaned up by the unprivileged glexec too
        [ -z "$(ls -A "$T/pilot-sandbox")" ]
}

@test "mapping and site-isolation from a binary without the setuid bit are refused (202)" {
        local GLEXEC
        GLEXEC=$(nosuid_glexec)
        for mode in mapping site-isolation; do
                use_mode "$mode"
                run probe exit 0
                echo "$output"
                [ "$status" -eq 202 ]
                [[ "$output" == "glexec: mode $mode needs glexec to run as root"*"not installed setuid root"* ]]
        done
        # The setuid binary called with no_new_privs set cannot become root either, and says so.
        use_mode mapping
        run setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups --no-new-privs -- \
                env -i -C "$PILOT_HOME" GLEXEC_CLIENT_CERT="$(proxy valid)" \
                "$GX_PREFIX/sbin/glexec" "$GX_PROBE" exit 0
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"no_new_privs is set"* ]]
}

@test "the compiled seccomp filter is cached, root's alone; a damaged or foreign entry is not used" {
        local cache=$GX_PREFIX/var/cache/glexec-ng allow=$T/allow-all.json entry other
        rm -rf "$cache"
        use_mode declare-only
        run probe syscall keyctl
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$(stat -c '%U %a' "$cache")" = "root 700" ]
        [ "$(find "$cache" -mindepth 1 | wc -l)" -eq 1 ]
        entry=$(basename "$cache"/seccomp-*)
        [ "$(stat -c '%U %a' "$cache/$entry")" = "root 600" ]
        cp "$cache/$entry" "$T/entry.good"

        # A torn entry and a flipped byte are compiled again, and the entry replaced.
        truncate -s 100 "$cache/$entry"
        run probe syscall keyctl
        [ "$status" -eq 0 ]
        cmp "$cache/$entry" "$T/entry.good"
        printf '\377' | dd of="$cache/$entry" bs=1 seek=200 conv=notrunc status=none
        run probe syscall keyctl
        [ "$status" -eq 0 ]
        cmp "$cache/$entry" "$T/entry.good"

        # Another profile gets an entry of its own.
        echo '{"defaultAction": "SCMP_ACT_ALLOW"}' >"$allow"
        chmod 0644 "$allow"
        use_mode declare-only sandbox.seccomp_profile="$allow"
        run probe syscall keyctl
        [ "$status" -ne 0 ]
        [ "$(find "$cache" -mindepth 1 | wc -l)" -eq 2 ]
        other=$(cd "$cache" && ls | grep -vx "$entry")

        # The launch does load the cache: root's allow-all program under the default
        # profile's name lets keyctl through...
        use_mode declare-only
        cp "$cache/$other" "$cache/$entry"
        run probe syscall keyctl
        [ "$status" -ne 0 ]
        # ...but not once anyone else owns it or could have written it, or its directory.
        chown pilot "$cache/$entry"
        run probe syscall keyctl
        [ "$status" -eq 0 ]
        [ "$(stat -c %U "$cache/$entry")" = root ]
        cp "$cache/$other" "$cache/$entry"
        chmod 0622 "$cache/$entry"
        run probe syscall keyctl
        [ "$status" -eq 0 ]
        cp "$cache/$other" "$cache/$entry"
        chmod 0600 "$cache/$entry"
        chmod 0777 "$cache"
        use_mode declare-only glexec.log_destination=file glexec.log_file="$T/log/glexec.log"
        run probe syscall keyctl
        echo "$output"
        [ "$status" -eq 0 ]
        grep "seccomp cache not used" "$T/log/glexec.log"
        rm -rf "$cache"
}
