#!/usr/bin/env bash
# Peak memory of keywarden (the release build) on the shapes that stress it, measured with
# GNU time (`/usr/bin/time -v`, "Maximum resident set size"), each checked against a bound:
#
#   big    a repository whose one commit adds a 500 MB single-line text file holding three
#          generated GitHub tokens: one straddling the 1 MiB boundary, one straddling 256 MiB,
#          one 1 KB before the end. Scanned as history (`scan git --max-file-size 0`) and as
#          files (`scan dir --max-file-size 0` on its checkout); all three must be found at
#          their exact offsets.
#   wide   a repository whose one commit adds eight 64 MiB single-line files (no secrets),
#          scanned with `scan git --max-file-size 0`.
#   many   a repository of 100,000 small blobs (bench/genrepo.go through git fast-import:
#          25,000 files of 20 lines, then 75,000 commits that each change one of them),
#          scanned with the defaults (`scan git`).
#
#   bench/memory.sh            # exits 1 if a bound is exceeded or a token is missed
#
# Environment: BENCH_DIR (default /tmp/keywarden-bench; needs about 2 GB free),
# KW_TAGS (default gore2regex,re2_cgo, the README's build), KW_BIN (a keywarden binary to
# measure instead of building one). Needs GNU time
# (apt-get install time), git, go and python3.
#
# The bounds, and why (docs/benchmarks.md, "Memory", has the measured figures):
#
#   big:  peak RSS <= 256 MiB + 2 x the largest blob (scan git and scan dir alike).
#         Blobs are read whole, never streamed: git's answer or the file is one buffer (1x),
#         and detection lower-cases the text it scans into a second buffer of the same size
#         (1x, the worker's pooled scratch). A 500 MB blob therefore costs about 1 GB; keep
#         huge blobs out with --max-file-size (10 MiB by default).
#   wide: peak RSS <= 256 MiB + 2 x the total of the large blobs. Readers run ahead of
#         detection by a number of blobs, not of bytes (up to 64 for the git cat-file reader,
#         plus 4 per worker queued for detection), so large blobs of one commit can all be in
#         memory at once.
#   many: peak RSS <= 640 MiB for 100,000 blobs in 75,001 commits. Only a few blobs are
#         loaded at a time; the live heap (about 250 MiB) is the 64 MiB decoded-tree cache,
#         go-git's object cache and pack indexes, and about 1 KiB per commit and blob of walk
#         and dedup state; the Go GC lets the heap grow to twice what is live.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/keywarden-bench}/memory
kwtags=${KW_TAGS-gore2regex,re2_cgo}
timev=/usr/bin/time
if ! "$timev" -v true >/dev/null 2>&1; then
	echo "bench/memory.sh needs GNU time at $timev: apt-get install time" >&2
	exit 2
fi

# Sizes in bytes, bounds in KiB (GNU time reports RSS in KiB).
mib=1024
big_size=500000000
wide_files=8
wide_size=$((64 << 20))
big_bound=$((256 * mib + 2 * big_size / 1024))
wide_bound=$((256 * mib + 2 * wide_files * wide_size / 1024))
many_bound=$((640 * mib))

mkdir -p "$work/bin"
kw=${KW_BIN:-$work/bin/keywarden}
if [ -z "${KW_BIN:-}" ]; then
	echo "== building keywarden (-tags '$kwtags'), the release build"
	(cd "$here" && go build -trimpath -tags "$kwtags" -o "$kw" ./cmd/keywarden)
fi

# commit_all DIR MESSAGE: a repository of DIR's files, in one commit with a fixed date.
commit_all() {
	git -C "$1" init -q -b main
	git -C "$1" add -A
	GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
		git -C "$1" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "$2"
}

# (a) One 500 MB line of filler words with three generated tokens (seeded, so every run scans
# the same bytes; no token is written in this script). The repository's work tree is the
# checkout that scan dir reads; the tokens' offsets are kept inside .git, which dir scans skip.
big=$work/big
if [ ! -s "$big/.git/bench-token-offsets" ]; then
	echo "== building $big (one 500 MB blob)"
	rm -rf "$big" && mkdir -p "$big"
	python3 - "$big/huge.txt" "$big_size" "$work/big-offsets" <<'EOF'
import random, sys
path, size, offsets = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(11)
words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"consectetur", b"adipiscing", b"elit",
         b"sed", b"do", b"eiusmod", b"tempor", b"incididunt", b"labore", b"dolore", b"magna",
         b"aliqua", b"enim", b"minim", b"veniam", b"quis", b"nostrud", b"exercitation", b"ullamco"]
# 1 MiB of words, repeated: cheap to write, and no window of deflate sees a repeat.
chunk = bytearray()
while len(chunk) < (1 << 20):
    chunk += rng.choice(words) + b" "
