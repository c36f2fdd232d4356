#!/usr/bin/env bash
# Times a multi-repo audit: 5 generated repositories (4 with history, 1 broken), served as
# file:// URLs, by `keywarden audit repos` cold (clone into an empty cache) and warm (fetch into
# the cache), and by gitleaks v8.30.1 scanning the 4 repositories one after the other (it has
# no multi-repo mode), alternating, in one run.
#
#   bench/audit.sh [ROUNDS] [COMMITS]     # default 5 rounds, 2,000 commits per repository
#
# Environment:
#   BENCH_DIR   work directory (default /tmp/keywarden-bench)
#   KW_TAGS     build tags for keywarden (default gore2regex,re2_cgo as in the README)
#
# Prints the median wall time of each and the ratio gitleaks/keywarden.
set -euo pipefail
rounds=${1:-5}
commits=${2:-2000}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/keywarden-bench}/audit
mkdir -p "$work/bin"

kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1 (as released: -tags gore2regex)"
(cd "$here" && GOBIN=$work/bin go install -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1
kw=$work/bin/keywarden
gl=$work/bin/gitleaks

list=$work/repos.txt
: >"$list"
for i in 1 2 3 4; do
	repo=$work/repo$i
	if [ ! -d "$repo/.git" ]; then
		echo "== building $repo ($commits commits, 400 files)"
		git init -q -b main "$repo"
		(cd "$here" && go run bench/genrepo.go -files 400 -commits "$commits") | git -C "$repo" fast-import --quiet
		git -C "$repo" reset -q --hard main
		# The same token in repositories 1 and 3: one finding in the merged report.
		tok=$([ $((i % 2)) = 1 ] && echo "ghp_""Zx8Kq2Lm4Np6Rt8Vw0Yb2Dc4Fg6Hj8Kl0Mn2" || echo "ghp_""Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx$i")
		echo "GITHUB_TOKEN=$tok" >"$repo/deploy.env"
		git -C "$repo" add deploy.env
		git -C "$repo" -c user.name=b -c user.email=b@example.com commit -qm "add deploy env"
		git -C "$repo" gc -q
	fi
	echo "file://$repo" >>"$list"
done
mkdir -p "$work/broken" && echo "not a repository" >"$work/broken/README"
echo "file://$work/broken" >>"$list"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
cold=() warm=() glt=()
for r in $(seq "$rounds"); do
	rm -rf "$work/cache"
	t0=$(now)
	"$kw" audit repos --list "$list" --cache-dir "$work/cache" --quiet --format json -o "$work/audit.json" || [ $? -le 2 ]
	t1=$(now)
	"$kw" audit repos --list "$list" --cache-dir "$work/cache" --quiet --format json -o "$work/audit.json" || [ $? -le 2 ]
	t2=$(now)
	for i in 1 2 3 4; do
		"$gl" git "$work/repo$i" --no-banner --log-level error --report-path "$work/gl$i.json" >/dev/null 2>&1 || [ $? -le 1 ]
	done
	t3=$(now)
	cold+=("$(echo "$t1 - $t0" | bc)") warm+=("$(echo "$t2 - $t1" | bc)") glt+=("$(echo "$t3 - $t2" | bc)")
	echo "   round $r: keywarden cold ${cold[-1]}s, warm ${warm[-1]}s; gitleaks ${glt[-1]}s"
done
mc=$(printf '%s\n' "${cold[@]}" | median)
mw=$(printf '%s\n' "${warm[@]}" | median)
mg=$(printf '%s\n' "${glt[@]}" | median)
python3 - "$work/audit.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("   report: %d findings, %d repositories (%s)" % (len(r["findings"]), len(r["repos"]),
      ", ".join("%s %s" % (x["repo"].rsplit("/", 1)[-1], x["status"]) for x in r["repos"])))
PY
echo "median: keywarden audit cold ${mc}s, warm ${mw}s; gitleaks (4 repos in turn) ${mg}s"
echo "ratio gitleaks/keywarden: cold $(echo "scale=2; $mg / $mc" | bc), warm $(echo "scale=2; $mg / $mw" | bc)"
