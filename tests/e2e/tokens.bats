#!/usr/bin/env bats
# WLCG JWT bearer tokens as the payload owner's credential (GLEXEC_CLIENT_TOKEN), in every
# mode, with every verification rule broken once (tests/fixtures/make-tokens.sh).

load helpers

# Tokens are made per file: their times are relative to when they are made.
setup_file() {
        export GX_TOK=$BATS_FILE_TMPDIR/tok
        "$GX_SRC/tests/fixtures/make-tokens.sh" "$GX_TOK" >"$BATS_FILE_TMPDIR/make-tokens.log"
}

RSA_ISS=https://issuer.example/rsa
EC_ISS=https://issuer.example/ec

setup() {
        setup_site
        local gs=$T/grid-security
        cp "$GX_TOK/jwks-rsa.json" "$GX_TOK/jwks-ec.json" "$gs/"
        sed -e "s#\"$RSA_ISS\" .*#\"$RSA_ISS\" $gs/jwks-rsa.json#" \
            -e "s#\"$EC_ISS\" .*#\"$EC_ISS\" $gs/jwks-ec.json#" \
                "$GX_TOK/issuers.conf" >"$gs/token-issuers.conf"
        chmod 0644 "$gs"/*.json "$gs/token-issuers.conf"
        mkdir -p "$PILOT_HOME/tok"
        cp "$GX_TOK"/tokens/*.jwt "$PILOT_HOME/tok/"
        chown -R pilot:pilot "$PILOT_HOME/tok"
        chmod 0700 "$PILOT_HOME/tok"
        chmod 0600 "$PILOT_HOME"/tok/*.jwt
        write_token_config declare-only
}

write_token_config() {
        local mode=$1
        shift
        write_config "$mode" credentials.token_audience=https://wn01.example \
                credentials.token_accept_any_audience=no "$@"
}

token() {
        echo "$PILOT_HOME/tok/$1.jwt"
}

@test "good RS256 and ES256 tokens run the payload with its own copy in BEARER_TOKEN_FILE" {
        for name in good_rs256 good_es256; do
                run as_pilot GLEXEC_CLIENT_TOKEN="$(token $name)" -- /bin/sh -c \
                        'stat -c "%U %a" "$BEARER_TOKEN_FILE"; cat "$BEARER_TOKEN_FILE"; echo
                         cat "$GLEXEC_CLIENT_TOKEN" 2>/dev/null | wc -c; env'
                echo "$name: $output"
                [ "$status" -eq 0 ]
                [ "${lines[0]}" = "pilot 600" ]
                [ "${lines[1]}" = "$(cat "$(token $name)")" ]
                [[ "$output" == *BEARER_TOKEN_FILE=$T/sandbox/* ]]
                # The caller's path passes like every GLEXEC_ variable; its file is covered.
                [[ "$output" == *GLEXEC_CLIENT_TOKEN="$(token $name)"* ]]
                [ "${lines[2]}" = 0 ]
        done
}

@test "every broken token is refused (203) with the failed check named, never the token" {
        local n=0
        while IFS=$'\t' read -r name verdict _; do
                case "$name" in '#'* | '') continue ;; esac
                [ "$verdict" = deny ] || continue
                run as_pilot GLEXEC_CLIENT_TOKEN="$(token "$name")" -- /bin/true
                echo "$name: $status $output"
                [ "$status" -eq 203 ]
                [[ "$output" == "glexec: "* ]]
                [[ "$output" != *"$(head -c 40 "$(token "$name")")"* ]]
                n=$((n + 1))
        done <"$GX_TOK/expect.tsv"
        [ "$n" -ge 30 ]
        [ "$(last_audit | json_get '["event"]')" = deny ]
}

@test "the verdicts agree with expect.tsv for the accepted tokens" {
        while IFS=$'\t' read -r name verdict sub iss; do
                case "$name" in '#'* | '') continue ;; esac
                [ "$verdict" = ok ] || continue
                run as_pilot GLEXEC_CLIENT_TOKEN="$(token "$name")" -- --report-fd 3 /bin/true \
                        3>"$T/report"
                echo "$name: $status $output"
                [ "$status" -eq 0 ]
                [ "$(json_get '["identity"]["token"]["sub"]' <"$T/report")" = "$sub" ]
                [ "$(json_get '["identity"]["token"]["iss"]' <"$T/report")" = "$iss" ]
        done <"$GX_TOK/expect.tsv"
}

@test "the any-audience value is accepted only when token_accept_any_audience = yes" {
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token no_aud_match_any_disabled)" -- /bin/true
        [ "$status" -eq 203 ]
        write_token_config declare-only credentials.token_accept_any_audience=yes
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token no_aud_match_any_disabled)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "a token file with group or other permissions is refused (201)" {
        chmod 0640 "$(token good_rs256)"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 201 ]
}

@test "an issuers file the pilot could write is a system error (202)" {
        chown pilot "$T/grid-security/token-issuers.conf"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 202 ]
}

@test "mapping mode: token mapfile by issuer and sub, audit carries identity.token" {
        echo "\"$RSA_ISS\" \"alice-7f2a9c1e\" alicea" >"$T/grid-security/token-mapfile"
        write_token_config mapping
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /usr/bin/id -u
        [ "$status" -eq 0 ]
        [ "$output" = 5001 ]
        local rec
        rec=$(last_audit)
        [ "$(echo "$rec" | json_get '["identity"]["token"]["iss"]')" = "$RSA_ISS" ]
        [ "$(echo "$rec" | json_get '["identity"]["token"]["sub"]')" = alice-7f2a9c1e ]
        [ "$(echo "$rec" | json_get '["identity"]["token"]["groups"][1]')" = /atlas/production ]
        # The X.509 keys are there too, empty (SPEC section 8 lists them all).
        [ "$(echo "$rec" | json_get '["identity"]["dn"]')" = null ]
        [ "$(echo "$rec" | json_get '["identity"]["issuer"]')" = null ]
        [ "$(echo "$rec" | json_get '["identity"]["fqans"]')" = "[]" ]
        [ "$(echo "$rec" | json_get '["target"]["user"]')" = alicea ]
}

@test "mapping mode: a group line leases a pool account keyed by issuer and sub" {
        echo "\"$EC_ISS\" \"/atlas\" .atlas" >"$T/grid-security/token-mapfile"
        for i in $(seq -w 1 64); do touch "$T/grid-security/gridmapdir/atlas0$i"; done
        write_token_config mapping
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_es256)" -- /usr/bin/id -un
        [ "$status" -eq 0 ]
        local first=$output
        [[ "$first" == atlas0* ]]
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_es256)" -- /usr/bin/id -un
        [ "$output" = "$first" ]
        ls "$T/grid-security/gridmapdir" | grep -q '^%tok:'
}

@test "mapping mode: a token without a matching mapfile line is refused (203)" {
        echo "\"$RSA_ISS\" \"somebody-else\" alicea" >"$T/grid-security/token-mapfile"
        write_token_config mapping
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 203 ]
}

@test "a ban by issuer and sub refuses the token (203)" {
        echo "\"$RSA_ISS\" \"alice-7f2a9c1e\"" >"$T/grid-security/ban-mapfile"
        write_token_config declare-only mapping.ban_file="$T/grid-security/ban-mapfile"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 203 ]
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_es256)" -- /bin/true
        [ "$status" -eq 0 ]
}

@test "site-isolation mode runs a token's payload as the isolation account" {
        write_token_config site-isolation
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /usr/bin/id -u
        [ "$status" -eq 0 ]
        [ "$output" = 4100 ]
}

@test "a proxy wins over a token when both are given" {
        run as_pilot GLEXEC_CLIENT_CERT="$(proxy valid)" GLEXEC_CLIENT_TOKEN="$(token expired)" \
                -- /bin/sh -c 'echo "${BEARER_TOKEN_FILE:-none} ${X509_USER_PROXY:+proxy}"'
        [ "$status" -eq 0 ]
        [ "$output" = "none proxy" ]
}

# The trust files a token launch read (glexec under root's strace, its setuid bit honoured,
# followed into the credential verifier).
token_launch_opened() {
        strace -f -qq -e trace=open,openat -o "$T/strace" -u pilot \
                env -i -C "$PILOT_HOME" PATH=/usr/local/bin:/usr/bin:/bin \
                GLEXEC_CLIENT_TOKEN="$(token "$1")" "$GLEXEC" /bin/true
        # O_PATH opens (the trust checks of an entry's files) read nothing.
        grep -v O_PATH "$T/strace" | grep -o '"[^"]*"' |
                grep -e 'jwks-[a-z]*\.json"$' -e 'token-issuers\.conf"$' >"$T/opened" || true
}

@test "a verified token is reused only while the issuers and JWKS files are unchanged" {
        local cache=$GX_PREFIX/var/cache/glexec-ng gs=$T/grid-security
        rm -rf "$cache"
        # Trust files changed within a second of a launch are not relied on.
        sleep 2
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 0 ]
        [ "$(find "$cache" -name 'cred-*' ! -name cred-pruned | wc -l)" -eq 1 ]
        # Used: neither file is read again; without the entry both are.
        token_launch_opened good_rs256
        cat "$T/opened"
        [ ! -s "$T/opened" ]
        rm "$cache"/cred-*
        token_launch_opened good_rs256
        grep -q 'token-issuers.conf"$' "$T/opened"
        grep -q 'jwks-rsa.json"$' "$T/opened"
        token_launch_opened good_rs256
        [ ! -s "$T/opened" ]

        # The JWKS rewritten in place without the token's key: refused at once.
        cp "$gs/jwks-rsa.json" "$T/jwks.good"
        cat "$gs/jwks-ec.json" >"$gs/jwks-rsa.json"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        echo "$output"
        [ "$status" -eq 203 ]
        cat "$T/jwks.good" >"$gs/jwks-rsa.json"
        sleep 2
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        [ "$status" -eq 0 ]
        token_launch_opened good_rs256
        [ ! -s "$T/opened" ]

        # The JWKS's directory made writable by others: a system error, as without the cache.
        chmod o+w "$gs"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        echo "$output"
        [ "$status" -eq 202 ]
        chmod o-w "$gs"

        # The issuer taken out of the issuers file, rewritten in place: refused at once.
        grep -v "^\"$RSA_ISS\"" "$gs/token-issuers.conf" >"$T/issuers"
        cat "$T/issuers" >"$gs/token-issuers.conf"
        run as_pilot GLEXEC_CLIENT_TOKEN="$(token good_rs256)" -- /bin/true
        echo "$output"
        [ "$status" -eq 203 ]
}

@test "--check-config checks the token issuers and their JWKS files through glexec-verify" {
        run "$GLEXEC" --check-config
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"configuration OK"* ]]
        echo '{"keys": [' >"$T/grid-security/jwks-ec.json"
        run "$GLEXEC" --check-config
        echo "$output"
        [ "$status" -eq 202 ]
        [[ "$output" == *"token_issuers: "*"jwks-ec.json"* ]]
}
