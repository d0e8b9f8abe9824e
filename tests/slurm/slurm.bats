#!/usr/bin/env bats
# glexec under a real batch system: a throwaway one-node Slurm 22.05 (slurm-harness.bash) whose
# batch jobs, submitted as the pilot, call the installed glexec. Run through the e2e runner,
# whose mount namespace gives the daemons the test accounts:
#
#   tests/e2e/run.sh tests/slurm/slurm.bats
#
# First the harness itself (a job runs, scancel kills it, nothing is left after the stop), then
# glexec in a job: mapping, exit codes, scancel with glexec started by the job's shell (it gets
# SIGKILL, reference/slurm.md section 3) and exec'ed by it (it gets the SIGTERM), accounting.
# The per-payload cgroup cases skip until glexec reports a cgroup in its --report-fd output.

load ../e2e/helpers
load slurm-harness

# Sockets on hostfs (the User-Mode Linux guest's view of the host, tests/vm) refuse other users:
# there the cluster lives on the guest's /run tmpfs.
SLURM_BASE=$GX_TMP/slurm
[ "$(stat -fc %T "$GX_TMP")" != hostfs ] || SLURM_BASE=/run/glexec-slurm-$$
# Outside $T (which every test renews): the audit log of every launch in this file, so the
# cgroups of these launches can be told from those of anything else running on the host.
AUDIT_DIR=$GX_TMP/slurm-audit
CG_BEFORE=$GX_TMP/slurm-cgroups-before

setup_file() {
        if ! slurm_available; then
                if [ -n "${CI:-}" ]; then
                        echo "Slurm is not installed, and CI must run these tests" >&2
                        return 1
                fi
                # bats 1.8 cannot skip from setup_file: each test skips in setup.
                export SLURM_SKIP="Slurm is not installed (apt-get install slurmctld slurmd slurm-client munge)"
                return 0
        fi
        rm -rf "$AUDIT_DIR"
        mkdir -m 0700 "$AUDIT_DIR"
        slurm_cgroup_snapshot "$CG_BEFORE"
        if ! slurm_start "$SLURM_BASE"; then
                slurm_stop
                return 1
        fi
}

teardown_file() {
        slurm_stop
        # Per-payload cgroups glexec failed to remove (the last test has reported them):
        # the machine is left as it was even then.
        if [ -f "$CG_BEFORE" ]; then
                local d
                new_cgroups | sort -r | while read -r d; do
                        rmdir "$d" || true
                done
        fi
        rm -rf "$AUDIT_DIR" "$CG_BEFORE"
}

