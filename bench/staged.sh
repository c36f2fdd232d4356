#!/usr/bin/env bash
# Times a pre-commit scan of a 20-line staged change in a large repository (40,000 commits,
# 4,000 files) by keywarden (`scan staged`) and gitleaks v8.30.1 (`git --pre-commit --staged`),
# alternating, in one run, for a clean change and for one that adds a secret; then a pre-push
# check of one commit (`scan git --pre-push` against `gitleaks git --log-opts=remote..local`).
#
#   bench/staged.sh [ROUNDS]           # default 15 rounds
#
# Environment:
#   BENCH_DIR   work directory (default /tmp/keywarden-bench)
#   KW_TAGS     build tags for keywarden (default gore2regex,re2_cgo as in the README)
#
# Prints the median wall time of each and the ratio gitleaks/keywarden.
set -euo pipefail
rounds=${1:-15}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/keywarden-bench}
repo=$work/staged-repo
mkdir -p "$work/bin"

kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1 (as released: -tags gore2regex)"
(cd "$here" && GOBIN=$work/bin go install -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1
kw=$work/bin/keywarden
gl=$work/bin/gitleaks

if [ ! -d "$repo/.git" ]; then
	echo "== building $repo (40,000 commits, 4,000 files)"
	rm -rf "$repo" && git init -q -b main "$repo"
	(cd "$here" && go run bench/genrepo.go -files 4000 -commits 40000) | git -C "$repo" fast-import --quiet
	git -C "$repo" reset -q --hard main
	git -C "$repo" gc -q
fi
echo "   $(git -C "$repo" rev-list --count HEAD) commits, $(git -C "$repo" ls-files | wc -l) files"

g() { git -C "$repo" -c user.name=b -c user.email=b@example.com "$@"; }
target=pkg007/file0007.go

# stage_change writes a 20-line change to one file (10 lines edited, 10 added), the 20th line
# holding a token when $1 is "secret".
stage_change() {
	g reset -q --hard main
	python3 - "$repo/$target" "$1" <<'PY'
import sys
path, kind = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
for i in range(10):
    lines[20 + 3 * i] = "\tretry%d := backoff(%d, attempt)  // edited" % (i, i)
extra = ["\tlog.Printf(\"added line %d\", n)" % i for i in range(9)]
tok = "ghp_" + "Zx8Kq2Lm4Np6Rt8Vw0Yb2Dc4Fg6Hj8Kl0Mn2"
extra.append("\ttoken := \"%s\"" % tok if kind == "secret" else "\tlog.Printf(\"done\")")
lines[60:60] = extra
open(path, "w").write("\n".join(lines))
PY
	g add "$target"
	echo "   staged: $(g diff --cached --numstat | awk '{print $1" added, "$2" deleted"}') lines in $target"
}

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run_case() {
	local kind=$1 kwt=() glt=()
	stage_change "$kind"
	# Warm the page cache and check both agree on whether there is a finding.
	set +e
	(cd "$repo" && "$kw" scan staged -q >/dev/null); kwc=$?
	(cd "$repo" && "$gl" git --pre-commit --staged --no-banner --log-level error . >/dev/null 2>&1); glc=$?
	set -e
	echo "   exit codes: keywarden $kwc, gitleaks $glc"
	for ((i = 0; i < rounds; i++)); do
		t0=$(ms); (cd "$repo" && "$kw" scan staged -q >/dev/null) || true; t1=$(ms)
		(cd "$repo" && "$gl" git --pre-commit --staged --no-banner --log-level error . >/dev/null 2>&1) || true; t2=$(ms)
		kwt+=($(((t1 - t0) / 1000))); glt+=($(((t2 - t1) / 1000)))
	done
	k=$(printf '%s\n' "${kwt[@]}" | median)
	l=$(printf '%s\n' "${glt[@]}" | median)
	printf '   %-8s keywarden %6.1f ms   gitleaks %6.1f ms   ratio %.1fx\n' "$kind" "$(echo "$k/1000" | bc -l)" "$(echo "$l/1000" | bc -l)" "$(echo "$l/$k" | bc -l)"
}

# run_push times a pre-push check of one new commit on top of what origin/main has:
# keywarden reads git's pre-push input; gitleaks is given the same range as --log-opts.
run_push() {
	local kwt=() glt=()
	g reset -q --hard main
	g update-ref refs/remotes/origin/main main
	echo "pushed = 1" >>"$repo/$target"
	g commit -q -am "one commit to push"
	local remote local
	remote=$(g rev-parse refs/remotes/origin/main)
	local=$(g rev-parse HEAD)
	input="refs/heads/main $local refs/heads/main $remote"
	for ((i = 0; i < rounds; i++)); do
		t0=$(ms); (cd "$repo" && echo "$input" | "$kw" scan git --pre-push . -q >/dev/null) || true; t1=$(ms)
		(cd "$repo" && "$gl" git --no-banner --log-level error --log-opts="$remote..$local" . >/dev/null 2>&1) || true; t2=$(ms)
		kwt+=($(((t1 - t0) / 1000))); glt+=($(((t2 - t1) / 1000)))
	done
	k=$(printf '%s\n' "${kwt[@]}" | median)
	l=$(printf '%s\n' "${glt[@]}" | median)
	printf '   %-8s keywarden %6.1f ms   gitleaks %6.1f ms   ratio %.1fx\n' "pre-push" "$(echo "$k/1000" | bc -l)" "$(echo "$l/1000" | bc -l)" "$(echo "$l/$k" | bc -l)"
	g reset -q --hard main
	g update-ref -d refs/remotes/origin/main
}

echo "== $rounds rounds each, alternating (median wall time)"
run_case clean
run_case secret
run_push
g reset -q --hard main
