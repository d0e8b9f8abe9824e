#!/usr/bin/env bats
# The foundation: declare-only launches end to end, every error class, the environment, signal
# forwarding, the audit chain and the report.

load helpers

setup() {
        setup_site
        write_config declare-only
}

@test "a declare-only launch runs the payload as the caller and propagates its exit code" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'id -u; exit 7'
        [ "$status" -eq 7 ]
        [ "${lines[0]}" = "$(id -u pilot)" ]
}

@test "a payload exit code in 201-204 is folded to 204" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'exit 202'
        [ "$status" -eq 204 ]
}

@test "a payload killed by a signal gives 128+N" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'kill -USR1 $$'
        [ "$status" -eq $((128 + 10)) ]
}

@test "a command name is looked up in the configured PATH" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- true
        [ "$status" -eq 0 ]
}

@test "a missing command is 127" {
        run -127 as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- no-such-command-here
        [ "$status" -eq 127 ]
        [[ "$output" == glexec:*not\ found* ]]
}

@test "a command that cannot be executed is 126" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /etc/passwd
        [ "$status" -eq 126 ]
}

@test "options end at the first non-option: arguments reach the payload" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo "$0 $1"' -x --memory
        [ "$status" -eq 0 ]
        [ "$output" = "-x --memory" ]
}

@test "-h and -v work for anyone" {
        run as_pilot -- -h
        [ "$status" -eq 0 ]
        [[ "$output" == *Usage:* ]]
        run as_pilot -- -v
        [ "$status" -eq 0 ]
        [[ "$output" == "glexec-ng "* ]]
}

@test "-V and --check-config are for root only" {
        run as_pilot -- -V
        [ "$status" -eq 201 ]
        run as_pilot -- --check-config
        [ "$status" -eq 201 ]
        run "$GLEXEC" -V
        [ "$status" -eq 0 ]
        [[ "$output" == *"config file: $CONF"* ]]
}

@test "an unknown option is a client error (201)" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --bogus /bin/true
        [ "$status" -eq 201 ]
        [[ "$output" == "glexec: unknown option"* ]]
}

@test "no credential is a client error (201)" {
        run as_pilot -- /bin/true
        [ "$status" -eq 201 ]
        [[ "$output" == "glexec: no credential"* ]]
}

@test "a credential file with group or other permissions is refused (201)" {
        chmod 0640 "$(proxy valid)"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 201 ]
        [[ "$output" == *"permissions"* ]]
}

@test "a credential file owned by someone else is refused (201)" {
        cp "$(proxy valid)" "$PILOT_HOME/rootowned.pem"
        chown root:root "$PILOT_HOME/rootowned.pem"
        chmod 0644 "$PILOT_HOME/rootowned.pem"
        run as_pilot GLEXEC_CLIENT_CERT="$PILOT_HOME/rootowned.pem" -- /bin/true
        [ "$status" -eq 201 ]
}

@test "a credential the caller cannot read is refused even though glexec is root (201)" {
        mkdir -p "$T/secret"
        chmod 0700 "$T/secret"
        cp "$(proxy valid)" "$T/secret/p.pem"
        chown pilot "$T/secret/p.pem"
        run as_pilot GLEXEC_CLIENT_CERT="$T/secret/p.pem" -- /bin/true
        [ "$status" -eq 201 ]
        [[ "$output" == *"Permission denied"* ]]
}

@test "a caller not in the whitelist is refused (203) and audited" {
        run as_user intruder GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 203 ]
        [[ "$output" == "glexec: not authorized"* ]]
        [ "$(last_audit | json_get '["event"]')" = "deny" ]
}

@test "a group whitelist admits members" {
        write_config declare-only glexec.user_white_list= glexec.group_white_list=glexecpilots
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "a pool prefix in the user whitelist admits the pool" {
        write_config declare-only glexec.user_white_list=.pil
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "credential verdicts: expired, untrusted, revoked, limited, wrong signature, key mismatch" {
        for name in expired untrusted_ca revoked limited full_below_limited wrongsig keymismatch legacy nokey short_lifetime; do
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy $name)" -- /bin/true
                echo "$name: $status $output"
                [ "$status" -eq 203 ]
                [[ "$output" == "glexec: "* ]]
        done
        for name in valid valid_2level; do
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy $name)" -- /bin/true
                echo "$name: $status $output"
                [ "$status" -eq 0 ]
        done
}

@test "opt-in switches admit limited and legacy proxies" {
        write_config declare-only credentials.allow_limited_proxy=yes credentials.allow_legacy_proxy=yes
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy limited)" -- /bin/true
        [ "$status" -eq 0 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy legacy)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "omission_private_key_white_list admits a proxy without its key" {
        write_config declare-only glexec.omission_private_key_white_list=pilot
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy nokey)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "a group-writable configuration is refused (202) naming the file" {
        chmod 0664 "$CONF"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
        [[ "$output" == *"$CONF"* ]]
}