# Cgroup directories that appeared since setup_file and belong to this file's cluster or
# launches: Slurm's, and glexec-<launch id> of a launch in this file's audit log.
new_cgroups() {
        local now=$BATS_FILE_TMPDIR/cgroups-now ids=$BATS_FILE_TMPDIR/launch-ids d id
        slurm_cgroup_snapshot "$now"
        cat "$AUDIT_DIR"/audit.jsonl 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line).get("id", ""))' | sort -u >"$ids"
        LC_ALL=C comm -13 "$CG_BEFORE" "$now" | while read -r d; do
                case $d in
                */slurm_* | */system.slice*) echo "$d" ;;
                */glexec-*)
                        id=${d##*/glexec-}
                        id=${id%%/*}
                        ! grep -qxF "$id" "$ids" || echo "$d"
                        ;;
                esac
        done
}

# write_config for this file: the audit log survives the test, and a launch does not depend on
# a per-payload cgroup (under Slurm on cgroup v2 the documented fallback is to run without
# one); whether glexec made one is asked from its report.
config() {
        write_config "$@" audit.audit_log="$AUDIT_DIR/audit.jsonl" limits.require_cgroup=no
}

setup() {
        [ -z "${SLURM_SKIP:-}" ] || skip "$SLURM_SKIP"
        setup_site
        config declare-only
        TOKEN=gxslurm-$BATS_TEST_NUMBER-$$-$RANDOM
}

# A failed test must not leave its jobs running into the next one.
teardown() {
        [ -n "${SLURM_SKIP:-}" ] || slurm_cancel_all
}

# The job script from stdin, after a prelude that sets GLEXEC, TOKEN, WORK (a directory
# every user may write) and Alice's proxy for glexec; prints its path.
job_script() {
        local f=$BATS_TEST_TMPDIR/job-$RANDOM.sh
        {
                echo '#!/bin/sh'
                printf "GLEXEC='%s' TOKEN='%s' WORK='%s'\n" "$GLEXEC" "$TOKEN" "$SLURM_DIR/work"
                printf "export GLEXEC_CLIENT_CERT='%s'\n" "$PILOT_HOME/valid.pem"
                cat
        } >"$f"
        echo "$f"
}

submit() {
        JOB=$(slurm_submit_as pilot "$(job_script)")
        [ -n "$JOB" ]
}

output_of() {
        cat "$(slurm_job_output "$1")" 2>/dev/null
}

wait_for_output() {
        local job=$1 text=$2 i
        for ((i = 0; i < 150; i++)); do
                grep -q -- "$text" "$(slurm_job_output "$job")" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "job $job never printed \"$text\"; its output:"
        output_of "$job"
        return 1
}

# Processes whose command line carries this test's token (glexec and the payload).
token_pids() {
        pgrep -f -- "$TOKEN" || true
}

wait_no_token_pids() {
        local i
        for ((i = 0; i < ${1:-50}; i++)); do
                [ -z "$(token_pids)" ] && return 0
                sleep 0.1
        done
        echo "still running:"
        ps -o pid,ppid,user,stat,args -p "$(token_pids | paste -sd,)"
        return 1
}

alice_dn() {
        awk -F'\t' '$1 == "alice" { print $2 }' "$GX_FX/users.tsv"
}

mapping_config() {
        config mapping
        local f=$T/grid-security/grid-mapfile
        echo "\"$(alice_dn)\" alicea" >"$f"
        chown root:root "$f"
        chmod 0644 "$f"
}

# The cgroup glexec reports for a payload in a Slurm job ("null" when it made none); asked once
# per file. A probe that fails is an error, never a reason to skip.
payload_cgroup_probe() {
        local cache=$BATS_FILE_TMPDIR/payload-cgroup job
        if [ ! -f "$cache" ]; then
                job=$(slurm_submit_as pilot "$(job_script <<'EOF'
exec 3>"$WORK/cgroup-probe.json"
exec "$GLEXEC" --report-fd 3 /bin/true
EOF
)") || return 1
                slurm_wait "$job" 30 || return 1
                json_get '["cgroup"]' <"$SLURM_DIR/work/cgroup-probe.json" >"$cache.new" || return 1
                mv "$cache.new" "$cache"
        fi
        cat "$cache"
}

require_payload_cgroups() {
        local cg
        cg=$(payload_cgroup_probe)
        [ "$cg" != null ] || skip "needs per-payload cgroups in the launcher (glexec reports none here)"
}

# ---- the harness ------------------------------------------------------------------------

@test "harness: a batch job runs as the pilot, with its state and exit code recorded" {
        submit <<'EOF'
id -un
exit 3
EOF
        slurm_wait "$JOB"
        [ "$(output_of "$JOB")" = pilot ]
        [ "$(slurm_job_state "$JOB")" = FAILED ]
        [ "$(slurm_job_exit "$JOB")" = 3:0 ]
        # and the same from the jobcomp record that outlives slurmctld's
        grep -E "^JobId=$JOB .*UserId=pilot\($(id -u pilot)\).* JobState=FAILED .*ExitCode=3:0" \
                "$SLURM_DIR/jobcomp.txt"
        [ -z "$(slurm_job_cgroups "$JOB")" ]
}

@test "harness: scancel kills a running job and Slurm removes its cgroups" {
        submit <<'EOF'
echo ready
exec /bin/sh -c 'while :; do sleep 0.2; done' "$TOKEN"
EOF
        wait_for_output "$JOB" ready
        [ -n "$(token_pids)" ]
        [ -n "$(slurm_job_cgroups "$JOB")" ]
        [ -n "$(slurm_job_pids "$JOB")" ]
        scancel "$JOB"
        wait_no_token_pids
        slurm_wait "$JOB" 30
        [ "$(slurm_job_state "$JOB")" = CANCELLED ]
        [ -z "$(slurm_job_cgroups "$JOB")" ]
}

# ---- glexec in a job --------------------------------------------------------------------

@test "glexec in a job: mapping mode runs the payload as the mapped account" {
        mapping_config
        submit <<'EOF'
"$GLEXEC" /bin/sh -c 'id -u; id -un'
EOF
        slurm_wait "$JOB"
        output_of "$JOB"
        [ "$(output_of "$JOB")" = "$(id -u alicea)
alicea" ]
        [ "$(slurm_job_state "$JOB")" = COMPLETED ]
}

@test "glexec in a job: the job's exit code is glexec's when the script execs it" {
        local jobs=()
        submit <<'EOF'
exec "$GLEXEC" /bin/sh -c 'exit 7'
EOF
        jobs+=("$JOB")
        submit <<'EOF'
exec "$GLEXEC" /bin/sh -c 'kill -USR1 $$'
EOF
        jobs+=("$JOB")
        # a glexec error: the credential file does not exist (client error, 201)
        submit <<'EOF'
GLEXEC_CLIENT_CERT=$GLEXEC_CLIENT_CERT.missing exec "$GLEXEC" /bin/true
EOF
        jobs+=("$JOB")
        local j
        for j in "${jobs[@]}"; do
                slurm_wait "$j"
                echo "job $j: $(slurm_job_state "$j") $(slurm_job_exit "$j")"
        done
        [ "$(slurm_job_exit "${jobs[0]}")" = 7:0 ]
        [ "$(slurm_job_exit "${jobs[1]}")" = $((128 + 10)):0 ]
        [ "$(slurm_job_exit "${jobs[2]}")" = 201:0 ]
        [[ "$(output_of "${jobs[2]}")" == glexec:* ]]
        for j in "${jobs[@]}"; do
                [ "$(slurm_job_state "$j")" = FAILED ]
        done
}

@test "glexec in a job: scancel with glexec started by the job's shell leaves no payload" {
        mapping_config
        submit <<'EOF'
"$GLEXEC" /bin/sh -c 'cat /proc/self/cgroup; echo ready; while :; do sleep 0.2; done' "$TOKEN"
echo "glexec returned $?"
EOF
        wait_for_output "$JOB" ready
        # glexec and its payload, running as the mapped account
        [ "$(token_pids | wc -l)" -ge 2 ]
        ps -o user= -p "$(token_pids | paste -sd,)" | grep -qx alicea
        scancel "$JOB"
        # The shell gets the SIGTERM, glexec a SIGKILL, the payload dies with glexec.
        wait_no_token_pids 50
        slurm_wait "$JOB" 30
        output_of "$JOB"
        [ "$(slurm_job_state "$JOB")" = CANCELLED ]
        [[ "$(output_of "$JOB")" != *"glexec returned"* ]]
        # Slurm could remove the job's cgroups, so nothing was left in them.
        [ -z "$(slurm_job_cgroups "$JOB")" ]
}

@test "glexec in a job: scancel of a job that exec'ed glexec delivers SIGTERM to the payload" {
        mapping_config
        local marker=$SLURM_DIR/work/marker-$TOKEN
        # GLEXEC_* variables reach the payload.
        submit <<'EOF'
export GLEXEC_MARKER=$WORK/marker-$TOKEN
exec "$GLEXEC" /bin/sh -c 'trap "echo got-term >\"\$GLEXEC_MARKER\"; exit 42" TERM
echo ready; while :; do sleep 0.2; done' "$TOKEN"
EOF
        wait_for_output "$JOB" ready
        [ -n "$(token_pids)" ]
        scancel "$JOB"
        wait_no_token_pids 100
        slurm_wait "$JOB" 30
        output_of "$JOB"
        [ "$(slurm_job_state "$JOB")" = CANCELLED ]
        [ "$(cat "$marker")" = got-term ]
        [ "$(stat -c %U "$marker")" = alicea ]
        [ -z "$(slurm_job_cgroups "$JOB")" ]
}

@test "glexec in a job: the payload stays in the job's cgroups and sstat sees its memory" {
        submit <<'EOF'
exec "$GLEXEC" /usr/bin/python3 -c '
import time
x = b"x" * (100 << 20)
print("ready", flush=True)
time.sleep(60)' "$TOKEN"
EOF
        wait_for_output "$JOB" ready
        # The payload stays in the job's cgroups, nested or not (glexec may keep a root-owned
        # reaper outside them, reference/slurm.md section 3).
        local p n=0
        for p in $(token_pids); do
                [ "$(ps -o uid= -p "$p" | tr -d ' ')" != 0 ] || continue
                slurm_job_pids "$JOB" | grep -qx "$p"
                n=$((n + 1))
        done
        [ "$n" -gt 0 ]
        local i rss=
        for ((i = 0; i < 50; i++)); do
                rss=$(sstat -n -P -j "$JOB.batch" -o MaxRSS 2>/dev/null | head -n 1)
                rss=$(numfmt --from=iec "${rss:-0}")
                [ "$rss" -ge $((95 << 20)) ] && break
                sleep 0.2
        done
        echo "MaxRSS $rss"
        scancel "$JOB"
        slurm_wait "$JOB" 30
        [ "$rss" -ge $((95 << 20)) ]
}

# ---- per-payload cgroups inside the job's ----------------------------------------------

# The payload's cgroup lines, as it printed them from /proc/self/cgroup: "hierarchy path".
payload_cgroup_lines() {
        output_of "$1" | awk -F: '/^[0-9]+:/ { print ($2 == "" ? "unified" : $2), $3 }'
}

@test "cgroups: the payload's cgroup nests in the job's (v1: memory and cpuacct, not freezer)" {
        local v2=false
        [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || v2=true
        # On v2 no per-payload cgroup is a documented outcome, not a missing feature.
        $v2 || require_payload_cgroups
        submit <<'EOF'
exec 3>"$WORK/report-$TOKEN.json"
exec "$GLEXEC" --report-fd 3 /bin/sh -c 'cat /proc/self/cgroup'
EOF
        slurm_wait "$JOB"
        output_of "$JOB"
        [ "$(slurm_job_state "$JOB")" = COMPLETED ]
        local cg task step
        cg=$(json_get '["cgroup"]' <"$SLURM_DIR/work/report-$TOKEN.json")
        echo "report: $cg"
        step=/slurm_$SLURM_NODE/uid_$(id -u pilot)/job_$JOB/step_batch
        if $v2; then
                # nested below the batch step, or the documented fallback of no per-payload
                # cgroup (reference/slurm.md section 4)
                [ "$cg" = null ] ||
                        [[ "$cg" == /sys/fs/cgroup/system.slice/*slurmstepd.scope/job_$JOB/step_batch/* ]]
                return 0
        fi
        task=$step/task_0
        [[ "$cg" == /sys/fs/cgroup/*$task/* ]]
        payload_cgroup_lines "$JOB" | grep -E "^memory $task/." >/dev/null
        payload_cgroup_lines "$JOB" | grep -E "^cpuacct $task/." >/dev/null
        # proctrack/cgroup signals only the direct members of the step's freezer cgroup
        payload_cgroup_lines "$JOB" | grep -xF "freezer $step" >/dev/null
}

@test "cgroups: a payload OOM kill shows in glexec's exit code and report, not as a job OOM" {
        require_payload_cgroups
        submit <<'EOF'
exec 3>"$WORK/report-$TOKEN.json"
exec "$GLEXEC" --report-fd 3 --memory 64M /usr/bin/python3 -c 'x = b"x" * (200 << 20)'
EOF
        slurm_wait "$JOB"
        output_of "$JOB"
        [ "$(slurm_job_exit "$JOB")" = 137:0 ]
        [ "$(slurm_job_state "$JOB")" = FAILED ]
        [ "$(json_get '["result"]["oom_killed"]' <"$SLURM_DIR/work/report-$TOKEN.json")" = true ]
}

@test "cgroups: after scancel neither the payload's cgroup nor the job's is left" {
        require_payload_cgroups
        local how jobs=() j
        for how in "" exec; do
                submit < <(
                        echo "HOW='$how'"
                        cat <<'EOF'
$HOW "$GLEXEC" /bin/sh -c 'cat /proc/self/cgroup; echo ready; while :; do sleep 0.2; done' "$TOKEN"
EOF
                )
                jobs+=("$JOB")
        done
        for j in "${jobs[@]}"; do
                wait_for_output "$j" ready
        done
        scancel "${jobs[@]}"
        wait_no_token_pids 100
        for j in "${jobs[@]}"; do
                slurm_wait "$j" 30
                output_of "$j"
                [ "$(slurm_job_state "$j")" = CANCELLED ]
                [ -z "$(slurm_job_cgroups "$j")" ]
                # every cgroup glexec made for the payload, in the job's or not, is gone
                assert_payload_cgroups_gone "$j"
        done
}

# Every payload cgroup a job's output names (its payload's /proc/self/cgroup) is gone.
assert_payload_cgroups_gone() {
        local n=0 h path dir
        while read -r h path; do
                [[ $path == */glexec-* ]] || continue
                dir=/sys/fs/cgroup/$h$path
                [ "$h" != unified ] || dir=/sys/fs/cgroup$path
                echo "payload cgroup $dir"
                [ ! -d "$dir" ]
                n=$((n + 1))
        done < <(payload_cgroup_lines "$1")
        [ "$n" -gt 0 ]
}

