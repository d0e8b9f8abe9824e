#!/bin/bash
# The cgroup end-to-end suites on cgroup v2: glexec is built and installed on the host into a
# temporary directory, then the bats suites run inside the User-Mode Linux guest, where
# /sys/fs/cgroup is cgroup2 only. Exit 77 (skip) without user-mode-linux.
#   tests/vm/run-e2e-v2.sh [bats files...]   (default: the two cgroup suites)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)

dir=$(mktemp -d /var/lib/glexec-e2e-v2.XXXXXX)
trap 'rm -rf "$dir"' EXIT
GX_E2E_DIR=$dir "$src/tests/e2e/run.sh" --prepare
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("$src/tests/e2e/cgroups.bats" "$src/tests/e2e/cgroups-v2.bats")
"$here/uml-run" --mem 768M --timeout 1500 --rw "$dir" --env GX_E2E_DIR="$dir" -- \
        "$src/tests/e2e/run.sh" "${suites[@]}"