@test "a configuration file owned by the pilot is refused (202)" {
        chown pilot "$CONF"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
}

@test "an unknown configuration key is refused (202) with its line number" {
        echo "bogus_key = 1" >>"$CONF"
        local line
        line=$(wc -l <"$CONF")
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
        [[ "$output" == *"$CONF:$line: unknown key"* ]]
}

@test "a missing configuration is a system error (202)" {
        mv "$CONF" "$CONF.away"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        mv "$CONF.away" "$CONF"
        [ "$status" -eq 202 ]
        [[ "$output" == *missing* ]]
}

@test "--check-config accepts a good configuration and rejects a broken one" {
        run "$GLEXEC" --check-config
        [ "$status" -eq 0 ]
        write_config declare-only sandbox.sandbox_base=/nonexistent/base
        run "$GLEXEC" --check-config
        [ "$status" -eq 202 ]
        [[ "$output" == *sandbox_base* ]]
}

@test "records show the command as named, the log also the file that ran" {
        write_config declare-only glexec.log_destination=file glexec.log_file="$T/log/glexec.log"
        ln -s /bin/true "$T/sandbox-link"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$T/sandbox-link" arg
        [ "$status" -eq 0 ]
        [ "$(last_audit | json_get '["command"]')" = "[\"$T/sandbox-link\", \"arg\"]" ]
        grep -q "command \"$T/sandbox-link\" executable \"$(realpath /bin/true)\"" \
                "$T/log/glexec.log"
        # A bare name: the file found in the configured PATH.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- true
        [ "$status" -eq 0 ]
        [ "$(last_audit | json_get '["command"][0]')" = "$(PATH=/usr/local/bin:/usr/bin:/bin type -P true)" ]
}

@test "--check-config checks every file the configuration names" {
        local gs=$T/grid-security
        echo '"/DC=org/CN=Someone" pilot' >"$gs/grid-mapfile"
        echo '"/atlas" .atlas' >"$gs/voms-grid-mapfile"
        chmod 0644 "$gs/grid-mapfile" "$gs/voms-grid-mapfile"
        write_config mapping
        # A pool needs accounts in the gridmapdir, as a launch would.
        run "$GLEXEC" --check-config
        [ "$status" -eq 202 ]
        [[ "$output" == *"voms_gridmapfile: $gs/voms-grid-mapfile:1: the gridmapdir has no accounts of pool .atlas"* ]]
        touch "$gs/gridmapdir/atlas001"
        run "$GLEXEC" --check-config
        [ "$status" -eq 0 ]
        [ "$output" = "configuration OK" ]

        # Accounts and groups the files name must exist.
        echo '"/DC=org/CN=Someone" nosuchuser' >"$gs/grid-mapfile"
        echo '"/atlas" nosuchgroup' >"$gs/groupmapfile"
        chmod 0644 "$gs/groupmapfile"
        run "$GLEXEC" --check-config
        [ "$status" -eq 202 ]
        [[ "$output" == *"gridmapfile: $gs/grid-mapfile:1: account nosuchuser does not exist"* ]]
        [[ "$output" == *"groupmapfile: $gs/groupmapfile:1: group nosuchgroup does not exist"* ]]
        rm "$gs/groupmapfile"

        # A grid-mapfile others may write, a map file that does not parse, a ban file that is
        # configured but missing, an audit log the pilot owns, a relative executable: each is
        # reported, with one "glexec:" line at the end.
        chmod g+w "$gs/grid-mapfile"
        echo '"/atlas" .atlas extra words' >"$gs/voms-grid-mapfile"
        touch "$AUDIT"
        chown pilot "$AUDIT"
        write_config mapping mapping.ban_file="$gs/no-such-ban-file" \
                mapping.allowed_executables=bin/true
        run "$GLEXEC" --check-config
        chown root "$AUDIT"
        [ "$status" -eq 202 ]
        [[ "$output" == *gridmapfile:*grid-mapfile* ]]
        [[ "$output" == *voms_gridmapfile:*voms-grid-mapfile:1* ]]
        [[ "$output" == *ban_file:*no-such-ban-file* ]]
        [[ "$output" == *audit_log:* ]]
        [[ "$output" == *allowed_executables:*bin/true* ]]
        [[ "${lines[-1]}" == "glexec: "* ]]

        # In mapping mode some map file must exist.
        rm "$gs/grid-mapfile" "$gs/voms-grid-mapfile"
        write_config mapping
        run "$GLEXEC" --check-config
        [ "$status" -eq 202 ]
        [[ "$output" == *"no credential can be mapped"* ]]
}

