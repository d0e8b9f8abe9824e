#!/bin/bash
# Usage: tests/packaging/test-packages.sh [SOURCE_DIR]
#
# Builds the source tarball, the .deb and the .rpm with packaging/build.sh into a temporary
# directory and checks them: one version everywhere; modes, owners and conffiles from the
# package metadata; the same files in both packages; the manual pages; lintian and rpmlint.
# Then, as root, it installs the .deb on this machine, runs `glexec -v` as an unprivileged
# user and `glexec --check-config` as root, upgrades twice over an edited configuration (the
# edit must stay), purges, and checks that nothing of the package is left behind.
#
# The package is purged on every exit, failures included. The test refuses to start where
# glexec-ng, /usr/sbin/glexec or /etc/glexec.conf is already present.
#
# GLEXEC_INSTALLED_TEST=SCRIPT runs SCRIPT with bash while the package is installed and its
# configuration has passed --check-config (the hook for the e2e suite's declare-only launch
# with a test CA); a non-zero exit of SCRIPT fails the test.
#
# Exit status: 0 pass, 1 fail, 77 skip (a tool missing or not root, and CI not set).
set -uo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
failures=0

fail() {
        printf 'FAIL: %s\n' "$*"
        failures=$((failures + 1))
}

skip() {
        if [[ -n ${CI:-} ]]; then
                printf 'FAIL (CI is set, so no skipping): %s\n' "$*"
                exit 1
        fi
        printf 'SKIP: %s\n' "$*"
        exit 77
}

# check EXPECTED ACTUAL WHAT
check() {
        [[ $1 == "$2" ]] || fail "$3: expected '$1', got '$2'"
}

declare -A tool_package=(
        [cmake]=cmake [cpio]=cpio [dh]=debhelper [dpkg-buildpackage]=dpkg-dev [flock]=util-linux
        [groff]=groff-base [lintian]=lintian [rpm2cpio]=rpm2cpio [rpmbuild]=rpm [rpmlint]=rpmlint
        [scdoc]=scdoc [setpriv]=util-linux
)
declare -A missing=()
for tool in "${!tool_package[@]}"; do
        command -v "$tool" >/dev/null || missing[${tool_package[$tool]}]=1
