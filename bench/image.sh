#!/usr/bin/env bash
# Times `keywarden scan image` on a generated container image of about 500 MB of file content
# (an OCI layout of 8 gzip-compressed layers, written by bench/genimage.go) and, for reference
# on the same bytes, gitleaks v8.30.1 built as released (-tags gore2regex) and `keywarden scan
# dir` on the image's final file system extracted to a directory, alternating, in one run.
#
#   bench/image.sh [ROUNDS]            # default 5 rounds
#
# Environment:
#   BENCH_DIR      work directory (default /tmp/keywarden-bench/image)
#   BENCH_SIZE     MB (10^6 bytes) of file content across all layers (default 500)
#   BENCH_PROFILE  if set, finish with one profiled keywarden image scan (--cpuprofile) and
#                  print the top of `go tool pprof -top`
#   KW_TAGS        build tags for keywarden (default gore2regex,re2_cgo as in the README)
#
# What each run reads:
#   keywarden scan image oci:DIR   every layer, decompressed: files later layers delete or
#                                  overwrite too, archives (jar, zip, tar, gz) opened, the config
#   gitleaks dir TREE              the final tree only; archives are skipped (default
#                                  --max-archive-depth 0)
#   gitleaks dir --max-archive-depth 3 TREE
#                                  also opens archives, but only those its name tells
#                                  (.gz, .zip, .tar…): gitleaks 8.30.1 identifies archives in
#                                  dir scans by file name, so it never opens a .jar
#   keywarden scan dir TREE        the final tree only; keywarden opens no archives in dir scans
#
# Prints per-run wall time and peak RSS, then the median of each, the throughput in MB/s
# (10^6 bytes/s) of the layer content (the exact byte count is printed), findings and ratios.
set -euo pipefail
rounds=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/keywarden-bench/image}
size=${BENCH_SIZE:-500}
mkdir -p "$work/bin"
work=$(cd "$work" && pwd) # the scans run inside it

kwtags=${KW_TAGS-gore2regex,re2_cgo}
echo "== building keywarden (-tags '$kwtags') and gitleaks v8.30.1 (as released: -tags gore2regex)"
(cd "$here" && GOBIN=$work/bin go install -tags "$kwtags" ./cmd/keywarden)
GOBIN=$work/bin go install -tags gore2regex -ldflags "-s -w -X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" \
	github.com/zricethezav/gitleaks/v8@v8.30.1
kw=$work/bin/keywarden
gl=$work/bin/gitleaks

info=$work/image.info
if [ ! -f "$info" ] || [ "$here/bench/genimage.go" -nt "$info" ] || ! grep -qx "size=$size" "$info"; then
	echo "== generating the image ($size MB of content) into $work/oci and its final tree into $work/rootfs"
	rm -f "$info"
	(cd "$here" && go run bench/genimage.go -out "$work/oci" -tree "$work/rootfs" -size "$size") >"$info.tmp"
	echo "size=$size" >>"$info.tmp"
	mv "$info.tmp" "$info"
fi
val() { sed -n "s/^$1=//p" "$info"; }
content=$(val content_bytes)
tree_bytes=$(val tree_bytes)
echo "   image: $(val layers) layers, $(val files) files, $content bytes of file content ($(val tar_bytes) bytes of tar, $(val compressed_bytes) gzipped)"
echo "   final tree: $(val tree_files) files, $tree_bytes bytes"
grep '^planted:' "$info" | sed 's/^/   /'