@test "glexec SIGKILLed in the middle of a job: no payload survives, no cgroup stays, the job goes on" {
        require_payload_cgroups
        submit <<'EOF'
"$GLEXEC" /bin/sh -c 'cat /proc/self/cgroup; echo ready; while :; do sleep 0.2; done' "$TOKEN"
echo "glexec returned $?"
"$GLEXEC" /bin/true && echo "second launch ok"
EOF
        wait_for_output "$JOB" ready
        # The supervisor is the token process named glexec (its init and reaper are renamed).
        local pid gx=
        for pid in $(token_pids); do
                [ "$(cat /proc/$pid/comm 2>/dev/null)" = glexec ] && gx=$pid
        done
        [ -n "$gx" ]
        kill -9 "$gx"
        wait_no_token_pids 50
        slurm_wait "$JOB" 30
        output_of "$JOB"
        [ "$(slurm_job_state "$JOB")" = COMPLETED ]
        [[ "$(output_of "$JOB")" == *"glexec returned 137"* ]]
        [[ "$(output_of "$JOB")" == *"second launch ok"* ]]
        assert_payload_cgroups_gone "$JOB"
        [ -z "$(slurm_job_cgroups "$JOB")" ]
}

@test "a hostile pilot cannot raise its payload's limits: the payload's cgroup is root's" {
        require_payload_cgroups
        submit <<'EOF'
"$GLEXEC" --memory 64M /bin/sh -c 'cat /proc/self/cgroup; echo ready; sleep 30' "$TOKEN"
EOF
        wait_for_output "$JOB" ready
        local h path dir f checked=0
        while read -r h path; do
                [[ $path == */glexec-* ]] || continue
                dir=/sys/fs/cgroup/$h$path
                [ "$h" != unified ] || dir=/sys/fs/cgroup$path
                [ "$(stat -c %U "$dir")" = root ]
                for f in memory.limit_in_bytes memory.max pids.max cgroup.procs; do
                        [ -e "$dir/$f" ] || continue
                        [ "$(stat -c %U "$dir/$f")" = root ]
                        ! setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- \
                                sh -c "echo 9999999999 >'$dir/$f'" 2>/dev/null
                        checked=$((checked + 1))
                done
                # nor add entries of its own beside the limits
                ! setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- \
                        mkdir "$dir/pilot-made" 2>/dev/null
        done < <(payload_cgroup_lines "$JOB")
        [ "$checked" -gt 0 ]
        scancel "$JOB"
        wait_no_token_pids 100
        slurm_wait "$JOB" 30
        assert_payload_cgroups_gone "$JOB"
}

# ---- last: the stop ---------------------------------------------------------------------

@test "harness: slurm_stop leaves no daemon, job step, cgroup or file behind" {
        local pids
        pids=$(cat "$SLURM_DIR"/run/{munged,slurmctld,slurmd}.pid)
        [ "$(echo "$pids" | wc -w)" -eq 3 ]
        local dir=$SLURM_DIR
        slurm_stop
        # no process of ours: the daemons by pid, any Slurm or munge process in this mount
        # namespace (it is private to tests/e2e/run.sh)
        local p
        for p in $pids; do
                [ ! -d "/proc/$p" ]
        done
        local ns
        ns=$(readlink /proc/self/ns/mnt)
        for p in $(for n in slurmctld slurmscriptd slurmd slurmstepd munged; do pgrep -x $n; done); do
                [ "$(readlink "/proc/$p/ns/mnt")" != "$ns" ] || {
                        ps -o pid,args -p "$p"
                        false
                }
        done
        [ ! -e "$dir" ]
        [ -z "$(new_cgroups)" ] || {
                new_cgroups
                false
        }
}
