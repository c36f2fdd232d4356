#!/usr/bin/env bash
# Times keys.BatchGCD on 10,000 RSA-2048 moduli (issue #5: under 10 s), with peak RSS, by
# running BenchmarkBatchGCD10000 from a compiled test binary under /usr/bin/time.
#
#   bench/batchgcd.sh [ROUNDS]         # default 3 rounds
#
# Prints each round's ns/op, allocation and peak RSS, then the median time.
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && go test -c -o "$work/keys.test" ./rules/keys/)
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
secs=()
for r in $(seq 1 "$rounds"); do
	/usr/bin/time -o "$work/time.out" -f '%e %M' "$work/keys.test" -test.run '^$' \
		-test.bench '^BenchmarkBatchGCD10000$' -test.benchtime 1x -test.benchmem >"$work/bench.out"
	line=$(grep '^BenchmarkBatchGCD10000' "$work/bench.out")
	ns=$(awk '{print $3}' <<<"$line")
	read -r _ rss <"$work/time.out"
	s=$(echo "scale=2; $ns / 1000000000" | bc)
	secs+=("$s")
	echo "round $r: $s s  $(grep -o '[0-9.]* MiB-alloc/op' <<<"$line")  peak RSS $((rss / 1024)) MiB"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median of %d rounds: %s s (target < 10 s)\n", NR, (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
