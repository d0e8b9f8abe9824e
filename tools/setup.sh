#!/bin/bash
# Install the build and test dependencies (Debian 12, as root), then build and install
# glexec-ng into PREFIX (default /usr/local).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
grep -v '^#' tools/deps.txt | xargs apt-get install -y -qq --no-install-recommends >/dev/null

cmake -S . -B build -DCMAKE_INSTALL_PREFIX="$prefix" -DGLEXEC_WERROR=ON
cmake --build build -j"$(nproc)"
cmake --install build
echo "glexec-ng installed into $prefix (configuration: $prefix/etc/glexec.conf)"
