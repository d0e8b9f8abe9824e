#!/usr/bin/env bats
# Mapping end to end, in mode = mapping and mode = site-isolation: DN and FQAN mappings with
# groupmapfile groups, pool leases in an LCMAPS gridmapdir (also under 64 concurrent
# launches), bans, allowed executables, min_uid, --map-only, what the pilot and other payloads
# can reach, and the identity and target in the audit record and the report.

load helpers

GSEC=$GX_TMP/t/grid-security
GMD=$GSEC/gridmapdir
MANY=$GX_TMP/many
CA_DN="/DC=org/DC=glexec-test/CN=glexec Test CA"
ALICE_DN="/DC=org/DC=glexec-test/OU=People/CN=Alice Tester"
# The lease LCMAPS's poolaccount creates for Alice: the lower-cased, URL-encoded DN.
ALICE_LEASE=%2fdc%3dorg%2fdc%3dglexec%2dtest%2fou%3dpeople%2fcn%3dalice%20tester
# As the report shows them (SPEC section 8): with the role, without /Capability=NULL.
VOMS_FQANS='["/atlas/Role=production", "/atlas/Role=NULL", "/atlas/higgs/Role=NULL"]'
LONG_OU="Unit & Subunit, Punctuation (Brackets)"

setup_file() {
        # 64 more identities for the pool tests, made once for the whole file; 65 has UTF-8
        # and quotes in its DN, 66 a DN whose lease name is longer than a file name may be,
        # 67 one without blanks.
        local base=/DC=org/DC=glexec-test/OU=Many
        [ -f "$MANY/dns.tsv" ] ||
                "$GX_SRC/tests/fixtures/make-many-proxies.sh" "$GX_FX" "$MANY" 64 \
                        "$base/CN=José \"Pepe\" Müller" \
                        "$base/OU=$LONG_OU 1/OU=$LONG_OU 2/OU=$LONG_OU 3/CN=Long User" \
                        "$base/CN=nospaces" >/dev/null
}

setup() {
        setup_site
        [ "$(awk -F'\t' '$1 == "alice" { print $2 }' "$GX_FX/users.tsv")" = "$ALICE_DN" ]
}

teardown() {
        # A waiting payload that a failed test left behind is let go.
        [ -z "${GX_PID:-}" ] || { touch "$T/release"; wait "$GX_PID" || true; }
}

# A map file in the grid-security tree, from stdin, root-owned as glexec demands.
site_file() {
        local f=$GSEC/$1
        cat >"$f"
        chown root:root "$f"
        chmod 0644 "$f"
}

# Pool accounts atlas001..atlasN in the gridmapdir, all free.
make_pool() {
        local i
        for i in $(seq 1 "$1"); do
                : >"$GMD/$(printf 'atlas%03d' "$i")"
        done
}

# A DN as credential verification writes it (X509_NAME_oneline): bytes outside printable
# ASCII as \xHH.
oneline() {
        python3 -c 'import sys
print("".join(chr(b) if 0x20 <= b <= 0x7e else "\\x%02X" % b for b in sys.argv[1].encode()))' "$1"
}

# LCMAPS's lease name of an ASCII string: letters lower-cased, digits kept, the rest %hh.
lcmaps_encode() {
        python3 -c 'import sys
enc = lambda c: c.lower() if c.isascii() and c.isalnum() else "%%%02x" % ord(c)
print("".join(enc(c) for c in sys.argv[1]))' "$1"
}

# Proxy NN of make-many-proxies.sh, handed to the pilot.
many_proxy() {
        local p=$PILOT_HOME/many$1.pem
        cp "$MANY/$1.pem" "$p"
        chown pilot:pilot "$p"
        chmod 0600 "$p"
        echo "$p"
}

# Entries of the gridmapdir matching a glob: '%*' are the leases (and claims).
n_entries() {
        find "$GMD" -mindepth 1 -maxdepth 1 -name "$1" | wc -l
}

# The DN of proxy NN of make-many-proxies.sh.
many_dn() {
        awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$MANY/dns.tsv"
}

# Run a plain command as the pilot (not through glexec).
pilot_cmd() {
        setpriv --reuid=pilot --regid="$(id -g pilot)" --init-groups -- "$@"
}

# The uid, gid, groups and user name as the payload sees them, on one line.
ID_CMD=(/bin/sh -c 'echo "$(id -u) $(id -g) $(id -G | tr " " ,) $(id -un) $USER"')

# The standard VOMS files: Alice's first FQAN /atlas/Role=production maps her to alicea,
# groups atlasprd (primary, from the first FQAN) and atlas.
voms_files() {
        site_file voms-grid-mapfile <<'EOF'
# VOMS mappings
"/atlas/Role=production/Capability=NULL" alicea
EOF
        site_file groupmapfile <<'EOF'
"/atlas/Role=production" atlasprd
"/atlas/Role=NULL/Capability=NULL" atlas
EOF
}

# A payload that writes a file into its sandbox, prints the sandbox path, waits until
# $T/release exists (at most a minute), then lists the sandbox base as it sees it.
HOLD_CMD=(/bin/sh -c 'echo s3cret >secret; chmod 0644 secret; pwd; echo ready
        i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
        ls -A "$(dirname "$PWD")"' sh)

# ---- mapping mode -----------------------------------------------------------------------

@test "mapping: a DN in the grid-mapfile maps to its account, with its own groups" {
        write_config mapping
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "5001 5001 5001 alicea alicea" ]
}

