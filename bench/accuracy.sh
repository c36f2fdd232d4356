#!/usr/bin/env bash
# Scores keywarden and gitleaks v8.30.1 (built as released: -tags gore2regex), both with their
# default rules, on the labelled corpus testdata/corpus against its ground truth
# testdata/corpus.truth: precision and recall per kind of secret, side by side, then each
# tool's false negatives and false positives (paths, lines, rule IDs; never secret values).
# Also times both scans, alternating. See docs/accuracy.md.
#
#   bench/accuracy.sh [ROUNDS]         # default 3 timed rounds
#
# Environment:
#   BENCH_DIR     work directory (default /tmp/keywarden-bench/accuracy)
#   BENCH_CORPUS  corpus directory (default testdata/corpus)
#   BENCH_TRUTH   its truth file (default testdata/corpus.truth)
#   KW_TAGS       build tags for keywarden (default gore2regex,re2_cgo as in the README)
#
# Both scans run in the work directory on the corpus's absolute path, so no config or ignore
# file of this repository is picked up: keywarden reads .keywarden.toml/.gitleaks.toml and
# .keywardenignore/.gitleaksignore at the scan root (the corpus), gitleaks reads .gitleaks.toml
# at the scan root and .gitleaksignore at the scan root and in the working directory. The script
# refuses to run if the corpus holds any of them, and unsets GITLEAKS_CONFIG and
# GITLEAKS_CONFIG_TOML, which would replace gitleaks' default rules.
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${BENCH_CORPUS:-$here/testdata/corpus}
truth=${BENCH_TRUTH:-$here/testdata/corpus.truth}
work=${BENCH_DIR:-/tmp/keywarden-bench/accuracy}
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 1; }
[ -f "$truth" ] || { echo "no truth file at $truth" >&2; exit 1; }
corpus=$(cd "$corpus" && pwd)
truth=$(cd "$(dirname "$truth")" && pwd)/$(basename "$truth")
mkdir -p "$work/bin"
work=$(cd "$work" && pwd) # the scans run inside it

for f in .keywarden.toml .gitleaks.toml .keywardenignore .gitleaksignore; do
	if [ -e "$corpus/$f" ] || [ -e "$work/$f" ]; then
		echo "$corpus/$f or $work/$f exists: the tools must run with their default rules and nothing ignored" >&2
		exit 1
	fi
done
unset GITLEAKS_CONFIG GITLEAKS_CONFIG_TOML

kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1 (as released: -tags gore2regex)"
(cd "$here" && GOBIN=$work/bin go install -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1
kw=$work/bin/keywarden
gl=$work/bin/gitleaks

cd "$work"
echo "== corpus: $(find "$corpus" -type f | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB ($corpus)"
# run NAME [PREFIX...] runs one scan, behind PREFIX (a timer) if given. Both exit 0 with or
# without findings, so any other status is a failure.
run() {
	local n=$1
	shift
	case $n in
	keywarden) "$@" "$kw" scan dir "$corpus" --format json --output kw.json --quiet --exit-code 0 ;;
	gitleaks) "$@" "$gl" dir "$corpus" --no-banner --log-level error --report-format json --report-path gl.json --exit-code 0 ;;
	esac
}
measure() { # NAME -> prints "seconds maxrss_kib"
	if ! run "$1" /usr/bin/time -o time.out -f '%e %M' >"$1.log" 2>&1; then
		echo "$1 failed:" >&2
		cat "$1.log" >&2
		exit 1
	fi
	tail -1 time.out
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== warm-up (page cache), untimed"
for n in keywarden gitleaks; do measure $n >/dev/null; done
declare -A times rss
for r in $(seq 1 "$rounds"); do
	line="round $r:"
	for n in keywarden gitleaks; do
		m=$(measure $n)
		times[$n]+="${m% *} " rss[$n]+="${m#* } "
		line+="  $n ${m% *}s ($(( ${m#* } / 1024 )) MiB)"
	done
	echo "$line"
done
for n in keywarden gitleaks; do
	printf '   median of %d: %-10s %6.2f s  %5d MiB peak\n' "$rounds" "$n" \
		"$(printf '%s\n' ${times[$n]} | median)" "$(( $(printf '%s\n' ${rss[$n]} | median | cut -d. -f1) / 1024 ))"
done

echo "== accuracy (reports: $work/kw.json, $work/gl.json)"
(cd "$here" && go run ./bench/accuracy -truth "$truth" -keywarden "$work/kw.json" -gitleaks "$work/gl.json" -gitleaks-root "$corpus")
