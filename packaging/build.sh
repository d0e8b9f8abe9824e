#!/bin/bash
# Usage: packaging/build.sh OUTDIR
#
# Builds, from the working tree (committed or not) and without network, into OUTDIR:
#   glexec-ng-VERSION.tar.gz       the source tarball (build*/ directories and .git left out)
#   glexec-ng_VERSION_ARCH.deb     dpkg-buildpackage with packaging/debian as debian/
#   glexec-ng-VERSION-N.ARCH.rpm   rpmbuild -bb --nodeps with packaging/rpm/glexec-ng.spec
# VERSION is the project version in CMakeLists.txt, the one place it is set: the newest
# entries of packaging/debian/changelog and of the spec's %changelog, and the spec's Version,
# must carry it, or nothing is built. The Debian package is native (the packaging lives in
# this tree), so its version is VERSION itself. DEB_BUILD_OPTIONS=nocheck skips the unit
# tests in both package builds.
# Exit status: 0 built, 1 a build failed, 2 usage, 3 a tool or build dependency is missing,
# 4 the packaging's version does not match CMakeLists.txt.
set -euo pipefail

die() {
        local status=$1
        shift
        printf 'build.sh: %s\n' "$*" >&2
        exit "$status"
}

[[ $# -eq 1 && -n $1 ]] || die 2 "usage: build.sh OUTDIR"
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mkdir -p "$1"
out=$(cd "$1" && pwd)

# command -> Debian package that provides it
declare -A tool_package=(
        [cmake]=cmake [dh]=debhelper [dpkg-buildpackage]=dpkg-dev
        [dpkg-checkbuilddeps]=dpkg-dev [dpkg-parsechangelog]=dpkg-dev [gzip]=gzip
        [rpmbuild]=rpm [scdoc]=scdoc [tar]=tar
)
declare -A missing=()
for tool in "${!tool_package[@]}"; do
        command -v "$tool" >/dev/null || missing[${tool_package[$tool]}]=1
done
[[ ${#missing[@]} -eq 0 ]] ||
        die 3 "missing packaging tools; install them with:" \
                "apt-get install --no-install-recommends ${!missing[*]}"
if ! unmet=$(dpkg-checkbuilddeps "$src/packaging/debian/control" 2>&1); then
        die 3 "${unmet##*error: }: apt-get install --no-install-recommends them"
fi

version=$(sed -nE 's/^[[:space:]]*project\([[:space:]]*glexec-ng[[:space:]]+VERSION[[:space:]]+([0-9][0-9.]*).*/\1/p' \
        "$src/CMakeLists.txt")
[[ -n $version ]] || die 4 "no 'project(glexec-ng VERSION x.y.z ...)' line in $src/CMakeLists.txt"

changelog=$src/packaging/debian/changelog
deb_version=$(dpkg-parsechangelog -l "$changelog" -S Version)
[[ $deb_version == "$version" ]] ||
        die 4 "packaging/debian/changelog is at $deb_version but CMakeLists.txt at $version:" \
                "add an entry (dch -c packaging/debian/changelog -v $version)"

spec=$src/packaging/rpm/glexec-ng.spec
spec_version=$(sed -nE 's/^Version:[[:space:]]*([^[:space:]]+).*/\1/p' "$spec")
spec_release=$(sed -nE 's/^Release:[[:space:]]*([^[:space:]%]+).*/\1/p' "$spec")
spec_changelog=$(sed -n '/^%changelog/,$ { /^\* /{ s/.* - //p; q } }' "$spec")
[[ $spec_version == "$version" ]] ||
        die 4 "packaging/rpm/glexec-ng.spec has Version: $spec_version but CMakeLists.txt $version"
[[ $spec_changelog == "$version-$spec_release" ]] ||
        die 4 "the newest %changelog entry of packaging/rpm/glexec-ng.spec is for $spec_changelog," \
                "not $version-$spec_release"

# Reproducible tarball and packages: every timestamp is the changelog's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$changelog" -S Timestamp)}
export SOURCE_DATE_EPOCH

work=$(mktemp -d "${TMPDIR:-/tmp}/glexec-ng-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The files of the working tree: git's view (tracked and untracked, minus .gitignore'd)
# when src is a git checkout, otherwise every file. Build directories, .git and OUTDIR
# itself never go in.
list_tree() {
        if [[ $(git -C "$src" rev-parse --show-toplevel 2>/dev/null) == "$src" ]]; then
                git -C "$src" ls-files -z --cached --others --exclude-standard
        else
                (cd "$src" && find . \( -name .git -o -type d -path './build*' \) -prune -o \
                        \( -type f -o -type l \) -print0 | sed -z 's,^\./,,')
        fi
}
out_rel=
[[ $out == "$src"/* ]] && out_rel=${out#"$src"/}/
while IFS= read -r -d '' f; do
        [[ $f == build*/* || $f == .git/* || ( -n $out_rel && $f == "$out_rel"* ) ]] && continue
        [[ -e $src/$f || -L $src/$f ]] && printf '%s\0' "$f"
done < <(list_tree) > "$work/files"

name=glexec-ng-$version
mkdir "$work/tree"
tar -C "$src" --null -T "$work/files" -cf - | tar -C "$work/tree" -xf -
mv "$work/tree" "$work/$name"
tar -C "$work" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 \
        --numeric-owner --mode=go-w -cf - "$name" | gzip -9n > "$out/$name.tar.gz"
echo "build.sh: $out/$name.tar.gz"

# .deb: the Debian way, with packaging/debian as debian/ of the unpacked tarball.
mkdir "$work/deb"
tar -C "$work/deb" -xzf "$out/$name.tar.gz"
cp -a "$work/deb/$name/packaging/debian" "$work/deb/$name/debian"
chmod 0755 "$work/deb/$name/debian/rules"
(cd "$work/deb/$name" && dpkg-buildpackage -us -uc -b -J) || die 1 "dpkg-buildpackage failed"
cp "$work"/deb/*.deb "$out/"
for f in "$work"/deb/*.deb; do
        echo "build.sh: $out/${f##*/}"
done

# .rpm: the spec as a mock build uses it; Debian's rpm gets the CMake macros it lacks.
rpm_args=(--define "_topdir $work/rpm" --define "_sourcedir $out")
[[ $(rpm --eval '%{?cmake_build:1}') == 1 ]] || rpm_args=(--load "$src/packaging/rpm/macros.debian" "${rpm_args[@]}")
[[ " ${DEB_BUILD_OPTIONS:-} " == *" nocheck "* ]] && rpm_args+=(--without check)
rpmbuild "${rpm_args[@]}" -bb --nodeps "$spec" || die 1 "rpmbuild failed"
for f in "$work"/rpm/RPMS/*/*.rpm; do
        cp "$f" "$out/"
        echo "build.sh: $out/${f##*/}"
done
