#!/bin/bash
# Usage: tests/packaging/test-man.sh [SOURCE_DIR]
#
# The manual pages against the code they document:
# - glexec.conf(5) documents exactly the keys of launcher/config.c, each in its section, and
#   gives as default the value of conf/glexec.conf for every key the file does not mark "site";
# - glexec(8) documents exactly the long options of launcher/cli.c;
# - every page renders without a warning from scdoc and groff (and man, where installed).
# Exit status: 0 pass, 1 fail, 77 skip (scdoc or groff missing, and CI not set).
set -euo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
man=$src/packaging/man
failures=0

fail() {
        printf 'FAIL: %s\n' "$*"
        failures=$((failures + 1))
}

# "section key" of every key in the key table of config.c.
code_keys() {
        sed -nE 's/^[[:space:]]*(K|KMAX)\("([a-z]+)", ([a-z_]+),.*/\2 \3/p;
                 s/^[[:space:]]*\{"([a-z]+)", "([a-z_]+)",.*/\1 \2/p' "$src/launcher/config.c" | sort
}

# "section key default" of every key entry in glexec.conf.5.scd; markup around the default
# is removed, "empty" stays.
man_keys() {
        awk '
                function flush() {
                        if (key == "")
                                return
                        d = text
                        if (!sub(/.*Default:[[:space:]]*/, "", d))
                                d = "(none)"
                        sub(/\.[[:space:]]*$/, "", d)
                        if (d ~ /^\*.*\*$/ || d ~ /^_.*_$/)
                                d = substr(d, 2, length(d) - 2)
                        print section, key, d
                        key = ""
                }
                /^# SECTION \[[a-z]+\]/ { flush(); section = substr($3, 2, length($3) - 2); next }
                /^# / { flush(); section = ""; next }
                section != "" && /^\*[a-z_]+\* = / {
                        flush(); key = substr($1, 2, length($1) - 2); text = ""; next
                }
                /^\t/ { text = text " " substr($0, 2); next }
                /^$/ { flush() }
                END { flush() }
        ' "$man/glexec.conf.5.scd" | sort
}

# "section key value" of conf/glexec.conf for keys whose comment does not start with "site".
conf_defaults() {
        awk '
                /^\[[a-z]+\]/ { section = substr($1, 2, length($1) - 2); next }
                /^[a-z_]+[[:space:]]*=/ {
                        line = $0
                        comment = ""
                        if (match(line, /[[:space:]][#;]/)) {
                                comment = substr(line, RSTART + 2)
                                line = substr(line, 1, RSTART - 1)
                        }
                        if (comment ~ /^[[:space:]]*site/)
                                next
                        key = line; sub(/[[:space:]]*=.*/, "", key)
                        value = line; sub(/^[^=]*=[[:space:]]*/, "", value); sub(/[[:space:]]+$/, "", value)
                        print section, key, (value == "" ? "empty" : value)
                }
        ' "$src/conf/glexec.conf" | sort
}

documented=$(man_keys | cut -d' ' -f1,2)
if ! diff_out=$(diff <(code_keys) <(echo "$documented")); then
        fail "glexec.conf.5.scd and launcher/config.c differ in keys (< code only, > page only):"
        echo "$diff_out"
fi
while read -r section key value; do
        documented_default=$(man_keys | awk -v s="$section" -v k="$key" '$1 == s && $2 == k { $1 = $2 = ""; sub(/^  /, ""); print }')
        [[ -z $documented_default || $documented_default == "$value" ]] ||
                fail "[$section] $key: glexec.conf.5.scd says default '$documented_default', conf/glexec.conf '$value'"
done < <(conf_defaults)

code_options=$(sed -nE 's/^[[:space:]]*\{"([a-z-]+)", .*/\1/p' "$src/launcher/cli.c" | sort)
page_options=$(grep -E '^\*-' "$man/glexec.8.scd" | grep -oE '\*--[a-z-]+\*' | sed -E 's/^\*--//; s/\*$//' | sort)
if ! diff_out=$(diff <(echo "$code_options") <(echo "$page_options")); then
        fail "glexec.8.scd and launcher/cli.c differ in long options (< code only, > page only):"
        echo "$diff_out"
fi

missing=()
for tool in scdoc groff; do
        command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
        [[ $failures -eq 0 ]] || exit 1
        echo "missing ${missing[*]} (Debian: scdoc groff-base): pages not rendered"
        [[ -n ${CI:-} ]] && exit 1
        exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for scd in "$man"/*.scd; do
        page=$(basename "$scd" .scd)
        if ! sed 's/@PROJECT_VERSION@/0.0.0/' "$scd" | scdoc > "$work/$page" 2> "$work/err"; then
                fail "scdoc $page: $(cat "$work/err")"
                continue
        fi
        groff -ww -z -man "$work/$page" 2> "$work/err" || true
        if [[ ! -s $work/err ]] && command -v man >/dev/null; then
                LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$work/$page" 2> "$work/err" >/dev/null || true
        fi
        [[ -s $work/err ]] && fail "$page renders with warnings: $(cat "$work/err")"
done

[[ $failures -eq 0 ]] || exit 1
pages=("$man"/*.scd)
echo "PASS: $(echo "$documented" | wc -l) keys, $(echo "$page_options" | wc -l) options, ${#pages[@]} pages"
