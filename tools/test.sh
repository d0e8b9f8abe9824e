#!/bin/bash
# The whole test suite: unit tests and fuzz-corpus replays (ctest), the same under
# ASan/UBSan, the end-to-end bats suites against the installed setuid binary, and the cgroup
# v2 suite in a User-Mode Linux guest. Run as root on Debian 12 after tools/setup.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
passed=0
failed=0
failures=()

step() {
        local name=$1
        shift
        echo "=== $name"
        if "$@"; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                failures+=("$name")
        fi
}

unit() {
        cmake -S . -B build -DGLEXEC_WERROR=ON >/dev/null &&
                cmake --build build -j"$jobs" >/dev/null &&
                ctest --test-dir build --output-on-failure -j"$jobs"
}

sanitized() {
        # Never installed: sanitizer runtimes obey environment options.
        CC=clang cmake -S . -B build-asan -DGLEXEC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
                -DGLEXEC_WERROR=ON >/dev/null &&
                cmake --build build-asan -j"$jobs" >/dev/null &&
                ctest --test-dir build-asan --output-on-failure -j"$jobs"
}

step "unit tests and fuzz corpora (ctest)" unit
step "unit tests under ASan/UBSan" sanitized
step "end-to-end (bats, installed setuid binary)" tests/e2e/run.sh
step "Slurm batch jobs (one-node Slurm 22.05)" tests/e2e/run.sh tests/slurm/slurm.bats
step "end-to-end on cgroup v2 (User-Mode Linux guest)" tests/vm/run-e2e-v2.sh
step "Slurm batch jobs on cgroup v2 (User-Mode Linux guest)" tests/vm/run-e2e-v2.sh \
        tests/slurm/slurm.bats
step "packages (.deb and .rpm, lintian, rpmlint, install/upgrade/purge)" \
        bash tests/packaging/test-packages.sh "$root"

echo
echo "test suite: ${failures[*]:+failed: ${failures[*]}}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
