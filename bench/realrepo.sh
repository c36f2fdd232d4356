#!/usr/bin/env bash
# Builds a git repository from the released history of a real project (one commit per release,
# taken from the Go module proxy, dated by the release), then times a full-history scan by
# keywarden and by gitleaks v8.30.1 built as released (-tags gore2regex), alternating, in one run.
#
#   bench/realrepo.sh [ROUNDS]         # default 3 rounds
#
# Environment:
#   BENCH_MODULE    module whose releases form the history (default github.com/gohugoio/hugo)
#   BENCH_VERSIONS  space-separated versions (default: every v0.N.0 from v0.40.0 to v0.169.0)
#   BENCH_DIR       work directory (default /tmp/keywarden-bench)
#   KW_TAGS         build tags for keywarden (default gore2regex,re2_cgo as in the README)
#
# Prints per-run wall time and peak RSS, then the median ratio gitleaks/keywarden.
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
module=${BENCH_MODULE:-github.com/gohugoio/hugo}
work=${BENCH_DIR:-/tmp/keywarden-bench}
repo=$work/repo.git
mkdir -p "$work/bin"

if [ -z "${BENCH_VERSIONS:-}" ]; then
	BENCH_VERSIONS=$(for n in $(seq 40 169); do printf 'v0.%d.0 ' "$n"; done)
fi

# KW_TAGS: build tags of the keywarden build under test; the default is the README's install
# command (native RE2 through cgo, needs libre2-dev). "gore2regex" gives the pure-Go RE2 build,
# "" the Go-regexp build.
kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1 (as released: -tags gore2regex)"
(cd "$here" && GOBIN=$work/bin go install -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1

if [ ! -d "$repo" ]; then
	echo "== building $repo from releases of $module"
	tmp=$work/build
	rm -rf "$tmp" && mkdir -p "$tmp"
	git init -q --bare -b main "$tmp/repo.git"
	n=0
	for v in $BENCH_VERSIONS; do
		info=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$v" 2>/dev/null) || { echo "skip $v (not served)"; continue; }
		zip=$(printf '%s' "$info" | sed -n 's/.*"Zip": "\(.*\)".*/\1/p')
		when=$(printf '%s' "$info" | sed -n 's/.*"Time": "\(.*\)".*/\1/p')
		[ -n "$zip" ] || { echo "skip $v"; continue; }
		rm -rf "$tmp/unz" && mkdir -p "$tmp/unz"
		unzip -q "$zip" -d "$tmp/unz"
		# The release's files become the next commit's tree: added, changed and deleted files alike.
		export GIT_DIR=$tmp/repo.git GIT_WORK_TREE=$tmp/unz/$module@$v
		git add -A
		GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when" \
			git -c user.name=release -c user.email=release@example.invalid commit -q -m "release $v" --allow-empty
		git tag "$v"
		unset GIT_DIR GIT_WORK_TREE
		n=$((n + 1))
	done
	mv "$tmp/repo.git" "$repo"
	git -C "$repo" gc -q
	rm -rf "$tmp"
	echo "built $n commits"
fi

commits=$(git -C "$repo" rev-list --all | wc -l)
blobs=$(git -C "$repo" rev-list --objects --all | cut -d' ' -f1 | git -C "$repo" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{n++; s+=$2} END{printf "%d blobs, %.0f MiB", n, s/1048576}')
echo "== repository: $commits commits, $blobs"
start=$(date +%s.%N)
git -C "$repo" rev-list --objects --all | cut -d' ' -f1 | git -C "$repo" cat-file --batch >/dev/null
echo "floor: git cat-file --batch of every reachable object: $(echo "$(date +%s.%N) - $start" | bc) s"

measure() { # cmd... -> prints "seconds maxrss_kib"
	/usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >/dev/null 2>&1 || true
	tail -1 "$work/time.out"
}

kw=() gl=()
for r in $(seq 1 "$rounds"); do
	k=$(measure "$work/bin/keywarden" scan git "$repo" --format json --output "$work/kw.json" --quiet --exit-code 0)
	g=$(measure "$work/bin/gitleaks" git "$repo" --report-format json --report-path "$work/gl.json" --exit-code 0 --log-level error)
	echo "round $r: keywarden ${k% *}s ($(( ${k#* } / 1024 )) MiB peak)   gitleaks ${g% *}s ($(( ${g#* } / 1024 )) MiB peak)"
	kw+=("${k% *}") gl+=("${g% *}")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mk=$(med "${kw[@]}") mg=$(med "${gl[@]}")
echo "median: keywarden ${mk}s, gitleaks ${mg}s, ratio gitleaks/keywarden = $(echo "scale=2; $mg / $mk" | bc)x"
echo "findings: keywarden $(grep -o '"rule_id"' "$work/kw.json" | wc -l) (one per rule+secret, all locations), gitleaks $(grep -o '"RuleID"' "$work/gl.json" | wc -l) (one per commit+file+line)"
