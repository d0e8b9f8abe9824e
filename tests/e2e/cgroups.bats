#!/usr/bin/env bats
# Per-payload cgroups (cgroup v1 on this host; the same cases run on v2 in the User-Mode Linux
# guest): limits, accounting, OOM and wall-time reporting, teardown, and the reaper.

load helpers

setup() {
        setup_site
        write_config declare-only limits.require_cgroup=yes
}

# Cgroups left by this test's launches (their ids are in the audit log; other runs on the
# host may have cgroups of their own at the same places).
payload_cgroups() {
        local id
        for id in $(python3 -c 'import json,sys
for line in open(sys.argv[1]): print(json.loads(line)["id"])' "$AUDIT" 2>/dev/null | sort -u); do
                find /sys/fs/cgroup -maxdepth 8 -type d -name "glexec-$id" 2>/dev/null || true
        done
}

# The directory of this shell's cgroup where glexec puts payload cgroups (v1: memory).
own_cgroup_dir() {
        if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
                echo "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup)" | sed 's#/$##'
        else
                echo "/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)" | sed 's#/$##'
        fi
}

report() {
        json_get "$1" <"$T/report"
}

@test "the report names the payload's cgroup and nothing is left afterwards" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/true 3>"$T/report"
        [ "$status" -eq 0 ]
        [[ "$(report '["cgroup"]')" == /sys/fs/cgroup/*glexec-* ]]
        [ -z "$(payload_cgroups)" ]
}

@test "the payload runs inside its cgroup with the limits" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --memory 100M --pids 50 /bin/sh -c \
                'cat /proc/self/cgroup'
        [ "$status" -eq 0 ]
        echo "$output" | grep -Eq '^([0-9]+:memory:|0::).*/glexec-[0-9a-f]{24}$'
        if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
                echo "$output" | grep -Eq '^[0-9]+:pids:.*/glexec-[0-9a-f]{24}$'
        fi
}

@test "a 200 MiB allocation under a 64 MiB limit is OOM-killed and reported (137)" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 --memory 64M \
                /usr/bin/python3 -c 'b = bytearray(200 << 20); print(len(b))' 3>"$T/report"
        [ "$status" -eq 137 ]
        [ "$(report '["result"]["oom_killed"]')" = true ]
        [ "$(report '["result"]["signal"]')" = 9 ]
        [ "$(last_audit | json_get '["result"]["oom_killed"]')" = true ]
        [ -z "$(payload_cgroups)" ]
}

@test "a fork bomb stops at the pids limit" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --pids 20 /bin/sh -c \
                'for i in $(seq 60); do sleep 3 & done; echo all-forked'
        echo "$output"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Cannot fork"* ]]
        [[ "$output" != *all-forked* ]]
        [ -z "$(payload_cgroups)" ]
}

@test "the CPU quota throttles a spinning payload and CPU time is accounted" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 --cpus 0.2 \
                /usr/bin/timeout 2 /bin/sh -c 'while :; do :; done' 3>"$T/report"
        [ "$status" -eq 124 ]
        local cpu
        cpu=$(report '["result"]["cpu_user_seconds"]')
        echo "cpu user $cpu"
        python3 -c "import sys; c=float(sys.argv[1]); sys.exit(0 if 0.1 < c < 0.8 else 1)" "$cpu"
}

@test "leftover daemons are killed when the payload ends" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'setsid sleep 777 </dev/null >/dev/null 2>&1 & exit 0'
        [ "$status" -eq 0 ]
        sleep 0.3
        ! pgrep -f 'sleep 777'
}

@test "the wall-time limit kills the payload and says so" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 --walltime 1 \
                /bin/sleep 30 3>"$T/report"
        [ "$status" -eq 137 ]
        [ "$(report '["result"]["walltime_killed"]')" = true ]
        payload_cgroups >&2; cat /proc/self/cgroup >&2
        [ -z "$(payload_cgroups)" ]
}

@test "a wall-time request above the site maximum is refused (201)" {
        write_config declare-only limits.walltime_max=10
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --walltime 11 /bin/true
        [ "$status" -eq 201 ]
}

@test "no cgroup and no sandbox remain after 100 launches and a failed one" {
        for i in $(seq 100); do
                as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        done
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /etc/hostname
        [ "$status" -eq 126 ]
        [ -z "$(payload_cgroups)" ]
        [ -z "$(ls -A "$T/sandbox")" ]
}

