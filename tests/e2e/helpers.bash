bats_require_minimum_version 1.5.0

# Shared setup for the bats suites. Each test gets a fresh configuration, grid-security tree,
# sandbox base and audit log under $GX_TMP/t, written by root as glexec demands.

GLEXEC=$GX_PREFIX/sbin/glexec
CONF=$GX_PREFIX/etc/glexec.conf
T=$GX_TMP/t
PILOT_HOME=$GX_TMP/home/pilot
AUDIT=$T/log/audit.jsonl

# Write a configuration: base values for the given mode, then "section.key=value" overrides.
write_config() {
        local mode=$1
        shift
        declare -A over=()
        local kv
        for kv in "$@"; do
                over[${kv%%=*}]=${kv#*=}
        done
        local -a keys=(
                glexec.mode="$mode"
                glexec.user_white_list=pilot
                glexec.isolation_account=gxnobody
                glexec.log_level=4
                credentials.certdir="$T/grid-security/certificates"
                credentials.vomsdir="$T/grid-security/vomsdir"
                credentials.token_issuers="$T/grid-security/token-issuers.conf"
                mapping.gridmapfile="$T/grid-security/grid-mapfile"
                mapping.voms_gridmapfile="$T/grid-security/voms-grid-mapfile"
                mapping.groupmapfile="$T/grid-security/groupmapfile"
                mapping.gridmapdir="$T/grid-security/gridmapdir"
                mapping.token_mapfile="$T/grid-security/token-mapfile"
                mapping.ban_file=
                sandbox.sandbox_base="$T/sandbox"
                sandbox.seccomp_profile="$GX_PREFIX/share/glexec-ng/seccomp/default.json"
                limits.require_cgroup=yes
                audit.audit_log="$AUDIT"
        )
        {
                for sec in glexec credentials mapping sandbox limits audit; do
                        echo "[$sec]"
                        for kv in "${keys[@]}"; do
                                local k=${kv%%=*} v=${kv#*=}
                                [ "${k%%.*}" = "$sec" ] || continue
                                [ -n "${over[$k]+x}" ] && continue
                                echo "${k#*.} = $v"
                        done
                        for k in "${!over[@]}"; do
                                [ "${k%%.*}" = "$sec" ] || continue
                                echo "${k#*.} = ${over[$k]}"
                        done
                done
        } >"$CONF"
        chown root:root "$CONF"
        chmod 0644 "$CONF"
}

# A fresh grid-security tree with the run's CA and VOMS server, and the pilot's proxies.
setup_site() {
        rm -rf "$T"
        mkdir -p "$T/grid-security/gridmapdir" "$T/sandbox" "$T/log"
        chmod 0755 "$T" "$T/grid-security" "$T/sandbox"
        chmod 0700 "$T/log"
        cp -r "$GX_FX/certificates" "$GX_FX/vomsdir" "$T/grid-security/"
        chmod -R go-w "$T/grid-security"
        mkdir -p "$PILOT_HOME"
        cp "$GX_FX"/proxies/*.pem "$PILOT_HOME/"
        chown -R pilot:pilot "$GX_TMP/home"
        chmod 0755 "$GX_TMP/home"
        chmod 0700 "$PILOT_HOME"
        chmod 0600 "$PILOT_HOME"/*.pem
}

# Run glexec as the pilot with a clean environment: as_pilot [VAR=value...] -- glexec args
as_pilot() {
        as_user pilot "$@"
}

as_user() {
        local user=$1
        shift
        (exec_as "$user" "$@")
}

# Replace the current (sub)shell by glexec run as user; the pid stays glexec's.
exec_as() {
        local user=$1
        shift
        local -a envs=(PATH=/usr/local/bin:/usr/bin:/bin)
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do
                envs+=("$1")
                shift
        done
        shift
        local dir=/
        [ "$user" != pilot ] || dir=$PILOT_HOME
        exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
                env -i -C "$dir" "${envs[@]}" "$GLEXEC" "$@"
}

# Start glexec as the pilot in the background; GX_PID is glexec's own pid.
spawn_as_pilot() {
        local out=$1
        shift
        # Emptied here, not only by the background job's redirection: a wait_for_line that
        # ran before the job opened the file would find the last launch's lines in it.
        : >"$out"
        (exec_as pilot "$@") >>"$out" 2>&1 &
        GX_PID=$!
}

wait_for_line() {
        local file=$1 text=$2
        for _ in $(seq 100); do
                grep -q "$text" "$file" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}

proxy() {
        echo "$PILOT_HOME/$1.pem"
}

# Check every record's hash and its link to the previous one.
audit_chain_ok() {
        python3 - "$AUDIT" <<'PY'
import hashlib, json, sys
prev = "0" * 64
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    rec = json.loads(line)
    suffix = ',"hash":"%s"}' % rec["hash"]
    assert line.endswith(suffix), "hash is not the last member"
    body = line[: -len(suffix)] + "}"
    assert hashlib.sha256(body.encode()).hexdigest() == rec["hash"], "bad hash at %d" % n
    assert rec["prev"] == prev, "broken chain at record %d" % n
    prev = rec["hash"]
    n += 1
print(n)
PY
}

last_audit() {
        tail -n 1 "$AUDIT"
}

json_get() {
        python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); exec("r=d"+sys.argv[1]); print(json.dumps(r) if not isinstance(r,str) else r)' "$1"
}