done
[[ ${#missing[@]} -eq 0 ]] || skip "missing tools; apt-get install --no-install-recommends ${!missing[*]}"
[[ $EUID -eq 0 ]] || skip "needs root to install the .deb"

# Two runs at once would install over each other; the lock is on this script itself.
exec 9< "${BASH_SOURCE[0]}"
flock -w 1800 9 || { echo "FAIL: another test-packages.sh still runs"; exit 1; }

status=$(dpkg-query -W -f='${db:Status-Status}' glexec-ng 2>/dev/null)
if [[ -n $status && $status != not-installed ]]; then
        echo "FAIL: glexec-ng is already on this machine ($status); the test would replace it"
        exit 1
fi
for f in /usr/sbin/glexec /etc/glexec.conf; do
        if [[ -e $f || -L $f ]]; then
                echo "FAIL: $f exists already; the test would replace it"
                exit 1
        fi
done

work=$(mktemp -d)
we_installed=0

cleanup() {
        if [[ $we_installed == 1 ]]; then
                local st
                st=$(dpkg-query -W -f='${db:Status-Status}' glexec-ng 2>/dev/null)
                if [[ -n $st && $st != not-installed ]]; then
                        echo "cleanup: purging glexec-ng"
                        dpkg_run -P glexec-ng >/dev/null || echo "cleanup: dpkg -P glexec-ng FAILED: purge it by hand"
                fi
        fi
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# dpkg, waiting while another process (apt of a colleague) holds the dpkg lock.
dpkg_run() {
        local out rc
        for _ in $(seq 120); do
                out=$(dpkg "$@" 2>&1)
                rc=$?
                [[ $rc -ne 0 && $out == *"locked by another process"* ]] || break
                sleep 5
        done
        printf '%s\n' "$out"
        return "$rc"
}

# ---- build ----------------------------------------------------------------------------------

export DEB_BUILD_OPTIONS="nocheck${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
bash "$src/packaging/build.sh" "$work/out" > "$work/build.log" 2>&1
rc=$?
if [[ $rc -eq 3 ]]; then
        skip "$(tail -n 1 "$work/build.log")"
elif [[ $rc -ne 0 ]]; then
        tail -n 60 "$work/build.log"
        echo "FAIL: packaging/build.sh exited with $rc"
        exit 1
fi

version=$(sed -nE 's/^[[:space:]]*project\([[:space:]]*glexec-ng[[:space:]]+VERSION[[:space:]]+([0-9][0-9.]*).*/\1/p' \
        "$src/CMakeLists.txt")
tarball=$work/out/glexec-ng-$version.tar.gz
debs=("$work"/out/glexec-ng_"$version"_*.deb)
rpms=("$work"/out/glexec-ng-"$version"-*.rpm)
deb=${debs[0]}
rpm=${rpms[0]}
for f in "$tarball" "$deb" "$rpm"; do
        [[ -f $f ]] || { echo "FAIL: $f was not built (version $version)"; ls -l "$work/out"; exit 1; }
done
echo "built: ${tarball##*/} ${deb##*/} ${rpm##*/}"

# ---- source tarball -------------------------------------------------------------------------

tar -tzf "$tarball" > "$work/tarball.list"
grep -qvx "glexec-ng-$version/.*" "$work/tarball.list" && fail "tarball has entries outside glexec-ng-$version/"
for f in CMakeLists.txt packaging/build.sh packaging/debian/control packaging/rpm/glexec-ng.spec; do
        grep -qx "glexec-ng-$version/$f" "$work/tarball.list" || fail "tarball lacks $f"
done
leaked=$(grep -E "^glexec-ng-$version/(build[^/]*|\.git)/" "$work/tarball.list" | head -n 3 | xargs)
[[ -z $leaked ]] || fail "tarball contains build or .git files: $leaked"

# ---- package metadata -----------------------------------------------------------------------

check "$version" "$(dpkg-deb -f "$deb" Version)" ".deb version"
check "$version" "$(rpm -qp --qf '%{VERSION}' "$rpm" 2>/dev/null)" ".rpm version"

# "path mode owner/group" for every entry, paths without "./" and trailing "/".
dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); if (p != "") print p, $1, $2 }' |
        sort > "$work/deb.list"
rpm -qlvp "$rpm" 2>/dev/null | awk '{ print $9, $1, $3 "/" $4 }' | sort > "$work/rpm.list"

declare -A deb_entry rpm_entry
while read -r path mode owner; do deb_entry[$path]="$mode $owner"; done < "$work/deb.list"
while read -r path mode owner; do rpm_entry[$path]="$mode $owner"; done < "$work/rpm.list"

expected=(
        "/usr/sbin/glexec -rwsr-xr-x root/root"
        "/usr/libexec/glexec-ng/glexec-verify -rwxr-xr-x root/root"
        "/etc/glexec.conf -rw-r--r-- root/root"
        "/usr/bin/glexec_wrapenv -rwxr-xr-x root/root"
        "/usr/bin/glexec_unwrapenv -rwxr-xr-x root/root"
        "/usr/share/glexec-ng/seccomp drwxr-xr-x root/root"
        "/usr/share/man/man8/glexec.8.gz -rw-r--r-- root/root"
        "/usr/share/man/man5/glexec.conf.5.gz -rw-r--r-- root/root"
        "/usr/share/man/man1/glexec_wrapenv.1.gz -rw-r--r-- root/root"
        "/usr/share/man/man1/glexec_unwrapenv.1.gz -rw-r--r-- root/root"
        "/etc/grid-security/certificates drwxr-xr-x root/root"
        "/etc/grid-security/vomsdir drwxr-xr-x root/root"
        "/etc/grid-security/gridmapdir drwxr-xr-x root/root"
        "/var/lib/glexec drwxr-xr-x root/root"
        "/var/lib/glexec/sandbox drwxr-xr-x root/root"
        "/var/log/glexec drwx------ root/root"
)
for e in "${expected[@]}"; do
        read -r path want <<< "$e"
        check "$want" "${deb_entry[$path]:-(missing)}" ".deb $path"
        check "$want" "${rpm_entry[$path]:-(missing)}" ".rpm $path"
done
grep -q '^/usr/share/glexec-ng/seccomp/[^/]*\.json -rw-r--r-- root/root$' "$work/deb.list" ||
        fail ".deb has no seccomp profile /usr/share/glexec-ng/seccomp/*.json, 0644 root"

for kind in deb rpm; do
        while read -r path mode owner; do
                [[ $owner == root/root ]] || fail ".$kind $path is owned by $owner"
                [[ $mode == l* ]] && continue
                [[ ${mode:5:1} == w || ${mode:8:1} == w ]] && fail ".$kind $path is group or other writable ($mode)"
                [[ $path != /usr/sbin/glexec && ( ${mode:3:1} == [sS] || ${mode:6:1} == [sS] ) ]] &&
                        fail ".$kind $path is setuid or setgid ($mode)"
        done < "$work/$kind.list"
done

# Both packages ship the same files with the same modes: CMake installs them, and the RPM
# %files must follow. Only each format's own bookkeeping differs.
grep -v -E '^/usr/share/(doc|lintian)(/| )' "$work/deb.list" | grep -v '^[^ ]* d' > "$work/deb.files"
grep -v -E '^(/usr/lib/\.build-id|/usr/share/doc)(/| )' "$work/rpm.list" | grep -v '^[^ ]* d' > "$work/rpm.files"
if ! diff_out=$(diff "$work/deb.files" "$work/rpm.files"); then
        fail "the .deb and the .rpm differ in files (< deb, > rpm):"
        echo "$diff_out"
fi
while read -r path mode owner; do
        [[ $path == /usr/lib/.build-id* || $path == /usr/share/doc/* ]] && continue
        check "$mode $owner" "${deb_entry[$path]:-(missing)}" ".deb directory $path (as in the .rpm)"
done < <(grep '^[^ ]* d' "$work/rpm.list")

dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles > "$work/conffiles" 2>/dev/null
grep -qx /etc/glexec.conf "$work/conffiles" || fail ".deb: /etc/glexec.conf is not a conffile"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null > "$work/rpm.flags"
grep -qx 'cn /etc/glexec.conf' "$work/rpm.flags" || fail ".rpm: /etc/glexec.conf is not %config(noreplace)"
while read -r path mode _; do
        [[ $mode == -* && $path == /etc/* ]] || continue
        grep -qx "$path" "$work/conffiles" || fail ".deb: $path is not a conffile"
        grep -qx "cn $path" "$work/rpm.flags" || fail ".rpm: $path is not %config(noreplace)"
done < "$work/deb.list"

# ---- contents: compiled-in paths, manual pages -----------------------------------------------

mkdir "$work/deb-root" "$work/rpm-root"
dpkg-deb -x "$deb" "$work/deb-root"
(cd "$work/rpm-root" && rpm2cpio "$rpm" | cpio -idm --quiet)
for root in deb-root rpm-root; do
        grep -qaF /etc/glexec.conf "$work/$root/usr/sbin/glexec" ||
                fail "$root: glexec does not have /etc/glexec.conf compiled in"
        grep -qaF /usr/etc/ "$work/$root/usr/sbin/glexec" && fail "$root: glexec has a /usr/etc path compiled in"
done
for page in "$work"/deb-root/usr/share/man/man*/*.gz; do
        zcat "$page" | groff -ww -z -man 2> "$work/groff.err"
        [[ -s $work/groff.err ]] && fail "${page##*/}: groff warns: $(cat "$work/groff.err")"
        if command -v man >/dev/null; then
                LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2> "$work/man.err" >/dev/null
                [[ -s $work/man.err ]] && fail "${page##*/}: man warns: $(cat "$work/man.err")"
        fi
done

# ---- lintian, rpmlint -----------------------------------------------------------------------

echo "--- lintian -I -E --pedantic ${deb##*/}"
lintian -I -E --pedantic --fail-on error,warning "$deb" || fail "lintian reports errors or warnings"
# Each override must still be needed (it names an intended mode).
overrides=$src/packaging/debian/glexec-ng.lintian-overrides
declared=$(grep -cv -e '^#' -e '^$' "$overrides")
used=$(lintian --show-overrides "$deb" 2>/dev/null | grep -c '^O: ')
check "$declared" "$used" "lintian overrides in use"

echo "--- rpmlint -r glexec-ng.rpmlintrc ${rpm##*/}"
rpmlint -r "$src/packaging/rpm/glexec-ng.rpmlintrc" "$rpm" 2>&1 | tee "$work/rpmlint.out"
[[ ${PIPESTATUS[0]} -eq 0 ]] || fail "rpmlint exits non-zero"
grep -q ' 0 errors' "$work/rpmlint.out" || fail "rpmlint reports errors"

# ---- install, upgrade, purge on this machine ------------------------------------------------

# What exists before, to tell the package's leftovers from what was there.
declare -A existed
while read -r path _; do
        [[ -e $path || -L $path ]] && existed[$path]=1
done < "$work/deb.list"
[[ -e /var/cache/glexec-ng ]] && existed[/var/cache/glexec-ng]=1

# A copy of the .deb with another version, and optionally a changed shipped configuration.
repack() {
        local new_version=$1 change_conf=$2 out=$3 dir=$work/repack
        rm -rf "$dir"
        dpkg-deb -R "$deb" "$dir"
        sed -i "s/^Version: .*/Version: $new_version/" "$dir/DEBIAN/control"
        if [[ $change_conf == yes ]]; then
                echo "# shipped with $new_version" >> "$dir/etc/glexec.conf"
                sed -i "s|^[0-9a-f]*  etc/glexec.conf\$|$(md5sum < "$dir/etc/glexec.conf" | cut -d' ' -f1)  etc/glexec.conf|" \
                        "$dir/DEBIAN/md5sums"
        fi
        dpkg-deb --root-owner-group -Zgzip -b "$dir" "$out" >/dev/null
}
repack "$version+test1" no "$work/upgrade1.deb"
repack "$version+test2" yes "$work/upgrade2.deb"

installed_checks() {
        local what=$1
        check "4755 root:root" "$(stat -c '%a %U:%G' /usr/sbin/glexec 2>&1)" "$what: /usr/sbin/glexec"
        check "644 root:root" "$(stat -c '%a %U:%G' /etc/glexec.conf 2>&1)" "$what: /etc/glexec.conf"
        check "700 root:root" "$(stat -c '%a %U:%G' /var/log/glexec 2>&1)" "$what: /var/log/glexec"
        check "755 root:root" "$(stat -c '%a %U:%G' /var/lib/glexec/sandbox 2>&1)" "$what: /var/lib/glexec/sandbox"
        local out
        if ! out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups /usr/sbin/glexec -v 2>&1) ||
                [[ $out != *"$version"* ]]; then
                fail "$what: glexec -v as nobody: '$out'"
        fi
        out=$(/usr/sbin/glexec -V 2>&1)
        [[ $out == *"/etc/glexec.conf"* ]] || fail "$what: glexec -V does not name /etc/glexec.conf: '$out'"
        out=$(/usr/sbin/glexec --check-config 2>&1) || fail "$what: glexec --check-config as root: '$out'"
        [[ $what == install ]] && printf 'glexec --check-config:\n%s\n' "$out"
}

echo "--- dpkg -i ${deb##*/}"
we_installed=1
dpkg_run -i "$deb" || fail "dpkg -i failed"
check installed "$(dpkg-query -W -f='${db:Status-Status}' glexec-ng 2>&1)" "package state after install"
installed_checks install

if [[ -n ${GLEXEC_INSTALLED_TEST:-} ]]; then
        echo "--- $GLEXEC_INSTALLED_TEST"
        bash "$GLEXEC_INSTALLED_TEST" || fail "GLEXEC_INSTALLED_TEST $GLEXEC_INSTALLED_TEST failed"
fi

sed -i 's/^log_level = 3/log_level = 4/' /etc/glexec.conf
echo "# local edit by test-packages.sh" >> /etc/glexec.conf
edited=$(md5sum < /etc/glexec.conf)

echo "--- upgrade to $version+test1 (shipped configuration unchanged)"
dpkg_run -i --force-confold "$work/upgrade1.deb" || fail "upgrade 1 failed"
check "$version+test1" "$(dpkg-query -W -f='${Version}' glexec-ng)" "version after upgrade 1"
check "$edited" "$(md5sum < /etc/glexec.conf)" "edited /etc/glexec.conf after upgrade 1"
installed_checks "upgrade 1"

echo "--- upgrade to $version+test2 (shipped configuration changed)"
dpkg_run -i --force-confold "$work/upgrade2.deb" || fail "upgrade 2 failed"
check "$version+test2" "$(dpkg-query -W -f='${Version}' glexec-ng)" "version after upgrade 2"
check "$edited" "$(md5sum < /etc/glexec.conf)" "edited /etc/glexec.conf after upgrade 2"
grep -q "shipped with $version+test2" /etc/glexec.conf.dpkg-dist 2>/dev/null ||
        fail "upgrade 2: the new shipped configuration is not in /etc/glexec.conf.dpkg-dist"
installed_checks "upgrade 2"

# What launches leave behind: logs, the sandbox of a killed launch, the seccomp cache.
echo '{"event":"test"}' > /var/log/glexec/audit.jsonl
mkdir /var/lib/glexec/sandbox/test-packages-leftover
if [[ -z ${existed[/var/cache/glexec-ng]:-} ]]; then
        install -d -m 0700 /var/cache/glexec-ng
        touch /var/cache/glexec-ng/seccomp-test-packages-leftover
fi

echo "--- dpkg -P glexec-ng"
dpkg_run -P glexec-ng || fail "dpkg -P failed"
status=$(dpkg-query -W -f='${db:Status-Status}' glexec-ng 2>/dev/null)
[[ -z $status || $status == not-installed ]] || fail "package state after purge: $status"
[[ -z $status || $status == not-installed ]] && we_installed=0

while read -r path _; do
        [[ -z ${existed[$path]:-} && ( -e $path || -L $path ) ]] && fail "left behind after purge: $path"
done < "$work/deb.list"
for path in /etc/glexec.conf /etc/glexec.conf.dpkg-dist /etc/glexec.conf.dpkg-old /var/log/glexec \
        /var/lib/glexec /var/cache/glexec-ng; do
        [[ -z ${existed[$path]:-} && ( -e $path || -L $path ) ]] && fail "left behind after purge: $path"
done
dpkg-statoverride --list | grep -E ' (/usr/sbin/glexec|/etc/glexec|/etc/grid-security|/var/(lib|log)/glexec)' &&
        fail "statoverrides left behind"

[[ $failures -eq 0 ]] || { echo "$failures check(s) failed"; exit 1; }
echo "PASS: ${tarball##*/}, ${deb##*/}, ${rpm##*/}: metadata, lintian, rpmlint, install/upgrade/purge"
