#!/usr/bin/env bats
# Files between the pilot and its payload, as the unprivileged pilot in every deployment mode:
# --stage-in and --stage-out against hostile trees and hostile payloads, the payload's proxy
# copy (GLEXEC_TARGET_PROXY, GLEXEC_SOURCE_PROXY), what the sandbox cleanup removes,
# GLEXEC_ENV through glexec_wrapenv and glexec_unwrapenv, and the glexec.mon accounting lines
# (log_destination = file).
#
# The pilot's working directory is $PILOT_HOME; every name these tests put there starts with
# "st-" and is removed before and after each test.

load helpers

MODES=(declare-only site-isolation mapping)
LOG=$GX_TMP/t/log/glexec.log
WRAPENV=$GX_PREFIX/bin/glexec_wrapenv
UNWRAPENV=$GX_PREFIX/bin/glexec_unwrapenv
OTHER=$GX_TMP/staging-other

setup_file() {
        # A second identity, valid and trusted, but not Alice.
        [ -f "$OTHER/01.pem" ] ||
                "$GX_SRC/tests/fixtures/make-many-proxies.sh" "$GX_FX" "$OTHER" 1 >/dev/null
}

setup() {
        setup_site
        local dn
        dn=$(awk -F'\t' '$1 == "alice" { print $2 }' "$GX_FX/users.tsv")
        printf '"%s" alicea\n' "$dn" >"$T/grid-security/grid-mapfile"
        chmod 0644 "$T/grid-security/grid-mapfile"
        rm -rf "$PILOT_HOME"/st-*
}

teardown() {
        rm -rf "$PILOT_HOME"/st-*
}

# use_mode MODE [section.key=value...]: the configuration, logging to a file, and TARGET, the
# account the payload runs as (Alice's DN maps to alicea).
use_mode() {
        local mode=$1
        shift
        write_config "$mode" glexec.log_destination=file glexec.log_file="$LOG" "$@"
        case $mode in
        declare-only) TARGET=pilot ;;
        mapping) TARGET=alicea ;;
        site-isolation) TARGET=gxnobody ;;
        esac
        echo "# mode $mode, target $TARGET"
}

# glexec run by the pilot with Alice's proxy: gx [glexec options] COMMAND [ARG...]
gx() {
        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$@"
}

# A command run by the pilot itself, in its home.
pilot_sh() {
        setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- \
                env -C "$PILOT_HOME" /bin/sh -c "$1"
}

@test "stage-in: a tree arrives owned by the target with its modes; links out of it stay links" {
        pilot_sh 'umask 022; mkdir -p st-in/sub && echo data >st-in/f && chmod 0640 st-in/f &&
                printf "#!/bin/sh\necho ran-script\n" >st-in/sub/run.sh && chmod 0755 st-in/sub/run.sh &&
                echo PILOT-PRIVATE >st-outside && ln -s ../st-outside st-in/escape &&
                ln -s "$PWD/st-outside" st-in/sub/abs && chmod 0750 st-in/sub'
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-in st-in /bin/sh -c 'stat -c "%U:%G %a %n" st-in st-in/f st-in/sub \
                        st-in/sub/run.sh; [ -L st-in/escape ] && [ -L st-in/sub/abs ] && echo links;
                        ./st-in/sub/run.sh; grep -rq PILOT-PRIVATE . || echo no-copy-of-outside'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "${lines[0]}" = "$TARGET:$TARGET 755 st-in" ]
                [ "${lines[1]}" = "$TARGET:$TARGET 640 st-in/f" ]
                [ "${lines[2]}" = "$TARGET:$TARGET 750 st-in/sub" ]
                [ "${lines[3]}" = "$TARGET:$TARGET 755 st-in/sub/run.sh" ]
                [ "${lines[4]}" = links ]
                [ "${lines[5]}" = ran-script ]
                [ "${lines[6]}" = no-copy-of-outside ]
                [ -z "$(ls -A "$T/sandbox")" ]
        done
}

@test "stage-in: a single file, a symlink given as the path, and an absolute path" {
        pilot_sh 'echo one >st-file && ln -s st-file st-alias && mkdir st-d && echo two >st-d/x'
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-in st-file --stage-in st-alias --stage-in "$PILOT_HOME/st-d/" \
                        /bin/sh -c 'cat st-file st-alias st-d/x; [ -L st-alias ] || echo regular'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "$(printf 'one\none\ntwo\nregular')" ]
        done
}