@test "the payload's environment is rebuilt: loader variables never pass" {
        write_config declare-only glexec.preserve_env_variables=KEEPME,LD_PRELOAD,MALLOC_CHECK_
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" LD_PRELOAD=/tmp/evil.so \
                LD_LIBRARY_PATH=/tmp MALLOC_CHECK_=3 GCONV_PATH=/tmp GLIBC_TUNABLES=x \
                KEEPME=yes DROPME=yes GLEXEC_FOO=bar -- /usr/bin/env
        [ "$status" -eq 0 ]
        [[ "$output" != *LD_PRELOAD* ]]
        [[ "$output" != *LD_LIBRARY_PATH* ]]
        [[ "$output" != *MALLOC_CHECK_* ]]
        [[ "$output" != *GCONV_PATH* ]]
        [[ "$output" != *GLIBC_TUNABLES* ]]
        [[ "$output" != *DROPME* ]]
        [[ "$output" == *KEEPME=yes* ]]
        [[ "$output" == *GLEXEC_FOO=bar* ]]
        [[ "$output" == *PATH=/usr/local/bin:/usr/bin:/bin* ]]
        [[ "$output" == *TMPDIR=/tmp* ]]
        [[ "$output" == *USER=pilot* ]]
}

@test "the payload gets a copy of the proxy in its sandbox" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'stat -c "%U %a" "$X509_USER_PROXY"; echo "$X509_USER_PROXY"; pwd'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "pilot 600" ]
        [[ "${lines[1]}" == "$T/sandbox/"*"/x509up_u$(id -u pilot)" ]]
        [ "${lines[2]}" = "$(dirname "${lines[1]}")" ]
        # and the sandbox is gone afterwards
        [ -z "$(ls -A "$T/sandbox")" ]
}

@test "SIGTERM sent to glexec reaches the payload" {
        spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done'
        wait_for_line "$T/out" ready
        kill -TERM "$GX_PID"
        local st=0
        wait "$GX_PID" || st=$?
        cat "$T/out"
        [ "$st" -eq 42 ]
        grep -q got-term "$T/out"
}

@test "signals USR1, USR2, HUP, INT, QUIT, ALRM are forwarded" {
        for sig in USR1 USR2 HUP INT QUIT ALRM; do
                spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                        "trap 'echo got; exit 3' $sig; echo ready; while :; do sleep 0.1; done"
                wait_for_line "$T/out" ready
                kill -"$sig" "$GX_PID"
                local st=0
                wait "$GX_PID" || st=$?
                echo "$sig: $st"
                [ "$st" -eq 3 ]
        done
}

@test "audit records: start and end with identity, target, command and result" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
        local start end
        start=$(tail -n 2 "$AUDIT" | head -n 1)
        end=$(last_audit)
        [ "$(echo "$start" | json_get '["event"]')" = start ]
        [ "$(echo "$end" | json_get '["event"]')" = end ]
        [ "$(echo "$end" | json_get '["mode"]')" = declare-only ]
        [ "$(echo "$end" | json_get '["caller"]["user"]')" = pilot ]
        [ "$(echo "$end" | json_get '["target"]["uid"]')" = "$(id -u pilot)" ]
        [ "$(echo "$end" | json_get '["result"]["status"]')" = 0 ]
        # the command as named (SPEC section 8), even where /bin links to /usr/bin
        [ "$(echo "$end" | json_get '["command"][0]')" = /bin/true ]
        [[ "$(echo "$end" | json_get '["identity"]["dn"]')" == /DC=* ]]
        [ "$(audit_chain_ok)" -ge 2 ]
}

@test "the start record is on disk before the payload starts, the end record before glexec exits" {
        strace -f -qq -o "$T/strace" -e trace=fdatasync,execve,exit_group -u pilot \
                env -i -C "$PILOT_HOME" PATH=/usr/local/bin:/usr/bin:/bin \
                GLEXEC_CLIENT_CERT="$(proxy valid)" "$GLEXEC" /bin/true
        cat "$T/strace"
        # Each record is synced once (fdatasync of the audit log). A call another process
        # interrupts is logged in two lines, "fdatasync(3 <unfinished ...>" and
        # "<... fdatasync resumed>) = 0"; the second one is when it ended. strace pads the pid
        # column with spaces when pids differ in width.
        local glexec start_sync payload end_sync exit
        glexec=$(grep -m1 "execve(\"$GLEXEC\"" "$T/strace" | cut -d' ' -f1)
        [ -n "$glexec" ]
        [ "$(grep -c 'fdatasync.*= 0$' "$T/strace")" -eq 2 ]
        start_sync=$(grep -n -m1 'fdatasync.*= 0$' "$T/strace" | cut -d: -f1)
        payload=$(grep -n -m1 'execve("[^"]*/true"' "$T/strace" | cut -d: -f1)
        end_sync=$(grep -n 'fdatasync.*= 0$' "$T/strace" | tail -n 1 | cut -d: -f1)
        exit=$(grep -nE "^$glexec +exit_group" "$T/strace" | cut -d: -f1)
        [ "$start_sync" -lt "$payload" ]
        [ "$payload" -lt "$end_sync" ]
        [ "$end_sync" -lt "$exit" ]
}

