#!/bin/sh
# User-space instructions per inotify event, counted exactly by callgrind.
#
# Builds benches/inotify.rs in release mode (and benches/inotify_strlen.c
# with gcc -O2), then runs each reader alone over N kernel events under
#   valgrind --tool=callgrind --toggle-collect='*bench_reader_*'
# so only the reader's function and what it calls (read() wrappers, parsing,
# allocation) are counted: no setup, no event generation, no kernel time.
#
# Usage: benches/callgrind.sh [N]   (default 100000; needs root to raise
# /proc/sys/fs/inotify/max_queued_events, restored on exit; skips otherwise)
set -eu

N=${1:-100000}
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "SKIPPED callgrind: valgrind not installed"; exit 0; }
command -v gcc >/dev/null || { echo "SKIPPED callgrind: gcc not installed"; exit 0; }

SYSCTL=/proc/sys/fs/inotify/max_queued_events
OLD=$(cat "$SYSCTL")
NEED=$((N + 1024))
if [ "$OLD" -lt "$NEED" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIPPED callgrind: $N events need $SYSCTL >= $NEED (it is $OLD); raising it needs root"
        exit 0
    fi
    trap 'echo "$OLD" > "$SYSCTL"' EXIT INT TERM
    echo "$NEED" > "$SYSCTL"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; [ "$(cat "$SYSCTL")" = "$OLD" ] || echo "$OLD" > "$SYSCTL"' EXIT INT TERM

BENCH=$(cargo bench --bench inotify --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$BENCH" ] || { echo "could not build the bench"; exit 1; }
gcc -O2 -g -Wall -o "$WORK/inotify_strlen" benches/inotify_strlen.c

# count NAME CMD...: prints "NAME instructions events checksum"
count() {
    name=$1
    shift
    out=$(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$name" \
        --toggle-collect='*bench_reader_*' "$@" 2>"$WORK/log.$name") || {
        cat "$WORK/log.$name" >&2
        echo "$name failed" >&2
        exit 1
    }
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/log.$name")
    echo "$name $ir $out"
}

{
    for r in bare kernfd-read kernfd-drain inotify nix rustix parse-kernfd parse-header; do
        count "$r" "$BENCH" callgrind "$r" "$N"
    done
    count c-strlen "$WORK/inotify_strlen" "$N"
} >"$WORK/results"

awk -v n="$N" '
    { ir[$1] = $2; ev[$1] = $3; sum[$1] = $4; order[NR] = $1 }
    END {
        printf "user-space instructions per event, %d kernel events, 4096-byte buffer\n", n
        printf "(valgrind --tool=callgrind --toggle-collect=*bench_reader_*)\n\n"
        printf "| reader | instructions/event | vs kernfd-read | checksum |\n|---|---:|---:|---|\n"
        bad = 0
        for (i = 1; i <= NR; i++) {
            r = order[i]
            if (ev[r] != n) { printf "%s saw %s events, not %d\n", r, ev[r], n; bad = 1 }
            ok = (r == "bare" || r == "parse-header") ? "-" : (sum[r] == sum["kernfd-read"] ? "agrees" : "DIFFERS")
            if (ok == "DIFFERS") bad = 1
            printf "| %s | %.2f | %.3f | %s |\n", r, ir[r] / n, ir[r] / ir["kernfd-read"], ok
        }
        k = ir["kernfd-read"] < ir["kernfd-drain"] ? ir["kernfd-read"] : ir["kernfd-drain"]
        printf "\nratios (peer / best kernfd reader):"
        split("inotify nix rustix c-strlen", peers, " ")
        for (j = 1; j <= 4; j++) printf " %s %.2fx;", peers[j], ir[peers[j]] / k
        printf "\nparse-only: kernfd parse / header-only = %.2fx instructions\n", ir["parse-kernfd"] / ir["parse-header"]
        exit bad
    }' "$WORK/results"
