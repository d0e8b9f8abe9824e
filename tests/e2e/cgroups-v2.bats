#!/usr/bin/env bats
# cgroup v2 only (run in the User-Mode Linux guest by tests/vm/run-e2e-v2.sh): a caller whose
# cgroup holds processes, as under a batch system. A delegated slot is split into a leaf; a
# slot the caller does not own is never restructured.

load helpers

setup() {
        [ -e /sys/fs/cgroup/cgroup.controllers ] || skip "cgroup v1 host"
        setup_site
        SLOT=/sys/fs/cgroup/gxslot-$$
        mkdir "$SLOT"
}

teardown() {
        [ -n "${SLOT:-}" ] && [ -d "$SLOT" ] || return 0
        # Everything that ran in the slot has ended; remove the leaf and the slot.
        for d in "$SLOT"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
        rmdir "$SLOT"
}

# Run glexec as the pilot from inside the slot, with another slot member (a sleeping
# process) present, as a batch system's job shell would be.
run_in_slot() {
        run bash -c 'echo $$ >"$0/cgroup.procs"; sleep 30 & exec_pid=$!; "$@"; st=$?; kill $exec_pid; exit $st' \
                "$SLOT" bash -c '. "$GX_SRC/tests/e2e/helpers.bash"; exec_as pilot "$@"' _ "$@"
}

@test "v2 delegated slot: glexec moves the slot's processes into a leaf and enforces limits" {
        chown pilot "$SLOT" "$SLOT/cgroup.procs" "$SLOT/cgroup.subtree_control"
        write_config declare-only limits.require_cgroup=yes limits.cgroup_leaf_move=delegated
        run_in_slot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --memory 64M --report-fd 3 \
                /usr/bin/python3 -c 'b = bytearray(200 << 20)' 3>"$T/report"
        echo "$output"
        [ "$status" -eq 137 ]
        [ "$(json_get '["result"]["oom_killed"]' <"$T/report")" = true ]
        [ -d "$SLOT/glexec-leaf" ]
        [[ "$(json_get '["cgroup"]' <"$T/report")" == "$SLOT/glexec-"* ]]
}

@test "v2 slot not delegated: require_cgroup = yes refuses with the reason (202)" {
        write_config declare-only limits.require_cgroup=yes limits.cgroup_leaf_move=delegated
        run_in_slot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"not delegated"* ]]
        [ ! -d "$SLOT/glexec-leaf" ]
}

@test "v2 slot not delegated: require_cgroup = no runs the payload unrestructured and logs it" {
        write_config declare-only limits.require_cgroup=no limits.cgroup_leaf_move=delegated \
                glexec.log_destination=file glexec.log_file="$T/log/glexec.log"
        run_in_slot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/true 3>"$T/report"
        [ "$status" -eq 0 ]
        [ "$(json_get '["cgroup"]' <"$T/report")" = null ]
        [ ! -d "$SLOT/glexec-leaf" ]
        grep -q "per-payload limits not enforced" "$T/log/glexec.log"
}

@test "v2 cgroup_leaf_move = always restructures a root-owned slot" {
        write_config declare-only limits.require_cgroup=yes limits.cgroup_leaf_move=always
        run_in_slot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
        [ -d "$SLOT/glexec-leaf" ]
}
