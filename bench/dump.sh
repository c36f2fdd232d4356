#!/usr/bin/env bash
# Measures `keywarden scan dump`: throughput on a 1 GiB raw memory image with no keys in it,
# per core (--jobs 1) and on all cores, against gitleaks v8.30.1 reading the same file in the
# same run (it finds no binary keys; the ratio says what the extra detectors cost), and the
# false-positive count on a large corpus with no private keys in it: the Go toolchain's
# binaries and the machine's /usr/bin and shared libraries.
#
#   bench/dump.sh [ROUNDS]     # default 3
#
# Environment: BENCH_DIR (default /tmp/keywarden-bench), KW_TAGS (default gore2regex,re2_cgo).
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/keywarden-bench}/dump
mkdir -p "$work/bin"
kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1"
(cd "$here" && GOBIN=$work/bin go install -trimpath -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1
kw=$work/bin/keywarden
gl=$work/bin/gitleaks

# The image: what a process's memory is mostly made of, in thirds: program text and data (the
# Go toolchain's binaries, repeated), zero pages, and high-entropy pages (compressed or
# encrypted buffers), each in 4 MiB runs so that every detector sees every kind.
img=$work/memory-1g.raw
if [ ! -s "$img" ] || [ "$(stat -c %s "$img")" -ne $((1 << 30)) ]; then
	echo "== building $img"
	goroot=$(go env GOROOT)
	cat "$goroot"/bin/* "$goroot"/pkg/tool/*/* >"$work/text.bin"
	python3 - "$work/text.bin" "$img" <<'PY'
import os, sys
text = open(sys.argv[1], "rb").read()
run, total = 4 << 20, 1 << 30
with open(sys.argv[2], "wb") as out:
    for i in range(total // run):
        kind, n = i % 3, i // 3
        if kind == 0:
            off = (n * run) % max(1, len(text) - run)
            out.write(text[off:off + run])
        elif kind == 1:
            out.write(bytes(run))
        else:
            out.write(os.urandom(run))
PY
	truncate -s $((1 << 30)) "$img"
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
cat "$img" >/dev/null # page cache warm for everyone
one=() all=() glt=()
for r in $(seq "$rounds"); do
	t0=$(now)
	"$kw" scan dump "$img" --jobs 1 --quiet --format json -o "$work/one.json"
	t1=$(now)
	"$kw" scan dump "$img" --quiet --format json -o "$work/all.json"
	t2=$(now)
	"$gl" dir "$img" --no-banner --log-level info --max-target-megabytes 2048 --report-path "$work/gitleaks.json" --exit-code 0 2>"$work/gitleaks.log"
	t3=$(now)
	one+=("$(echo "$t1 - $t0" | bc)") all+=("$(echo "$t2 - $t1" | bc)") glt+=("$(echo "$t3 - $t2" | bc)")
	echo "round $r: keywarden --jobs 1 ${one[-1]}s, all cores ${all[-1]}s, gitleaks ${glt[-1]}s"
done
m1=$(printf '%s\n' "${one[@]}" | median)
ma=$(printf '%s\n' "${all[@]}" | median)
mg=$(printf '%s\n' "${glt[@]}" | median)
echo
echo "1 GiB raw image, no keys, medians of $rounds rounds ($(nproc) cores):"
printf '  keywarden scan dump --jobs 1   %6.2fs  %6.0f MB/s per core\n' "$m1" "$(echo "1073.741824 / $m1" | bc -l)"
printf '  keywarden scan dump (all)      %6.2fs  %6.0f MB/s\n' "$ma" "$(echo "1073.741824 / $ma" | bc -l)"
printf '  gitleaks dir (same file)       %6.2fs  ratio gitleaks/keywarden(all) %.2f; gitleaks: %s\n' "$mg" "$(echo "$mg / $ma" | bc -l)" \
	"$(grep -o 'scanned [^ ]* bytes[^m]*' "$work/gitleaks.log" | head -1) (it skips files it sniffs as binary, so it reads none of the image)"
for f in one all; do
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/$f.json")
	[ "$n" = 0 ] || { echo "!! $n findings in the keyless image ($f)"; exit 1; }
done

echo
echo "== false positives on binaries with no private keys"
goroot=$(go env GOROOT)
mapfile -t corpus < <(find "$goroot/bin" "$goroot/pkg/tool" /usr/bin /usr/lib/x86_64-linux-gnu -maxdepth 2 -type f -size +0 2>/dev/null)
size=$(du -cb "${corpus[@]}" | tail -1 | cut -f1)
"$kw" scan dump "${corpus[@]}" --quiet --format json -o "$work/corpus.json" || [ $? -le 1 ]
python3 - "$work/corpus.json" "${#corpus[@]}" "$size" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]} files, {int(sys.argv[3]) / 2**20:.0f} MiB: {len(r['findings'])} findings")
for f in r["findings"]:
    k = f.get("key") or {}
    for l in f["locations"]:
        print(f"  {f['rule_id']} {k.get('type')} {k.get('format')} {l['path']} @ {l.get('offset')} [{l.get('detector')}] weaknesses={[w['id'] for w in f.get('weaknesses', [])]}")
PY
