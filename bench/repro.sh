#!/usr/bin/env bash
# Checks that keywarden's release builds are reproducible: the same commit, built twice from
# two clones in different directories, with different GOPATHs, build caches and temp dirs,
# gives byte-identical binaries. Both builds users get are checked: the default one (Go regexp)
# and the README's release build (-tags gore2regex,re2_cgo, native RE2 through cgo).
#
#   bench/repro.sh [VERSION]   # VERSION defaults to `git describe --tags --always` of the commit
#
# Environment: REPRO_REF (the commit to build, default HEAD; uncommitted changes are not part
# of a release and are not built), REPRO_BUILDS (which builds to check, default
# "default gore2regex,re2_cgo": "default" is no tags, anything else a -tags list).
# Exits 1 if a pair of builds differs.
#
# The build command is the one docs/release.md documents:
#
#   go build -trimpath -ldflags "-s -w -buildid= -X main.version=VERSION" [-tags ...] ./cmd/keywarden
#
# Each pair starts from an empty build cache, so this takes a few minutes (every dependency is
# compiled four times); the module cache is shared, since -trimpath leaves no trace of where it is.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$here" rev-parse --verify "${REPRO_REF:-HEAD}^{commit}")
version=${1:-$(git -C "$here" describe --tags --always "$commit")}
modcache=$(go env GOMODCACHE)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/keywarden-repro.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# checkout SIDE: a clone of the commit at a path of its own.
checkout() {
	local src=$tmp/$1/src-$1
	git clone -q --no-checkout "$here" "$src"
	git -C "$src" -c advice.detachedHead=false checkout -q --detach "$commit"
}

# build SIDE TAGS OUT: the release build of SIDE's clone, with SIDE's own GOPATH, cache and temp.
build() {
	local side=$1 tags=$2 out=$3
	mkdir -p "$tmp/$side/gopath" "$tmp/$side/cache" "$tmp/$side/tmp"
	(cd "$tmp/$side/src-$side" && env GOPATH="$tmp/$side/gopath" GOMODCACHE="$modcache" \
		GOCACHE="$tmp/$side/cache" TMPDIR="$tmp/$side/tmp" GOFLAGS=-mod=readonly GOPROXY=off \
		go build -trimpath -tags "$tags" -ldflags "-s -w -buildid= -X main.version=$version" \
		-o "$out" ./cmd/keywarden)
}

echo "== commit $commit, version $version"
checkout a
checkout b
fail=0
for name in ${REPRO_BUILDS:-default gore2regex,re2_cgo}; do
	tags=$name
	[ "$name" != default ] || tags=""
	start=$(date +%s)
	build a "$tags" "$tmp/keywarden-$name-a"
	build b "$tags" "$tmp/keywarden-$name-b"
	sa=$(sha256sum <"$tmp/keywarden-$name-a" | cut -d' ' -f1)
	sb=$(sha256sum <"$tmp/keywarden-$name-b" | cut -d' ' -f1)
	got=$("$tmp/keywarden-$name-a" version | sed -n 1p)
	printf '%-20s %s\n%-20s %s\n' "$name (a)" "$sa" "$name (b)" "$sb"
	echo "  $(($(date +%s) - start)) s; keywarden version: $got"
	if [ "$got" != "keywarden $version" ]; then
		echo "FAIL $name: keywarden version says \"$got\", want \"keywarden $version\"" >&2
		fail=1
	fi
	if [ "$sa" != "$sb" ]; then
		echo "FAIL $name: the two builds differ" >&2
		cmp "$tmp/keywarden-$name-a" "$tmp/keywarden-$name-b" | head -1 >&2 || true
		fail=1
	fi
done
if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "== reproducible"