@test "mapping: FQANs map with groupmapfile groups: primary gid from the first FQAN" {
        write_config mapping
        voms_files
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "5001 2001 2001,2000 alicea alicea" ]
        # The same identity from the RFC 3281 holder format and from a proxy below the VOMS one.
        for p in voms_newformat voms_2level; do
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy $p)" -- "${ID_CMD[@]}"
                echo "$p: $output"
                [ "$status" -eq 0 ]
                [ "$output" = "5001 2001 2001,2000 alicea alicea" ]
        done
}

# The trust files a launch read: glexec run as the pilot under strace, which runs it as
# root's tracee with its setuid bit honoured, followed into its children, where the
# credential verifier (glexec-verify) reads them; the paths read go to $T/opened.
launch_opened() {
        strace -f -qq -e trace=open,openat -o "$T/strace" -u pilot \
                env -i -C "$PILOT_HOME" PATH=/usr/local/bin:/usr/bin:/bin \
                GLEXEC_CLIENT_CERT="$(proxy "$1")" "$GLEXEC" /bin/true
        # The .lsc file is opened below its directory's fd, by its name alone. O_PATH opens
        # (the trust checks of an entry's vomsdir files) read nothing.
        grep -v O_PATH "$T/strace" | grep -o '"[^"]*"' |
                grep -e "$GSEC/certificates/" -e "$GSEC/vomsdir/" -e '\.lsc"$' >"$T/opened" || true
}

# A launch with proxy $1 that took its verification from the cache.
reused() {
        launch_opened "$1"
        cat "$T/opened"
        [ ! -s "$T/opened" ]
}

# Alice's certificate revoked in the CA's CRL, which is rewritten in place.
revoke_alice() {
        local ca=$T/ca
        cp -r "$GX_FX/work" "$ca"
        sed -i "s#$GX_FX/work#$ca#g" "$ca/openssl.cnf"
        openssl ca -config "$ca/openssl.cnf" -revoke "$ca/alice.pem" 2>/dev/null
        openssl ca -config "$ca/openssl.cnf" -gencrl -out "$ca/new.crl" 2>/dev/null
        cat "$ca/new.crl" >"$GSEC"/certificates/*.r0
}

@test "mapping: a verified proxy is reused only while the trust files it relied on are unchanged" {
        local cache=$GX_PREFIX/var/cache/glexec-ng entry
        local alice="5001 2001 2001,2000 alicea alicea"
        rm -rf "$cache"
        write_config mapping
        voms_files
        # Trust files changed within a second of a launch are not relied on.
        sleep 2

        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "$alice" ]
        entry=$(cd "$cache" && ls | grep -x 'cred-[0-9a-f]*')
        [ "$(stat -c '%U %a' "$cache/$entry")" = "root 600" ]
        # The entry is used: a launch reads none of the CA, CRL and .lsc files, where a
        # launch without it reads all three.
        reused voms_good
        rm "$cache/$entry"
        launch_opened voms_good
        cat "$T/opened"
        grep -q '\.0"$' "$T/opened"
        grep -q '\.r0"$' "$T/opened"
        grep -q '\.lsc"$' "$T/opened"
        reused voms_good

        # A torn entry, a flipped byte, one owned by the pilot, another proxy's entry under
        # this name: each is verified afresh and replaced by a good one.
        truncate -s 100 "$cache/$entry"
        launch_opened voms_good
        [ -s "$T/opened" ]
        reused voms_good
        printf '\377' | dd of="$cache/$entry" bs=1 seek=300 conv=notrunc status=none
        launch_opened voms_good
        [ -s "$T/opened" ]
        reused voms_good
        chown pilot "$cache/$entry"
        launch_opened voms_good
        [ -s "$T/opened" ]
        [ "$(stat -c %U "$cache/$entry")" = root ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_2level)" -- /bin/true
        [ "$status" -eq 0 ]
        cp "$cache/$(cd "$cache" && ls | grep -x 'cred-[0-9a-f]*' | grep -vx "$entry")" \
                "$cache/$entry"
        launch_opened voms_good
        [ -s "$T/opened" ]
        reused voms_good

        # The lifetime asked for is checked at each use: asking more than the proxy has left
        # is refused, not taken from the cache.
        write_config mapping credentials.min_proxy_lifetime=99999999
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        echo "$output"
        [ "$status" -eq 203 ]
        write_config mapping

        # Expired entries and the leftovers of a writer that died go when a launch stores an
        # entry, at most every 10 minutes.
        : >"$cache/cred-expired"
        : >"$cache/cred-dead.tmp-1"
        touch -d '-1 hour' "$cache/cred-expired" "$cache/cred-pruned"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_newformat)" -- /bin/true
        [ "$status" -eq 0 ]
        [ ! -e "$cache/cred-expired" ]
        [ -e "$cache/cred-dead.tmp-1" ]
        [ -e "$cache/$entry" ]

        # The .lsc file rewritten in place: the AC's signer no longer matches.
        cp "$GSEC/vomsdir/atlas/voms.glexec-test.org.lsc" "$T/lsc.good"
        sed '1s/Services/Impostors/' "$T/lsc.good" >"$GSEC/vomsdir/atlas/voms.glexec-test.org.lsc"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        echo "$output"
        [ "$status" -eq 203 ]
        cat "$T/lsc.good" >"$GSEC/vomsdir/atlas/voms.glexec-test.org.lsc"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
        [ "$status" -eq 0 ]
        [ "$output" = "$alice" ]
        sleep 2
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        [ "$status" -eq 0 ]
        reused voms_good

        # Alice revoked by a CRL rewritten in place (same inode, same directory), with a valid
        # entry in the cache: refused at once.
        revoke_alice
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        echo "$output"
        [ "$status" -eq 203 ]
        [[ "$output" == *revoked* ]]
}

@test "mapping: a new proxy is parsed by glexec-verify with the pilot's ids under a seccomp filter" {
        write_config mapping
        voms_files
        rm -rf "$GX_PREFIX/var/cache/glexec-ng"
        strace -f -qq -e trace=execveat,setresuid,read,openat,seccomp -o "$T/strace" -u pilot \
                env -i -C "$PILOT_HOME" PATH=/usr/local/bin:/usr/bin:/bin \
                GLEXEC_CLIENT_CERT="$(proxy voms_good)" "$GLEXEC" /bin/true
        local pid
        # glexec starts it from the fd of its trusted open, with an empty environment.
        pid=$(grep -m1 'execveat([0-9]*, "", \["glexec-verify"\], 0x[0-9a-f]* /\* 0 vars \*/, AT_EMPTY_PATH' \
                "$T/strace" | cut -d' ' -f1)
        [ -n "$pid" ]
        grep "^$pid " "$T/strace" >"$T/verifier"
        cat "$T/verifier"
        # It gives up root for the pilot's uid before it reads the request, confines itself
        # with a seccomp filter after reading it, and only then reads the trust files.
        local drop request filter ca
        drop=$(grep -n -m1 "setresuid($(id -u pilot), $(id -u pilot), $(id -u pilot)) *= 0" \
                "$T/verifier" | cut -d: -f1)
        request=$(grep -n -m1 'read(0,' "$T/verifier" | cut -d: -f1)
        filter=$(grep -n -m1 'seccomp(SECCOMP_SET_MODE_FILTER' "$T/verifier" | cut -d: -f1)
        ca=$(grep -n -m1 "$T/grid-security/certificates/" "$T/verifier" | cut -d: -f1)
        [ -n "$drop" ]
        [ -n "$request" ]
        [ -n "$filter" ]
        [ -n "$ca" ]
        [ "$drop" -lt "$request" ]
        [ "$request" -lt "$filter" ]
        [ "$filter" -lt "$ca" ]
}