# Every command runs in $work: keywarden takes its config and .keywardenignore from the
# repository it runs in, gitleaks its .gitleaksignore from the working directory.
cd "$work"
image="oci:$work/oci"
# run NAME [PREFIX...] runs one of the four scans, behind PREFIX (a timer) if given.
run() {
	local n=$1
	shift
	case $n in
	kw_image) "$@" "$kw" scan image "$image" --format json --output kw-image.json --quiet --exit-code 0 ;;
	gl_dir) "$@" "$gl" dir rootfs --report-format json --report-path gl-dir.json --exit-code 0 --log-level error --no-banner ;;
	gl_arch) "$@" "$gl" dir rootfs --max-archive-depth 3 --report-format json --report-path gl-arch.json --exit-code 0 --log-level error --no-banner ;;
	kw_dir) "$@" "$kw" scan dir rootfs --format json --output kw-dir.json --quiet --exit-code 0 ;;
	esac
}
measure() { # NAME -> prints "seconds maxrss_kib"
	run "$1" /usr/bin/time -o time.out -f '%e %M' >/dev/null 2>&1 || true
	tail -1 time.out
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== warm-up (page cache), untimed"
for n in kw_image gl_dir gl_arch kw_dir; do run $n >/dev/null; done

names=(kw_image gl_dir gl_arch kw_dir)
declare -A times rss
for r in $(seq 1 "$rounds"); do
	line="round $r:"
	for n in "${names[@]}"; do
		m=$(measure "$n")
		times[$n]+="${m% *} " rss[$n]+="${m#* } "
		line+="  $n ${m% *}s ($(( ${m#* } / 1024 )) MiB)"
	done
	echo "$line"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

kw_findings() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$1"; }
gl_findings() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"; }
declare -A found=(
	[kw_image]="$(kw_findings kw-image.json) (one per rule+secret)"
	[gl_dir]="$(gl_findings gl-dir.json) (one per file+line)"
	[gl_arch]="$(gl_findings gl-arch.json) (one per file+line)"
	[kw_dir]="$(kw_findings kw-dir.json) (one per rule+secret)"
)
declare -A label=(
	[kw_image]="keywarden scan image $image"
	[gl_dir]="gitleaks dir rootfs"
	[gl_arch]="gitleaks dir --max-archive-depth 3 rootfs"
	[kw_dir]="keywarden scan dir rootfs"
)
declare -A med
echo "== median of $rounds rounds"
for n in "${names[@]}"; do
	med[$n]=$(printf '%s\n' ${times[$n]} | median)
	peak=$(printf '%s\n' ${rss[$n]} | median)
	bytes=$content
	[ "$n" = kw_image ] || bytes=$tree_bytes
	printf '   %-58s %6.2f s  %7.1f MB/s of %s bytes  %5d MiB peak  findings %s\n' "${label[$n]}" "${med[$n]}" \
		"$(echo "$bytes / ${med[$n]} / 1000000" | bc -l)" "$bytes" "$(echo "$peak / 1024" | bc)" "${found[$n]}"
done
ratio() { echo "scale=2; $1 / $2" | bc; }
echo "   layer-scan throughput: $content bytes of layer content / ${med[kw_image]} s = $(printf '%.1f' "$(echo "$content / ${med[kw_image]} / 1000000" | bc -l)") MB/s"
echo "   ratio gitleaks dir / keywarden image:                       $(ratio "${med[gl_dir]}" "${med[kw_image]}")x"
echo "   ratio gitleaks dir --max-archive-depth 3 / keywarden image: $(ratio "${med[gl_arch]}" "${med[kw_image]}")x"
echo "   ratio gitleaks dir / keywarden dir (same tree):             $(ratio "${med[gl_dir]}" "${med[kw_dir]}")x"
python3 - kw-image.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["stats"]
print("   keywarden image stats: %d blobs, %d bytes read as files (%d scanned after line dedup), %d skipped"
      % (s["blobs"], s["bytes"], s["scanned_bytes"], s["skipped"]))
for f in d["findings"]:
    loc = f["locations"][0]
    where = loc.get("path", "")
    if loc.get("layer"):
        where += " (layer %d)" % loc["layer"]
    if loc.get("note"):
        where += ": " + loc["note"]
    print("     %-20s %s" % (f["rule_id"], where))
PY

if [ -n "${BENCH_PROFILE:-}" ]; then
	echo "== CPU profile of one keywarden image scan ($work/kw-image.prof)"
	"$kw" scan image "$image" --format json --output kw-image.json --quiet --exit-code 0 --cpuprofile kw-image.prof
	(cd "$here" && go tool pprof -top -nodecount=25 "$kw" "$work/kw-image.prof" 2>/dev/null | sed -n '4,40p')
fi