@test "kill -9 of glexec: the payload dies and its reaper removes cgroup, sandbox and lock" {
        spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'echo ready; exec sleep 555'
        wait_for_line "$T/out" ready
        [ -n "$(payload_cgroups)" ]
        kill -9 "$GX_PID"
        wait "$GX_PID" || true
        for _ in $(seq 50); do
                [ -z "$(payload_cgroups)" ] && [ -z "$(ls -A "$T/sandbox")" ] && break
                sleep 0.1
        done
        ! pgrep -f 'sleep 555'
        [ -z "$(payload_cgroups)" ]
        [ -z "$(ls -A "$T/sandbox")" ]
        ! pgrep -f glexec-reaper
        [ "$(last_audit | json_get '["event"]')" = end ]
        [[ "$(last_audit | json_get '["reason"]')" == *reaper* ]]
}

# glexec run as the pilot under root's strace with the options $@, payload /bin/true.
strace_launch() {
        strace "$@" -u pilot env -i -C "$PILOT_HOME" PATH=/usr/local/bin:/usr/bin:/bin \
                GLEXEC_CLIENT_CERT="$(proxy valid)" "$GLEXEC" /bin/true
}

@test "glexec killed after its end record: the reaper cleans up and writes no second end" {
        # The supervisor's last clone3 starts the thread that syncs the "end" record (glibc's
        # pthread_create), right after the record was appended and the reaper told so; the
        # ones before start the namespace init and, on cgroup v2 below a job, the reaper. A
        # launch traced once counts them; the next is killed at the last one.
        strace_launch -f -qq -o "$T/clones" -e trace=clone3
        cat "$T/clones"
        local pid n
        pid=$(grep -m1 ' clone3(' "$T/clones" | cut -d' ' -f1)
        [ -n "$pid" ]
        # strace pads the pid column with spaces when pids differ in width.
        n=$(grep -cE "^$pid +clone3\(" "$T/clones" || true)
        [ "$n" -ge 2 ]
        strace_launch -f -qq -o /dev/null -e trace=clone3 -e inject=clone3:signal=KILL:when="$n" ||
                true
        local id
        id=$(last_audit | json_get '["id"]')
        for _ in $(seq 50); do
                [ -z "$(payload_cgroups)" ] && [ -z "$(ls -A "$T/sandbox")" ] && break
                sleep 0.1
        done
        [ -z "$(payload_cgroups)" ]
        [ -z "$(ls -A "$T/sandbox")" ]
        ! pgrep -f glexec-reaper
        # One start and one end, the supervisor's: the payload ran and ended normally.
        [ "$(grep -c "\"id\":\"$id\"" "$AUDIT")" -eq 2 ]
        [ "$(last_audit | json_get '["event"]')" = end ]
        [ "$(last_audit | json_get '["result"]["exit_code"]')" = 0 ]
        ! grep "\"id\":\"$id\"" "$AUDIT" | grep -q reaper
}

@test "a launch left behind with no reaper is removed by the next launch" {
        # What a killed supervisor and a killed reaper leave: a locked-then-abandoned lock file,
        # a sandbox and a cgroup named after the launch.
        local id=0123456789abcdef01234567
        local dir
        dir=$(own_cgroup_dir)
        mkdir "$dir/glexec-$id"
        mkdir -m 0700 "$T/sandbox/$id"
        touch "$T/sandbox/$id/leftover" "$T/sandbox/$id.lock"
        chmod 0600 "$T/sandbox/$id.lock"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
        [ ! -e "$dir/glexec-$id" ]
        [ -z "$(ls -A "$T/sandbox")" ]
}

@test "a pre-created cgroup directory of a future name is never adopted" {
        # glexec names cgroups by an unpredictable id; a directory the pilot made is ignored.
        local dir
        dir=$(own_cgroup_dir)/glexec-ffffffffffffffffffffffff
        mkdir "$dir"
        chown pilot "$dir"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
        [ -d "$dir" ]
        rmdir "$dir"
}

@test "glexec --cleanup (root) removes what dead launches left" {
        local id=00000000000000000000aaaa
        mkdir -m 0700 "$T/sandbox/$id"
        touch "$T/sandbox/$id.lock"
        run as_pilot -- --cleanup
        [ "$status" -eq 201 ]
        run "$GLEXEC" --cleanup
        [ "$status" -eq 0 ]
        [[ "$output" == *"1 sandboxes"* ]]
        [ -z "$(ls -A "$T/sandbox")" ]
}