@test "mapping: a verifier that is not root's alone, or missing, verifies nothing (202)" {
        local verifier=$GX_PREFIX/libexec/glexec-ng/glexec-verify
        write_config mapping
        voms_files
        rm -rf "$GX_PREFIX/var/cache/glexec-ng"
        chmod 0775 "$verifier"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        chmod 0755 "$verifier"
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"glexec: credential verifier"* ]]
        mv "$verifier" "$verifier.away"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        mv "$verifier.away" "$verifier"
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"glexec: credential verifier"* ]]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "mapping: map file lines in the full and the short FQAN form match the same FQANs" {
        write_config mapping
        local long='"/atlas/Role=NULL/Capability=NULL" atlas007'
        local short='"/atlas" atlas007'
        for line in "$long" "$short"; do
                # The first FQAN, /atlas/Role=production, matches no line: the second does.
                echo "$line" | site_file voms-grid-mapfile
                printf '%s\n' '"/atlas/Role=production/Capability=NULL" atlasprd' \
                        '"/atlas/higgs/Role=NULL" atlas' | site_file groupmapfile
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
                echo "$line: $output"
                [ "$status" -eq 0 ]
                [ "$output" = "10007 2001 2001,2000 atlas007 atlas007" ]
        done
        # A pattern over the VO matches the bare VO FQAN (/dteam alone) too, as LCMAPS's
        # full form /dteam/Role=NULL/Capability=NULL did.
        echo '"/dteam/*" atlas008' | site_file voms-grid-mapfile
        : | site_file groupmapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_certfallback)" -- "${ID_CMD[@]}"
        [ "$status" -eq 0 ]
        [ "$output" = "10008 2000 2000 atlas008 atlas008" ]
        # A role pattern does not match the FQAN without a role.
        echo '"/dteam/Role=lcgadmin" atlas009' | site_file voms-grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_certfallback)" -- "${ID_CMD[@]}"
        [ "$status" -eq 203 ]
}

@test "mapping: FQAN mappings come before DN mappings, and accounts before pools" {
        write_config mapping
        make_pool 4
        # Pool lines first in each file: a static account still wins.
        printf '%s\n' "\"$ALICE_DN\" .atlas" "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        printf '%s\n' '"/atlas/higgs" .atlas' '"/atlas/higgs/Role=NULL/Capability=NULL" atlas050' |
                site_file voms-grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "10050 2000 2000 atlas050 atlas050" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "5001 5001 5001 alicea alicea" ]
        # No lease was taken.
        [ "$(n_entries '%*')" -eq 0 ]
}

