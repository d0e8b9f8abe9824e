#!/bin/bash
# End-to-end tests: build glexec into a temporary prefix, install it setuid root, and run the
# bats suites against it as unprivileged callers. Test accounts exist only inside a private
# mount namespace (bind-mounted passwd and group); everything lives under one temporary
# directory that is removed at the end. Must run as root.
#
#   tests/e2e/run.sh [bats files...]            build, run, remove everything
#   GX_E2E_DIR=DIR tests/e2e/run.sh --prepare   build into DIR (kept) and stop
#   GX_E2E_DIR=DIR tests/e2e/run.sh [files...]  run against what --prepare left in DIR
# The split lets tests/vm/run-e2e-v2.sh build on the host and run inside the guest.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
        echo "tests/e2e/run.sh: must run as root (it installs a setuid binary in a temp prefix)" >&2
        exit 1
fi
for tool in bats setpriv unshare openssl; do
        command -v "$tool" >/dev/null || { echo "tests/e2e/run.sh: $tool is missing" >&2; exit 1; }
done

prepare_only=false
if [ "${1:-}" = --prepare ]; then
        prepare_only=true
        shift
fi
if [ -n "${GX_E2E_DIR:-}" ]; then
        tmp=$GX_E2E_DIR
else
        # Not below /tmp: the payload's private /tmp would hide the sandbox base.
        tmp=$(mktemp -d /var/lib/glexec-e2e.XXXXXX)
        cleanup() {
                # Sandboxes are removed by glexec itself; whatever a failed test left goes here.
                rm -rf "$tmp"
        }
        trap cleanup EXIT
fi
chmod 0755 "$tmp"

prefix=$tmp/prefix
# Build and install glexec setuid root into the prefix, the probe, and fresh credentials.
prepare() {
        build=$tmp/build
        cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_TESTING=OFF \
                -DGLEXEC_WERROR=ON >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
        cmake --build "$build" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
        cmake --install "$build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
        # What every system has and glexec's seccomp cache (GLEXEC_LOCALSTATEDIR/cache/glexec-ng)
        # is made in.
        mkdir -p "$prefix/var/cache"
        chmod 0755 "$prefix/var" "$prefix/var/cache"
        # The probe payload (tests/probe), static so it runs in any sandbox; root-owned 0755 outside
        # the sandbox base, so every test account can execute it and none can replace it.
        mkdir -p "$tmp/bin"
        ${CC:-cc} -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o "$tmp/bin/glexec-probe" \
                "$src/tests/probe/probe.c" >"$tmp/probe.log" 2>&1 || { cat "$tmp/probe.log"; exit 1; }
        chmod 0755 "$tmp/bin" "$tmp/bin/glexec-probe"

        # Credentials made fresh for this run.
        "$src/tests/fixtures/make-x509-fixtures.sh" "$tmp/fx" >"$tmp/fixtures.log" 2>&1 ||
                { cat "$tmp/fixtures.log"; exit 1; }
        touch "$tmp/prepared"
}
[ -e "$tmp/prepared" ] || prepare
$prepare_only && exit 0

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/*.bats)

export GX_SRC=$src GX_TMP=$tmp GX_PREFIX=$prefix GX_FX=$tmp/fx
export GX_PROBE=$tmp/bin/glexec-probe
# The accounts the tests use, visible only in this mount namespace.
unshare --mount --propagation private -- bash -c '
        set -e
        . "$GX_SRC/tests/e2e/accounts.bash"
        install_test_accounts "$GX_TMP/etc"
        bats --tap "$@"
' bats "${files[@]}"