@test "a relative command is the payload's: a script staged in runs as ./job.sh" {
        pilot_sh 'printf "#!/bin/sh\necho staged \"\$1\" \$(id -un)\n" >st-job.sh; chmod 0755 st-job.sh'
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-in st-job.sh ./st-job.sh a
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "staged a $TARGET" ]
                [[ "$(last_audit | json_get '["command"][0]')" == "$T/sandbox/"*/st-job.sh ]]
                # Not brought in: not there, whatever the caller's directory holds.
                run -127 gx ./st-job.sh a
                [ "$status" -eq 127 ]
                [[ "$output" == glexec:* ]]
        done
        # No listed path can allow a file in a sandbox.
        use_mode mapping mapping.allowed_executables=/usr/bin/*
        run gx --stage-in st-job.sh ./st-job.sh a
        [ "$status" -eq 203 ]
        [[ "$output" != *staged* ]]
}

@test "stage-in: a missing or unreadable source is a client error (201) and nothing runs" {
        echo ROOT-SECRET >"$T/root-only"
        chmod 0600 "$T/root-only"
        pilot_sh 'mkdir st-tree && echo a >st-tree/ok && echo b >st-tree/locked && chmod 0 st-tree/locked'
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-in st-missing /bin/sh -c 'echo RAN'
                echo "$output"
                [ "$status" -eq 201 ]
                [ "$output" = "glexec: --stage-in: st-missing: No such file or directory" ]
                # Audited all the same: a start, and an end with the reason and no result.
                local id
                id=$(last_audit | json_get '["id"]')
                [ "$(grep -c "\"id\":\"$id\"" "$AUDIT")" -eq 2 ]
                [ "$(last_audit | json_get '["event"]')" = end ]
                [[ "$(last_audit | json_get '["reason"]')" == *st-missing* ]]
                [ "$(last_audit | json_get '["result"]')" = null ]
                grep -q "$id: end: no result: --stage-in: st-missing" "$LOG"
                # Read with the caller's rights only: what root can read, the pilot cannot.
                run gx --stage-in "$T/root-only" /bin/sh -c 'echo RAN'
                echo "$output"
                [ "$status" -eq 201 ]
                [[ "$output" == *"Permission denied"* ]]
                # Not even its own file without read permission, nor another process's environ.
                run gx --stage-in st-tree /bin/sh -c 'echo RAN'
                echo "$output"
                [ "$status" -eq 201 ]
                [[ "$output" == *"st-tree/locked: cannot open: Permission denied"* ]]
                run gx --stage-in /proc/1/environ /bin/sh -c 'echo RAN'
                [ "$status" -eq 201 ]
                [[ "$output" != *RAN* ]]
                [ -z "$(ls -A "$T/sandbox")" ]
        done
}

@test "stage-in: a name already in the sandbox is a client error (201)" {
        pilot_sh 'echo x >st-same && mkdir st-dir && echo y >st-dir/st-same'
        use_mode mapping
        run gx --stage-in st-same --stage-in st-dir/st-same /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 201 ]
        [[ "$output" == *"st-same: not replaced: File exists"* ]]
}

@test "stage-out: files and trees come back owned by the caller, without group or other write" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                rm -rf "$PILOT_HOME"/st-*
                run gx --stage-out st-out.txt --stage-out st-res --stage-out st-res/sub/f \
                        /bin/sh -c 'umask 000; echo result >st-out.txt; mkdir -p st-res/sub;
                        echo deep >st-res/sub/f; chmod 0777 st-res/sub; chmod 4755 st-out.txt; exit 3'
                echo "$output"
                [ "$status" -eq 3 ]
                [ -z "$output" ]
                [ "$(cat "$PILOT_HOME/st-out.txt")" = result ]
                [ "$(stat -c '%U:%G %a' "$PILOT_HOME/st-out.txt")" = "pilot:pilot 755" ]
                [ "$(stat -c '%U %a' "$PILOT_HOME/st-res/sub")" = "pilot 755" ]
                [ "$(cat "$PILOT_HOME/st-res/sub/f")" = deep ]
                [ "$(stat -c '%U %a' "$PILOT_HOME/st-res/sub/f")" = "pilot 644" ]
                # A path below the sandbox comes back under its last component.
                [ "$(cat "$PILOT_HOME/f")" = deep ]
                rm -f "$PILOT_HOME/f"
                # The caller's own file from the last run is replaced, its directory merged.
                run gx --stage-out st-out.txt --stage-out st-res /bin/sh -c \
                        'echo second >st-out.txt; mkdir st-res; echo new >st-res/g'
                [ "$status" -eq 0 ]
                [ "$(cat "$PILOT_HOME/st-out.txt")" = second ]
                [ "$(cat "$PILOT_HOME/st-res/g")" = new ]
                [ "$(cat "$PILOT_HOME/st-res/sub/f")" = deep ]
                [ -z "$(ls -A "$T/sandbox")" ]
        done
}

@test "stage-out: an output replaced by a symlink to a root-owned file leaks nothing and the status stays" {
        echo ROOT-SECRET >"$T/root-only"
        chmod 0600 "$T/root-only"
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                rm -rf "$PILOT_HOME"/st-*
                : >"$LOG"
                run gx --stage-out st-out.txt --stage-out st-res --stage-out st-gone /bin/sh -c "
                        ln -s '$T/root-only' st-out.txt; mkdir st-res; ln -s '$T/root-only' st-res/link;
                        ln -s /etc st-res/etc; mkfifo st-res/fifo; echo ok >st-res/real; exit 5"
                echo "$output"
                [ "$status" -eq 5 ]
                [[ "$output" == *"glexec: --stage-out st-out.txt not copied: st-out.txt is not a regular file or directory"* ]]
                [[ "$output" == *"glexec: --stage-out st-res: 3 entries not copied"* ]]
                [[ "$output" == *"glexec: --stage-out st-gone not copied: st-gone: No such file or directory"* ]]
                [ ! -e "$PILOT_HOME/st-out.txt" ]
                [ ! -L "$PILOT_HOME/st-out.txt" ]
                [ "$(ls -A "$PILOT_HOME/st-res")" = real ]
                [ -z "$(grep -rl ROOT-SECRET "$PILOT_HOME")" ]
                [ "$(cat "$T/root-only")" = ROOT-SECRET ]
                grep -q -- "--stage-out st-out.txt not copied" "$LOG"
                grep -q -- "2 of 3 --stage-out entries not copied" "$LOG"
        done
}

@test "stage-out: a symlink or another user's file in the caller's directory is neither followed nor replaced" {
        pilot_sh 'echo precious >st-precious && ln -s st-precious st-link'
        echo root-file >"$PILOT_HOME/st-foreign"
        chmod 0666 "$PILOT_HOME/st-foreign"
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-out st-link --stage-out st-foreign --stage-out st-precious \
                        /bin/sh -c 'echo evil >st-link; echo evil >st-foreign; mkdir st-precious'
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" == *"--stage-out st-link not copied: st-link: exists and is not a regular file owned by uid $(id -u pilot): not replaced"* ]]
                [[ "$output" == *"--stage-out st-foreign not copied: st-foreign: exists and is not a regular file owned by uid"* ]]
                [[ "$output" == *"--stage-out st-precious not copied: st-precious: exists and is not a directory"* ]]
                [ -L "$PILOT_HOME/st-link" ]
                [ "$(cat "$PILOT_HOME/st-precious")" = precious ]
                [ "$(cat "$PILOT_HOME/st-foreign")" = root-file ]
                [ "$(stat -c %U "$PILOT_HOME/st-foreign")" = root ]
                # and no temporary file is left behind
                [ "$(ls -A "$PILOT_HOME" | grep -c '^\.glexec-')" -eq 0 ]
        done
}

@test "stage-out: a NAME that could leave the sandbox is a client error (201) before anything runs" {
        use_mode site-isolation
        for name in ../x /etc/passwd a//b ./x x/. x/..; do
                run gx --stage-out "$name" /bin/sh -c 'echo RAN'
                echo "$name: $output"
                [ "$status" -eq 201 ]
                [[ "$output" == "glexec: --stage-out "* ]]
                [[ "$output" != *RAN* ]]
        done
}

@test "a payload that plants links, hard links, FIFOs and locked directories: cleanup removes only its sandbox" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                # A file the target owns outside the sandbox, on the same file system (the
                # kernel refuses a hard link to it across the sandbox's bind mount; one inside
                # the sandbox is made).
                echo keep >"$T/st-target-file"
                chown "$TARGET:" "$T/st-target-file"
                run gx /bin/sh -c "ln -s / root; ln -s '$PILOT_HOME' pilothome; ln -s .. up;
                        ln '$T/st-target-file' hard 2>/dev/null; mkfifo fifo;
                        mkdir -p d/e; ln -s /etc d/e/etc; ln -s '$T/st-target-file' d/e/f;
                        echo x >d/e/g; ln d/e/g d/h; ln d/e/g g; chmod 0500 d/e; chmod 0 d;
                        echo planted"
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" == *planted* ]]
                [ -z "$(ls -A "$T/sandbox")" ]
                [ "$(cat "$T/st-target-file")" = keep ]
                [ -f /etc/passwd ]
                [ -d /etc/ssl ]
                [ -f "$PILOT_HOME/valid.pem" ]
                [ -d "$T/grid-security/certificates" ]
        done
}

@test "a directory another user made in sandbox_base changes nothing" {
        mkdir "$T/sandbox/st-squat"
        echo mine >"$T/sandbox/st-squat/f"
        chown -R intruder: "$T/sandbox/st-squat"
        chmod 0777 "$T/sandbox/st-squat"
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx --stage-out st-squat /bin/sh -c 'ls -A ..; ls -A ../st-squat 2>&1; exit 0'
                echo "$output"
                [ "$status" -eq 0 ]
                [[ "$output" != *mine* ]]
                [[ "$output" == *"--stage-out st-squat not copied"* ]]
                [ ! -e "$PILOT_HOME/st-squat" ]
                [ "$(ls -A "$T/sandbox")" = st-squat ]
                [ "$(cat "$T/sandbox/st-squat/f")" = mine ]
                [ "$(stat -c %U "$T/sandbox/st-squat")" = intruder ]
        done
}

@test "the payload's proxy copy belongs to the target, mode 0600" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run gx /bin/sh -c 'stat -c "%U:%G %a" "$X509_USER_PROXY"; cmp "$X509_USER_PROXY" -' \
                        <"$(proxy valid)"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "$TARGET:$TARGET 600" ]
        done
}

@test "GLEXEC_TARGET_PROXY names the copy in the sandbox; a path outside it is refused (201)" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_TARGET_PROXY=my.proxy -- \
                        /bin/sh -c 'echo "$X509_USER_PROXY"; pwd; stat -c %a my.proxy'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "${lines[0]}" = "${lines[1]}/my.proxy" ]
                [ "${lines[2]}" = 600 ]
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" \
                        GLEXEC_TARGET_PROXY="$PILOT_HOME/elsewhere" -- /bin/sh -c 'echo RAN'
                echo "$output"
                [ "$status" -eq 201 ]
                [[ "$output" == glexec:* ]]
                [[ "$output" != *RAN* ]]
                [ ! -e "$PILOT_HOME/elsewhere" ]
        done
}

@test "keep_sandbox = yes leaves the sandbox; private_tmp = no shares /tmp" {
        use_mode declare-only sandbox.keep_sandbox=yes sandbox.private_tmp=no
        run gx /bin/sh -c 'pwd; touch kept; ls -di /tmp'
        echo "$output"
        [ "$status" -eq 0 ]
        [ -e "${lines[0]}/kept" ]
        [ "${lines[1]}" = "$(ls -di /tmp)" ]
        rm -rf "${lines[0]}" "${lines[0]}.lock"
}

@test "GLEXEC_TARGET_PROXY=/dev/null: no copy of the proxy, no X509_USER_PROXY" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_TARGET_PROXY=/dev/null -- \
                        /bin/sh -c 'ls -A; echo "X509_USER_PROXY=${X509_USER_PROXY-unset}"'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "X509_USER_PROXY=unset" ]
                [ -c /dev/null ]
        done
}

@test "a GLEXEC_SOURCE_PROXY of another identity is refused (203); one of the same identity is copied" {
        cp "$OTHER/01.pem" "$PILOT_HOME/st-other.pem"
        chown pilot: "$PILOT_HOME/st-other.pem"
        chmod 0600 "$PILOT_HOME/st-other.pem"
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" \
                        GLEXEC_SOURCE_PROXY="$PILOT_HOME/st-other.pem" -- /bin/sh -c 'echo RAN'
                echo "$output"
                [ "$status" -eq 203 ]
                [[ "$output" == "glexec: not authorized"* ]]
                [[ "$output" != *RAN* ]]
                [ -z "$(ls -A "$T/sandbox")" ]
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" \
                        GLEXEC_SOURCE_PROXY="$(proxy valid_2level)" -- \
                        /bin/sh -c 'cmp "$X509_USER_PROXY" - && echo same' <"$(proxy valid_2level)"
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = same ]
        done
}

@test "glexec_wrapenv and glexec_unwrapenv carry newlines, quotes and '=' to the payload" {
        local nl=$'line one\nline two\n\n' q="it's \"quoted\" \`x\` \$(y) \\ end" eq='a=b==c='
        local packed
        packed=$(env -i NL="$nl" Q="$q" EQ="$eq" HOME=/pilot/home KEEPOUT=x \
                LD_LIBRARY_PATH=/st-nonexistent "$WRAPENV" --exclude=KEEPOUT)
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_ENV="$packed" -- \
                        "$UNWRAPENV" -- /bin/sh -c 'printf "[%s]" "$NL" "$Q" "$EQ" "$HOME" \
                        "${KEEPOUT-unset}" "$LD_LIBRARY_PATH" "$(id -un)"'
                echo "$output"
                [ "$status" -eq 0 ]
                [ "$output" = "[$nl][$q][$eq][/nonexistent][unset][/st-nonexistent][$TARGET]" ]
        done
        # A malformed GLEXEC_ENV runs nothing; a missing command is 127.
        use_mode mapping
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_ENV='not!base64' -- \
                "$UNWRAPENV" /bin/sh -c 'echo RAN'
        [ "$status" -eq 1 ]
        [[ "$output" == "glexec_unwrapenv: GLEXEC_ENV cannot be unpacked: malformed" ]]
        run -127 as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_ENV="$packed" -- \
                "$UNWRAPENV" st-no-such-command
        [ "$status" -eq 127 ]
}

@test "GLEXEC_ENV is gLExec's format: packed by an independent packer, and read back by one" {
        local packed
        packed=$(python3 -c 'import base64, sys, zlib
items = [b"A=x\ny", b"B=\"q\"=1", b"HOME=/wrapped"]
inner = b"".join(base64.b64encode(i) + b" " for i in items)
sys.stdout.write(base64.b64encode(zlib.compress(inner)).decode())')
        run env -i HOME=/kept GLEXEC_ENV="$packed" "$UNWRAPENV" /bin/sh -c 'printf "[%s]" "$A" "$B" "$HOME"'
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf '[x\ny]["q"=1][/kept]')" ]

        packed=$(env -i A=1 'B=x y' $'C=\n' "$WRAPENV")
        run python3 -c 'import base64, sys, zlib
inner = zlib.decompress(base64.b64decode(sys.argv[1]))
print(sorted(base64.b64decode(t).decode() for t in inner.split(b" ") if t))' "$packed"
        [ "$output" = "['A=1', 'B=x y', 'C=\\n']" ]
}

@test "glexec.mon: a Started and a Terminated line with glexec's pid for every launch" {
        for mode in "${MODES[@]}"; do
                use_mode "$mode"
                : >"$LOG"
                run gx /bin/sh -c 'exit 4'
                [ "$status" -eq 4 ]
                cat "$LOG"
                local started terminated
                started=$(grep -E "glexec\.mon\[[0-9]+\]: Started, target uid $(id -u "$TARGET")\$" "$LOG")
                terminated=$(grep -E 'glexec\.mon\[[0-9]+\]: Terminated, CPU user [0-9]+\.[0-9]{2} system [0-9]+\.[0-9]{2}$' "$LOG")
                [ "$(echo "$started" | wc -l)" -eq 1 ]
                [ "$(echo "$terminated" | wc -l)" -eq 1 ]
                [ "$(echo "$started" | sed 's/.*\[\([0-9]*\)\].*/\1/')" = \
                        "$(echo "$terminated" | sed 's/.*\[\([0-9]*\)\].*/\1/')" ]
        done
}