@test "mapping: a pool lease is a hard link with LCMAPS's name; the same DN gets it back" {
        write_config mapping
        make_pool 64
        printf '%s\n' "\"$ALICE_DN\" .atlas" '"/DC=org/DC=glexec-test/OU=Many/*" .atlas' |
                site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 0 ]
        local acct=$output
        [[ "$acct" =~ ^atlas0[0-6][0-9]$ ]]
        [ -f "$GMD/$ALICE_LEASE" ]
        [ "$(stat -c %h "$GMD/$ALICE_LEASE")" -eq 2 ]
        [ "$(stat -c %i "$GMD/$ALICE_LEASE")" = "$(stat -c %i "$GMD/$acct")" ]

        # The same DN, from another proxy of Alice, again and again.
        for p in valid valid_2level valid; do
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy $p)" -- /usr/bin/id -un
                [ "$status" -eq 0 ]
                [ "$output" = "$acct" ]
        done
        # Another DN gets another account.
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 01)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^atlas0[0-6][0-9]$ ]]
        [ "$output" != "$acct" ]
        local lease01
        lease01=$(lcmaps_encode "$(many_dn 01)")
        [ "$(stat -c %i "$GMD/$lease01")" = "$(stat -c %i "$GMD/$output")" ]
        # Two leases, no claim left behind, every other account still free.
        [ "$(n_entries '%*')" -eq 2 ]
        [ "$(find "$GMD" -name 'atlas*' -links 1 | wc -l)" -eq 62 ]
}

@test "mapping: a lease LCMAPS made is honoured, and using it refreshes its time" {
        write_config mapping
        make_pool 8
        ln "$GMD/atlas005" "$GMD/$ALICE_LEASE"
        touch -d '40 days ago' "$GMD/$ALICE_LEASE"
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        [ "$output" = atlas005 ]
        # Sites expire leases unused for a while by their mtime (find -links 2 -mtime +N).
        [ -z "$(find "$GMD" -links 2 -mtime +1)" ]
}

@test "mapping: a lease outside the pool is refused (203), a lease without an account is 202" {
        write_config mapping
        make_pool 2
        : >"$GMD/other001"
        # Never leased: a pool entry that is not a regular file.
        rm "$GMD/atlas001"
        ln -s /etc/passwd "$GMD/atlas001"
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        ln "$GMD/other001" "$GMD/$ALICE_LEASE"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 203 ]
        [ "$output" = "glexec: not authorized" ]
        [[ "$(last_audit | json_get '["reason"]')" == *"not in pool .atlas"* ]]
        rm "$GMD/$ALICE_LEASE"
        : >"$GMD/$ALICE_LEASE"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 202 ]
        rm "$GMD/$ALICE_LEASE"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        [ "$output" = atlas002 ]
        [ "$(stat -c %h "$GMD/other001")" -eq 1 ]
        # The pool is now exhausted: the symlink is not an account.
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 07)" -- /usr/bin/id -un
        [ "$status" -eq 203 ]
        [ "$(stat -c %h /etc/passwd)" -eq 1 ]
}

@test "mapping: UTF-8 and quotes in DNs match raw and \\x-escaped lines and lease as LCMAPS" {
        write_config mapping
        local dn
        dn=$(many_dn 65)
        [[ "$dn" == *José* ]]
        local raw=${dn//\"/\\\"}
        echo "\"$raw\" alicea" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 65)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = alicea ]
        [ "$(last_audit | json_get '["identity"]["dn"]')" = "$(oneline "$dn")" ]
        site_file grid-mapfile <<'EOF'
"/DC=org/DC=glexec-test/OU=Many/CN=Jos\xc3\xa9 \"Pepe\" M\xC3\xBCller" atlas033
EOF
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 65)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        [ "$output" = atlas033 ]
        # A pool lease under the name LCMAPS gave the same DN (from X509_NAME_oneline).
        make_pool 4
        echo '"/DC=org/DC=glexec-test/OU=Many/*" .atlas' | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 65)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        local lease=%2fdc%3dorg%2fdc%3dglexec%2dtest%2fou%3dmany%2f
        lease+=cn%3djos%5cxc3%5cxa9%20%22pepe%22%20m%5cxc3%5cxbcller
        [ "$(stat -c %i "$GMD/$lease")" = "$(stat -c %i "$GMD/$output")" ]
        [ "$lease" = "$(lcmaps_encode "$(oneline "$dn")")" ]
        # A lease name longer than NAME_MAX becomes a hash of it.
        local long
        long=$(lcmaps_encode "$(many_dn 66)")
        [ "${#long}" -gt 255 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 66)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 0 ]
        local acct=$output
        lease=%sha256:$(printf '%s' "$long" | sha256sum | cut -d' ' -f1)
        [ "$(stat -c %i "$GMD/$lease")" = "$(stat -c %i "$GMD/$acct")" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 66)" -- /usr/bin/id -un
        [ "$output" = "$acct" ]
}

@test "mapping: the gridmapdir can be hidden from the payload" {
        write_config mapping sandbox.hide_paths="$GMD"
        make_pool 2
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c "id -un; ls -A '$GMD'"
        echo "$output"
        [ "$status" -ne 0 ]
        [ "$(stat -c %i "$GMD/$ALICE_LEASE")" = "$(stat -c %i "$GMD/${lines[0]}")" ]
        [[ "$output" != *%2f* ]]
}