chunk = bytes(chunk[: 1 << 20])
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
def token():
    return ("ghp" + "_" + "".join(rng.choice(alnum) for _ in range(36))).encode()
# Where each token's " TOKEN " goes: straddling 1 MiB, straddling 256 MiB, near the end.
placed = [((1 << 20) - 17, token()), ((256 << 20) - 20, token()), (size - 1024, token())]
with open(path, "wb") as f:
    written = 0
    while written < size - 1:
        n = min(len(chunk), size - 1 - written)
        f.write(chunk[:n])
        written += n
    f.write(b"\n")
    for off, tok in placed:
        f.seek(off)
        f.write(b" " + tok + b" ")
with open(offsets, "w") as f:
    for off, _ in placed:
        f.write("%d\n" % (off + 1))
EOF
	commit_all "$big" "one huge file"
	mv "$work/big-offsets" "$big/.git/bench-token-offsets"
fi

# (c) Eight 64 MiB files in one commit, each one line of words (no secrets).
wide=$work/wide
if [ ! -s "$wide/.git/bench-done" ]; then
	echo "== building $wide ($wide_files blobs of 64 MiB)"
	rm -rf "$wide" && mkdir -p "$wide"
	python3 - "$wide" "$wide_files" "$wide_size" <<'EOF'
import random, sys
d, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"elit", b"sed", b"tempor", b"magna"]
for k in range(files):
    rng = random.Random(k)
    chunk = bytearray()
    while len(chunk) < (1 << 20):
        chunk += rng.choice(words) + b" "
    with open("%s/part%d.txt" % (d, k), "wb") as f:
        for _ in range(size >> 20):
            f.write(chunk[: 1 << 20])
EOF
	commit_all "$wide" "large files"
	echo built >"$wide/.git/bench-done"
fi

# (b) 100,000 small blobs.
many=$work/many.git
if [ ! -d "$many" ]; then
	echo "== building $many (100,000 small blobs)"
	rm -rf "$many.tmp" && git init -q --bare -b main "$many.tmp"
	(cd "$here" && go run bench/genrepo.go -files 25000 -commits 75000 -lines 20) | git -C "$many.tmp" fast-import --quiet
	git -C "$many.tmp" gc -q
	mv "$many.tmp" "$many"
fi

fail=0
# measure NAME BOUND_KIB WANT_FINDINGS ARGS...: runs keywarden under GNU time, then checks its
# exit code, its peak RSS against the bound and its number of findings (-1: any number).
measure() {
	local name=$1 bound=$2 want=$3
	shift 3
	local out=$work/$name.json tv=$work/$name.time rc=0
	"$timev" -v -o "$tv" "$kw" "$@" --format json -o "$out" --exit-code 0 2>"$work/$name.log" || rc=$?
	local rss wall findings
	rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tv")
	wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tv")
	findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("findings") or []))' "$out" 2>/dev/null || echo "?")
	printf '%-9s peak RSS %6d MiB (bound %6d MiB)  wall %8s  findings %s  exit %d\n' \
		"$name" $((rss / 1024)) $((bound / 1024)) "$wall" "$findings" "$rc"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name: keywarden exited $rc (see $work/$name.log)" >&2
		fail=1
	fi
	if [ "$rss" -gt "$bound" ]; then
		echo "FAIL $name: peak RSS $((rss / 1024)) MiB is over the bound of $((bound / 1024)) MiB" >&2
		fail=1
	fi
	if [ "$want" -ge 0 ] && [ "$findings" != "$want" ]; then
		echo "FAIL $name: $findings findings, want $want" >&2
		fail=1
	fi
}

# found_at NAME: every token of the big file is a finding at its exact offset (one line, so
# a location's column, 1-based, is the token's byte offset + 1), the straddling ones too.
found_at() {
	python3 - "$work/$1.json" "$big/.git/bench-token-offsets" <<'EOF' || { echo "FAIL $1: a token was missed" >&2; fail=1; }
import json, sys
rep = json.load(open(sys.argv[1]))
want = [int(l) for l in open(sys.argv[2]) if l.strip()]
got = sorted(loc.get("column", 0) - 1 for f in rep.get("findings") or [] for loc in f.get("locations") or [])
missing = [w for w in want if w not in got]
if missing:
    print("no finding at byte offsets %s (found at %s)" % (missing, got), file=sys.stderr)
    sys.exit(1)
EOF
}

echo "== peak memory"
measure big-git "$big_bound" 3 scan git "$big" --max-file-size 0
found_at big-git
measure big-dir "$big_bound" 3 scan dir "$big" --max-file-size 0
found_at big-dir
measure wide-git "$wide_bound" 0 scan git "$wide" --max-file-size 0
measure many-git "$many_bound" -1 scan git "$many"
if [ "$fail" -ne 0 ]; then
	echo "== memory bounds exceeded or tokens missed" >&2
	exit 1
fi
echo "== within bounds"
