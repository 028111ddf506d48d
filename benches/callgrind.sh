#!/bin/sh
# User-space instructions per inotify event, counted exactly by callgrind.
#
# Builds benches/inotify.rs in release mode (and benches/inotify_strlen.c
# with gcc -O2), then runs each reader alone over N kernel events under
#   valgrind --tool=callgrind --toggle-collect='*bench_reader_*'
# so only the reader's function and what it calls (read() wrappers, parsing,
# allocation) are counted: no setup, no event generation, no kernel time.
# Every reader must see N events and the same checksum of wd + mask +
# cookie + name length, or the script fails.
#
# First the default mix of names (field lengths 16, 16, 32, 48 in turn),
# then each name shape alone (KERNFD_BENCH_NAME_KIND=0..3).
#
# Usage: benches/callgrind.sh [N]   (default 100000; needs root to raise
# /proc/sys/fs/inotify/max_queued_events, restored on exit; skips otherwise)
set -eu

N=${1:-100000}
cd "$(dirname "$0")/.."
for tool in valgrind gcc; do
    command -v $tool >/dev/null || { echo "SKIPPED callgrind: $tool not installed"; exit 0; }
done

SYSCTL=/proc/sys/fs/inotify/max_queued_events
OLD=$(cat "$SYSCTL")
NEED=$((N + 1024))
if [ "$OLD" -lt "$NEED" ] && [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED callgrind: $N events need $SYSCTL >= $NEED (it is $OLD); raising it needs root"
    exit 0
fi
WORK=$(mktemp -d)
cleanup() {
    rm -rf "$WORK"
    [ "$(cat "$SYSCTL")" = "$OLD" ] || echo "$OLD" > "$SYSCTL"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$OLD" -ge "$NEED" ] || echo "$NEED" > "$SYSCTL"

BENCH=$(cargo bench --bench inotify --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$BENCH" ] || { echo "could not build the bench"; exit 1; }
gcc -O2 -g -Wall -o "$WORK/inotify_strlen" benches/inotify_strlen.c

READERS="bare kernfd-read kernfd-drain kernfd-try inotify nix rustix c-strlen parse-kernfd parse-header"

# count NAME: prints "NAME instructions events checksum"
count() {
    if [ "$1" = c-strlen ]; then
        set -- "$1" "$WORK/inotify_strlen" "$N"
    else
        set -- "$1" "$BENCH" callgrind "$1" "$N"
    fi
    name=$1
    shift
    out=$(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
        --toggle-collect='*bench_reader_*' "$@" 2>"$WORK/log") || {
        cat "$WORK/log" >&2
        echo "$name failed" >&2
        exit 1
    }
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/log")
    echo "$name $ir $out"
}

# check FILE: fails unless every reader saw N events with one checksum.
check() {
    awk -v n="$N" '
        $3 != n { printf "%s saw %s events, not %d\n", $1, $3, n; bad = 1 }
        $1 != "bare" && $1 != "parse-header" {
            if (sum == "") sum = $4
            else if ($4 != sum) { printf "%s: checksum %s, others %s\n", $1, $4, sum; bad = 1 }
        }
        END { exit bad }' "$1"
}

for r in $READERS; do count "$r"; done >"$WORK/mixed"
check "$WORK/mixed"
for kind in 0 1 2 3; do
    for r in $READERS; do KERNFD_BENCH_NAME_KIND=$kind count "$r"; done >"$WORK/kind$kind"
    check "$WORK/kind$kind"
done

echo "User-space instructions per event ($N kernel events per reader, 4096-byte buffer,"
echo "valgrind --tool=callgrind --toggle-collect='*bench_reader_*'; valgrind $(valgrind --version | sed 's/valgrind-//'))"
echo
echo "| reader | mixed names | vs kernfd-read | 15-byte name | 9-byte | 20-byte | 35-byte |"
echo "|---|---:|---:|---:|---:|---:|---:|"
paste "$WORK/mixed" "$WORK/kind0" "$WORK/kind1" "$WORK/kind2" "$WORK/kind3" | awk -v n="$N" '
    NR == FNR { }
    { r[NR] = $1; m[NR] = $2; k0[NR] = $6; k1[NR] = $10; k2[NR] = $14; k3[NR] = $18
      if ($1 == "kernfd-read") base = $2 }
    END {
        for (i = 1; i <= NR; i++)
            printf "| %s | %.2f | %.3f | %.2f | %.2f | %.2f | %.2f |\n", r[i], m[i] / n, m[i] / base,
                k0[i] / n, k1[i] / n, k2[i] / n, k3[i] / n
    }'
awk -v n="$N" '
    { ir[$1] = $2 }
    END {
        k = ir["kernfd-read"]
        printf "\nmixed names, peer / kernfd-read: inotify %.2fx, nix %.2fx, rustix %.2fx, C strlen %.2fx;", ir["inotify"] / k, ir["nix"] / k, ir["rustix"] / k, ir["c-strlen"] / k
        printf " kernfd-drain / kernfd-read %.3f\n", ir["kernfd-drain"] / k
        printf "parse only: kernfd parse %.2f, header-only skip %.2f instructions per event (%.2fx)\n", ir["parse-kernfd"] / n, ir["parse-header"] / n, ir["parse-kernfd"] / ir["parse-header"]
    }' "$WORK/mixed"