@test "mapping: a VOMS pool lease is keyed by the DN and the groupmapfile groups" {
        write_config mapping
        make_pool 8
        echo '"/atlas" .atlas' | site_file voms-grid-mapfile
        printf '%s\n' '"/atlas/Role=production" atlasprd' '"/atlas" atlas' | site_file groupmapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        local acct=${output##* }
        [[ "$output" =~ ^1000[1-8]\ 2001\ 2001,2000\ atlas00[1-8]\ atlas00[1-8]$ ]]
        local lease=$GMD/${ALICE_LEASE}%3aatlasprd%3aatlas
        [ "$(stat -c %i "$lease")" = "$(stat -c %i "$GMD/$acct")" ]
        # Alice without VOMS is not mapped by the VOMS pool line.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        [ "$status" -eq 203 ]
}

@test "mapping: 64 concurrent launches of 64 DNs lease 64 distinct accounts, no lease broken" {
        write_config mapping
        make_pool 64
        echo '"/DC=org/DC=glexec-test/OU=Many/*" .atlas' | site_file grid-mapfile
        mkdir -p "$T/c"
        local nn
        for nn in $(seq -w 1 64); do
                many_proxy "$nn" >/dev/null
        done
        for nn in $(seq -w 1 64); do
                (
                        while [ ! -e "$T/c/go" ]; do sleep 0.02; done
                        st=0
                        as_pilot GLEXEC_CLIENT_CERT="$PILOT_HOME/many$nn.pem" -- /usr/bin/id -un \
                                >"$T/c/$nn.out" 2>&1 || st=$?
                        echo "$st" >"$T/c/$nn.rc"
                ) &
        done
        touch "$T/c/go"
        wait
        for nn in $(seq -w 1 64); do
                echo "$nn: $(cat "$T/c/$nn.rc") $(cat "$T/c/$nn.out")"
        done
        ls -li "$GMD"
        for nn in $(seq -w 1 64); do
                [ "$(cat "$T/c/$nn.rc")" -eq 0 ]
                [[ "$(cat "$T/c/$nn.out")" =~ ^atlas0[0-6][0-9]$ ]]
                # The account the payload ran as is the one its DN's lease names.
                [ "$(stat -c %i "$GMD/$(lcmaps_encode "$(many_dn "$nn")")")" = \
                        "$(stat -c %i "$GMD/$(cat "$T/c/$nn.out")")" ]
        done
        [ "$(cat "$T/c"/*.out | sort -u | wc -l)" -eq 64 ]
        # Every account leased exactly once: 64 leases, all accounts at link count 2, no claims.
        [ "$(n_entries '%2f*')" -eq 64 ]
        [ "$(n_entries '*')" -eq 128 ]
        [ "$(find "$GMD" -type f -links 2 | wc -l)" -eq 128 ]
        # A 65th DN finds the pool exhausted.
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        [ "$status" -eq 203 ]
        [[ "$output" == "glexec: not authorized: no free pool account"* ]]
}

@test "mapping: concurrent first launches of one DN agree on one lease" {
        write_config mapping
        make_pool 64
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        mkdir -p "$T/c"
        local i
        for i in $(seq 16); do
                (
                        while [ ! -e "$T/c/go" ]; do sleep 0.02; done
                        st=0
                        as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un \
                                >"$T/c/$i.out" 2>&1 || st=$?
                        echo "$st" >"$T/c/$i.rc"
                ) &
        done
        touch "$T/c/go"
        wait
        cat "$T/c"/*.out
        [ "$(cat "$T/c"/*.rc | sort -u)" = 0 ]
        [ "$(cat "$T/c"/*.out | sort -u | wc -l)" -eq 1 ]
        [ "$(n_entries '%*')" -eq 1 ]
        [ "$(find "$GMD" -name 'atlas*' -links 1 | wc -l)" -eq 63 ]
        [ "$(stat -c %i "$GMD/$ALICE_LEASE")" = "$(stat -c %i "$GMD/$(cat "$T/c/1.out")")" ]
}

@test "mapping: no mapping is 203; no map file at all is a configuration error (202)" {
        write_config mapping
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 01)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 203 ]
        [ "$output" = "glexec: not authorized" ]
        [ "$(last_audit | json_get '["event"]')" = deny ]
        [ "$(last_audit | json_get '["identity"]["dn"]')" = "$(many_dn 01)" ]
        # A VOMS proxy whose FQANs map nowhere is mapped by its DN; with neither, 203.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_certfallback)" -- /bin/true
        [ "$status" -eq 0 ]
        echo '"/atlas" atlas001' | site_file voms-grid-mapfile
        : | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_certfallback)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 203 ]
        [[ "$output" != *RAN* ]]
        rm "$GSEC/grid-mapfile" "$GSEC/voms-grid-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" != *RAN* ]]
}

@test "mapping: map file details: comments, CRLF, unquoted DNs, account lists, own groups" {
        write_config mapping
        printf '%s\r\n' '# generated' '' "\"$(many_dn 08)\" nosuchuser" \
                "\"$ALICE_DN\" pilot , alicea  # the first one counts" \
                "$(many_dn 67) atlas009" | site_file grid-mapfile
        # pilot's own memberships (glexecpilots) come along when no groupmapfile group applies.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${ID_CMD[@]}"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "4001 4001 4001,4500 pilot pilot" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 67)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        [ "$output" = atlas009 ]
        # A mapping to an account that does not exist is the site's error.
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 08)" -- /bin/true
        [ "$status" -eq 202 ]
}

@test "mapping: a broken mapping setup is a system error (202)" {
        write_config mapping
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        make_pool 2
        # The gridmapdir writable by others.
        chmod 0777 "$GMD"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *gridmapdir* ]]
        chmod 0755 "$GMD"
        # A pool without accounts.
        rm "$GMD"/atlas*
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        # A syntax error names the file and line.
        printf '%s\n' '# x' '"/DC=org unterminated alicea' | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"$GSEC/grid-mapfile:2:"* ]]
        # A groupmapfile group that does not exist: the message names the groupmapfile line.
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        printf '%s\n' '"/atlas/Role=production" atlasprd' '"/atlas" nosuchgroup' |
                site_file groupmapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"groupmapfile $GSEC/groupmapfile:1,2: group nosuchgroup"* ]]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "mapping: a map file the pilot could write is refused (202)" {
        write_config mapping
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        chmod 0666 "$GSEC/grid-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
        chmod 0644 "$GSEC/grid-mapfile"
        chown pilot "$GSEC/grid-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/true
        [ "$status" -eq 202 ]
}

@test "mapping: an account below min_uid is refused (203)" {
        write_config mapping
        echo "\"$ALICE_DN\" lowuid" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 203 ]
        [ "$output" = "glexec: not authorized" ]
        write_config mapping mapping.min_uid=500
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${ID_CMD[@]}"
        [ "$status" -eq 0 ]
        [ "$output" = "500 500 500 lowuid lowuid" ]
        # Root is never a target, whatever min_uid says.
        echo "\"$ALICE_DN\" root" | site_file grid-mapfile
        write_config mapping mapping.min_uid=0
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 203 ]
        [[ "$output" != *RAN* ]]
}

@test "mapping: --map-only prints the mapping and runs nothing; GLEXEC_MODE with a command runs" {
        write_config mapping
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        voms_files
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --map-only
        [ "$status" -eq 0 ]
        [ "$output" = "alicea 5001 5001 5001" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- --map-only
        [ "$status" -eq 0 ]
        [ "$output" = "alicea 5001 2001 2001,2000" ]
        [ -z "$(ls -A "$T/sandbox")" ]
        # With a command, GLEXEC_MODE=lcmaps_get_account is an ordinary run.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" GLEXEC_MODE=lcmaps_get_account -- \
                "${ID_CMD[@]}"
        [ "$status" -eq 0 ]
        [ "$output" = "5001 2001 2001,2000 alicea alicea" ]
        # A pool mapping leases in --map-only too, and the lease is then used by the run.
        make_pool 4
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --map-only
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^atlas00[1-4]\ 1000[1-4]\ 2000\ 2000$ ]]
        local acct=${output%% *}
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        [ "$output" = "$acct" ]
        # Refusals are the same as for a run.
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 02)" -- --map-only
        [ "$status" -eq 203 ]
}

@test "GLEXEC_MODE=lcmaps_get_account without a command prints the mapping, in both modes" {
        write_config mapping
        voms_files
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" GLEXEC_MODE=lcmaps_get_account --
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "alicea 5001 2001 2001,2000" ]
        write_config site-isolation
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" GLEXEC_MODE=lcmaps_get_account --
        [ "$status" -eq 0 ]
        [ "$output" = "gxnobody 4100 4100 4100" ]
        [ -z "$(ls -A "$T/sandbox")" ]
        # Any other value is no request: without a command, that is a client error.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" GLEXEC_MODE=other --
        [ "$status" -eq 201 ]
}

@test "mapping: the pilot cannot read the payload's files" {
        write_config mapping
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        check_pilot_locked_out alicea
}

@test "mapping: the audit records and the report carry the identity and the target" {
        write_config mapping
        voms_files
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- --report-fd 3 /bin/true \
                3>"$T/report"
        [ "$status" -eq 0 ]
        check_identity_target "$(cat "$T/report")" alicea 5001 2001 "[2001, 2000]" "$VOMS_FQANS"
        check_identity_target "$(last_audit)" alicea 5001 2001 "[2001, 2000]" "$VOMS_FQANS"
        [ "$(last_audit | json_get '["event"]')" = end ]
        [ "$(last_audit | json_get '["mode"]')" = mapping ]
        check_identity_target "$(tail -n 2 "$AUDIT" | head -n 1)" alicea 5001 2001 "[2001, 2000]" \
                "$VOMS_FQANS"
        [ "$(audit_chain_ok)" -eq 2 ]
}

# ---- both modes -------------------------------------------------------------------------

# check_identity_target JSON USER UID GID GROUPS FQANS
check_identity_target() {
        local j=$1
        [ "$(echo "$j" | json_get '["identity"]["dn"]')" = "$ALICE_DN" ]
        [ "$(echo "$j" | json_get '["identity"]["issuer"]')" = "$CA_DN" ]
        [ "$(echo "$j" | json_get '["identity"]["fqans"]')" = "$6" ]
        [ "$(echo "$j" | json_get '["identity"]["token"]')" = null ]
        [ "$(echo "$j" | json_get '["target"]["user"]')" = "$2" ]
        [ "$(echo "$j" | json_get '["target"]["uid"]')" = "$3" ]
        [ "$(echo "$j" | json_get '["target"]["gid"]')" = "$4" ]
        [ "$(echo "$j" | json_get '["target"]["groups"]')" = "$5" ]
}

# Configuration for MODE in which Alice is mapped to alicea (and so authorized).
mapped_site() {
        local mode=$1
        shift
        write_config "$mode" "$@"
        echo "\"$ALICE_DN\" alicea" | site_file grid-mapfile
        echo '"/atlas/higgs" alicea' | site_file voms-grid-mapfile
}

@test "mapping: the payload has the target's HOME, USER and LOGNAME" {
        mapped_site mapping
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c \
                'echo "$HOME|$USER|$LOGNAME"'
        [ "$status" -eq 0 ]
        [ "$output" = "/nonexistent|alicea|alicea" ]
}

check_ban_dn() {
        printf '%s\n' '# banned' "\"/DC=org/DC=glexec-test/OU=Many/CN=Many User 02\"" \
                "\"$ALICE_DN\"" | site_file ban-mapfile
        mapped_site "$1" mapping.ban_file="$GSEC/ban-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 203 ]
        [ "$output" = "glexec: not authorized" ]
        [ "$(last_audit | json_get '["event"]')" = deny ]
        [ "$(last_audit | json_get '["identity"]["dn"]')" = "$ALICE_DN" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- --map-only
        [ "$status" -eq 203 ]
        # The ban comes before the command is looked for: refused and audited all the same.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /no/such/command
        [ "$status" -eq 203 ]
        [ "$(last_audit | json_get '["event"]')" = deny ]
        # A pattern bans a whole branch; another DN passes.
        echo '"/DC=org/DC=glexec-test/OU=People/*"' | site_file ban-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 203 ]
        : | site_file ban-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 0 ]
        [ "$output" = RAN ]
}

check_ban_fqan() {
        mapped_site "$1" mapping.ban_file="$GSEC/ban-mapfile"
        # Each form of an FQAN bans the VOMS proxy, and only it.
        for ban in '"/atlas/higgs"' '"/atlas/higgs/Role=NULL/Capability=NULL"' \
                '"/atlas/Role=NULL/Capability=NULL"' '"/atlas/Role=production"' '"/atlas/*"'; do
                echo "$ban" | site_file ban-mapfile
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/sh -c 'echo RAN'
                echo "$ban: $status $output"
                [ "$status" -eq 203 ]
                [ "$output" = "glexec: not authorized" ]
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
                [ "$status" -eq 0 ]
        done
        # An FQAN the proxy does not hold bans nothing.
        echo '"/atlas/Role=lcgadmin"' | site_file ban-mapfile
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 0 ]
}

check_ban_missing() {
        mapped_site "$1" mapping.ban_file="$GSEC/ban-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == glexec:*ban* ]]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --map-only
        [ "$status" -eq 202 ]
        # Present but writable by others is no better.
        : | site_file ban-mapfile
        chmod 0646 "$GSEC/ban-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 202 ]
        chmod 0644 "$GSEC/ban-mapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        [ "$status" -eq 0 ]
}

check_executables() {
        # Entries through a symlinked directory (as /bin is on a merged /usr) are resolved
        # like the command: $T/bin/env allows /usr/bin/env.
        ln -s /usr/bin "$T/bin"
        mapped_site "$1" "mapping.allowed_executables=/usr/bin/id, $T/bin/env, /usr/lib/*/x"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/id -un
        echo "$output"
        [ "$status" -eq 0 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /usr/bin/env true
        [ "$status" -eq 0 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$T/bin/env" true
        [ "$status" -eq 0 ]
        # Found in PATH, then checked.
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- id -un
        [ "$status" -eq 0 ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 203 ]
        [[ "$output" == "glexec: not authorized"* ]]
        [[ "$output" != *RAN* ]]
        # The command is matched with its path resolved: "..", "." and doubled slashes name
        # the listed file and run it; a link to another file is that other file.
        for p in /usr/bin/../bin/id /usr/bin/./id /usr//bin/id; do
                run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$p" -un
                echo "$p: $status $output"
                [ "$status" -eq 0 ]
        done
        ln -s /bin/sh "$T/id"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "$T/id" -c 'echo RAN'
        [ "$status" -eq 203 ]
        [[ "$output" != *RAN* ]]
}

@test "mapping: a banned DN is refused (203) and audited" {
        check_ban_dn mapping
}

@test "site-isolation: a banned DN is refused (203) and audited" {
        check_ban_dn site-isolation
}

@test "mapping: a banned FQAN is refused (203), in every FQAN form" {
        check_ban_fqan mapping
}

@test "site-isolation: a banned FQAN is refused (203), in every FQAN form" {
        check_ban_fqan site-isolation
}

@test "mapping: a configured ban file that is missing is a system error (202)" {
        check_ban_missing mapping
}

@test "site-isolation: a configured ban file that is missing is a system error (202)" {
        check_ban_missing site-isolation
}

@test "mapping: allowed_executables admits listed paths and refuses others (203)" {
        check_executables mapping
}

@test "site-isolation: allowed_executables admits listed paths and refuses others (203)" {
        check_executables site-isolation
}

# ---- site-isolation ---------------------------------------------------------------------

@test "site-isolation: every payload runs as the isolation account, whatever the DN" {
        # Map files that would map Alice elsewhere are not consulted; no lease is taken.
        write_config site-isolation
        make_pool 4
        echo "\"$ALICE_DN\" .atlas" | site_file grid-mapfile
        voms_files
        for p in "$(proxy valid)" "$(proxy voms_good)" "$(many_proxy 04)" "$(many_proxy 05)"; do
                run as_pilot GLEXEC_CLIENT_CERT="$p" -- "${ID_CMD[@]}"
                echo "$p: $output"
                [ "$status" -eq 0 ]
                [ "$output" = "4100 4100 4100 gxnobody gxnobody" ]
        done
        [ "$(n_entries '%*')" -eq 0 ]
        # No map files at all: still gxnobody.
        rm "$GSEC/grid-mapfile" "$GSEC/voms-grid-mapfile" "$GSEC/groupmapfile"
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${ID_CMD[@]}"
        [ "$status" -eq 0 ]
        [ "$output" = "4100 4100 4100 gxnobody gxnobody" ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- --map-only
        [ "$status" -eq 0 ]
        [ "$output" = "gxnobody 4100 4100 4100" ]
}

@test "site-isolation: an isolation account below min_uid, or missing, runs nothing" {
        write_config site-isolation glexec.isolation_account=lowuid
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -ne 0 ]
        [[ "$output" != *RAN* ]]
        write_config site-isolation glexec.isolation_account=nosuchaccount
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- /bin/sh -c 'echo RAN'
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" != *RAN* ]]
}

# The payload writes a file in its sandbox; while it runs, the pilot cannot list the sandbox
# nor read the file, though the payload made it world-readable.
check_pilot_locked_out() {
        local user=$1
        spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${HOLD_CMD[@]}" \
                "$T/release"
        wait_for_line "$T/out" ready
        local sb
        sb=$(head -n 1 "$T/out")
        [[ "$sb" == "$T/sandbox/"* ]]
        [ "$(stat -c '%U %a' "$sb")" = "$user 700" ]
        [ "$(cat "$sb/secret")" = s3cret ] # it is there
        run pilot_cmd cat "$sb/secret"
        echo "$output"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Permission denied"* ]]
        run pilot_cmd ls "$sb"
        [ "$status" -ne 0 ]
        # Nor the payload's copy of the proxy.
        run pilot_cmd cat "$sb/x509up_u$(id -u "$user")"
        [ "$status" -ne 0 ]
        touch "$T/release"
        local st=0
        wait "$GX_PID" || st=$?
        [ "$st" -eq 0 ]
}

@test "site-isolation: the pilot cannot read the payload's files" {
        write_config site-isolation
        check_pilot_locked_out gxnobody
}

@test "site-isolation: two concurrent payloads cannot see each other's sandbox" {
        write_config site-isolation
        spawn_as_pilot "$T/out" GLEXEC_CLIENT_CERT="$(proxy valid)" -- "${HOLD_CMD[@]}" \
                "$T/release"
        wait_for_line "$T/out" ready
        local sb
        sb=$(head -n 1 "$T/out")
        [[ "$sb" == "$T/sandbox/"* ]]
        # Same uid, so only the mount namespace stands between them.
        run as_pilot GLEXEC_CLIENT_CERT="$(many_proxy 06)" -- /bin/sh -c '
                id -u; pwd; ls -A "$(dirname "$PWD")"; cat "$1/secret"; ls "$1"
                echo mine >"$1/../planted" || echo no-plant' sh "$sb"
        echo "$output"
        [ "${lines[0]}" = 4100 ]
        local own=${lines[1]}
        [ "$own" != "$sb" ]
        [ "${lines[2]}" = "$(basename "$own")" ]
        [[ "$output" != *s3cret* ]]
        [[ "$output" == *no-plant* ]]
        [ ! -e "$T/sandbox/planted" ]
        # The first one, too, sees only itself.
        touch "$T/release"
        wait "$GX_PID"
        cat "$T/out"
        [ "$(sed -n 3p "$T/out")" = "$(basename "$sb")" ]
        [ "$(wc -l <"$T/out")" -eq 3 ]
        [ "$(ls -A "$T/sandbox")" = "" ]
}

@test "site-isolation: the audit records and the report carry the identity and the target" {
        write_config site-isolation
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy voms_good)" -- --report-fd 3 /bin/true \
                3>"$T/report"
        [ "$status" -eq 0 ]
        check_identity_target "$(cat "$T/report")" gxnobody 4100 4100 "[4100]" "$VOMS_FQANS"
        check_identity_target "$(last_audit)" gxnobody 4100 4100 "[4100]" "$VOMS_FQANS"
        [ "$(last_audit | json_get '["mode"]')" = site-isolation ]
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" -- --report-fd 3 /bin/true 3>"$T/report"
        [ "$status" -eq 0 ]
        check_identity_target "$(cat "$T/report")" gxnobody 4100 4100 "[4100]" "[]"
}
