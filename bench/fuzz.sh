#!/usr/bin/env bash
# Runs every Go fuzz target in the repository (found with `go test -list '^Fuzz' ./...`) for
# SECONDS each, one after another, and prints a table: package, target, execs, new interesting
# inputs, result. Exits 1 if any target failed (its crasher is in <pkg>/testdata/fuzz/<Target>/,
# where `go test` runs it as a seed from then on: see docs/fuzzing.md), 2 if the targets could
# not be listed.
#
#   bench/fuzz.sh [SECONDS]     # default 60
#
# Environment:
#   FUZZ_MATCH     only targets whose "package.Target" matches this extended regex
#                  (e.g. 'report|FuzzParse$')
#   FUZZ_MINIMIZE  -fuzzminimizetime for each new input and crasher (default 50x: fifty runs;
#                  go's own default of 60s lets one slow target spend its whole time minimizing)
#   FUZZ_PARALLEL  fuzzing workers per target (default: go's, GOMAXPROCS)
#   FUZZ_LOGS      directory for each target's output (default: a new temporary directory)
set -uo pipefail
seconds=${1:-60}
case $seconds in '' | *[!0-9]*)
	echo "usage: bench/fuzz.sh [SECONDS]" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
module=$(go list -m)
logs=${FUZZ_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/keywarden-fuzz.XXXXXX")}
mkdir -p "$logs"

# go test -list prints a package's matching names, then "ok <package> <time>" (packages are
# printed whole, one after another). A package that does not build fails the run.
if ! go test -list '^Fuzz' ./... >"$logs/list.txt" 2>&1; then
	echo "listing fuzz targets failed:" >&2
	grep -v '^Fuzz' "$logs/list.txt" | grep -v '^ok ' | grep -v '^?' >&2
	exit 2
fi
targets=()
names=()
while read -r line; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do
			targets+=("$pkg $n")
		done
		names=()
		;;
	esac
done <"$logs/list.txt"
if [ -n "${FUZZ_MATCH:-}" ]; then
	all=("${targets[@]}")
	targets=()
	for t in "${all[@]}"; do
		read -r pkg name <<<"$t"
		[[ ${pkg#"$module"}.$name =~ $FUZZ_MATCH ]] && targets+=("$t")
	done
fi
if [ "${#targets[@]}" -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 2
fi

parallel=()
[ -n "${FUZZ_PARALLEL:-}" ] && parallel=(-parallel "$FUZZ_PARALLEL")
echo "fuzzing ${#targets[@]} targets for ${seconds}s each (about $(((${#targets[@]} * (seconds + 15) + 59) / 60)) min); logs in $logs"
rows=()
failed=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	short=${pkg#"$module"}
	short=.${short:-/}
	base=${short#./}
	log="$logs/${base//\//_}.$name.log"
	echo "== $short $name"
	go test -run '^$' -fuzz "^$name\$" -fuzztime "${seconds}s" -fuzzminimizetime "${FUZZ_MINIMIZE:-50x}" \
		"${parallel[@]}" "$pkg" >"$log" 2>&1
	rc=$?
	# The last progress line: "fuzz: elapsed: 1m0s, execs: 123456 (2058/sec), new interesting: 12 (total: 40)".
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	fresh=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
	result=ok
	if [ "$rc" -ne 0 ]; then
		failed=1
		crasher=$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$log" | tail -1)
		result="FAIL ${crasher:+$short/$crasher}"
		[ -z "$crasher" ] && result="FAIL (see $log)"
		grep -E -m 3 '^\s+[a-z_]+_test\.go:[0-9]+:' "$log" | sed 's/^/   /'
	fi
	rows+=("$short|$name|${execs:--}|${fresh:--}|$result")
done

echo
printf '%-22s %-26s %12s %16s  %s\n' package target execs "new interesting" result
for r in "${rows[@]}"; do
	IFS='|' read -r p n e i res <<<"$r"
	printf '%-22s %-26s %12s %16s  %s\n' "$p" "$n" "$e" "$i" "$res"
done
exit "$failed"