@test "a caller string with a newline cannot forge log lines" {
        run -127 as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- $'/bin/true\nforged: line'
        [ "$status" -eq 127 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/echo $'a\nb'
        [ "$status" -eq 0 ]
        # every audit line is one JSON object
        python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$AUDIT"
}

@test "the audit chain stays intact after 50 concurrent launches" {
        for i in $(seq 50); do
                as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true &
        done
        wait
        [ "$(audit_chain_ok)" -eq 100 ]
}

@test "the chain follows records longer than the first read of the log's tail" {
        # A 40 kB argument makes records of about 40 kB; glexec reads 8 kB of the tail first.
        local long
        long=$(head -c 40000 /dev/zero | tr '\0' x)
        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true "$long"
        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$(wc -L <"$AUDIT")" -gt 40000 ]
        [ "$(audit_chain_ok)" -eq 4 ]
}

@test "require_audit: an unwritable audit log fails closed (202) and runs nothing" {
        write_config declare-only audit.audit_log=/nonexistent/dir/audit.jsonl
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 202 ]
        [[ "$output" != *RAN* ]]
}

@test "--report-fd writes the JSON report and the payload does not see the fd" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/sh -c \
                '[ -e /proc/$$/fd/3 ] && echo has-fd-3; exit 5' 3>"$T/report"
        [ "$status" -eq 5 ]
        [[ "$output" != *has-fd-3* ]]
        [ "$(json_get '["result"]["exit_code"]' <"$T/report")" = 5 ]
        [ "$(json_get '["version"]' <"$T/report")" = 1 ]
        [ "$(json_get '["caller"]["user"]' <"$T/report")" = pilot ]
}

@test "the report's result has every field with its type, and null where it does not apply" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/true 3>"$T/report"
        [ "$status" -eq 0 ]
        python3 - "$T/report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["result"]
assert r["status"] == 0 and r["exit_code"] == 0 and r["signal"] is None, r
assert r["oom_killed"] is False and r["walltime_killed"] is False, r
for k in ("wall_seconds", "cpu_user_seconds", "cpu_system_seconds"):
    assert isinstance(r[k], (int, float)) and r[k] >= 0, (k, r)
for k in ("memory_peak_bytes", "pids_peak"):
    assert r[k] is None or (isinstance(r[k], int) and r[k] > 0), (k, r)
PY
        # Killed by a signal: no exit code, the signal's number.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/sh -c \
                'kill -USR1 $$' 3>"$T/report"
        [ "$status" -eq $((128 + 10)) ]
        [ "$(json_get '["result"]["exit_code"]' <"$T/report")" = null ]
        [ "$(json_get '["result"]["signal"]' <"$T/report")" = 10 ]
        [ "$(json_get '["result"]["status"]' <"$T/report")" = 138 ]
}

@test "the payload's environment: the target's HOME, USER, LOGNAME, the site PATH, its sandbox" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_TARGET_DIR=/somewhere -- \
                /bin/sh -c 'echo "$HOME|$USER|$LOGNAME|$PATH|$TMPDIR"; echo "$GLEXEC_TARGET_DIR"
                            pwd; echo "$X509_USER_PROXY"'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "$(getent passwd pilot | cut -d: -f6)|pilot|pilot|/usr/local/bin:/usr/bin:/bin|/tmp" ]
        [ "${lines[1]}" = "${lines[2]}" ]
        [[ "${lines[1]}" == "$T/sandbox/"* ]]
        [ "${lines[3]}" = "${lines[1]}/x509up_u$(id -u pilot)" ]
}

@test "linger = no is refused (202): the supervisor always stays" {
        write_config declare-only glexec.linger=no
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
        [[ "$output" == glexec:*linger* ]]
}

@test "a limit request above the site maximum is a client error (201)" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --memory 64G /bin/true
        [ "$status" -eq 201 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --memory 1G /bin/true
        [ "$status" -eq 0 ]
}

@test "an fd the caller left open does not reach the payload" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'ls /proc/$$/fd' 7</etc/hostname
        [ "$status" -eq 0 ]
        [ "$(echo $output)" = "0 1 2" ]
}
