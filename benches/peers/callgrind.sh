#!/bin/sh
# User-space instructions per event, kernfd beside its peers, built as a
# user's program builds kernfd: this package (benches/peers) depends on it
# by path, with the release profile a user gets by default (no LTO, 16
# codegen units) and again with fat LTO (`--profile lto`).
#
# Each reader runs alone in its own process over events it queued first,
# under  valgrind --tool=callgrind --toggle-collect='*bench_loop_*'  so only
# the read loop and what it calls are counted (no setup, no kernel time).
# Every reader must see every event, and readers doing the same work must
# agree on a checksum of what they read, or the script fails.
#
# Besides kernfd and its peers, two kinds of hand-written loop: `hand`
# (fanotify) and `c-strlen` (inotify) trust the kernel and check nothing;
# the checked hand loops (`hand-checked`, `hand-checked-fields`,
# `hand-checked-name`) make every check kernfd's parser promises, as plain
# straight-line Rust with word-at-a-time name scans: the floor of what the
# checks alone cost. The fanotify table's "vs hand" column divides by the
# unchecked `hand` loop.
#
# inotify: N_INO IN_MODIFY events (default 10000; needs
# /proc/sys/fs/inotify/max_queued_events >= N_INO, 16384 by default) on
# 1024 files, for names of 4 to 40 random bytes and for each fixed length.
# fanotify: N_FAN events (default 5000) in FID mode (REPORT_DFID_NAME,
# CREATE) and fd mode (OPEN), in a private mount namespace on a fresh tmpfs;
# needs root, skipped (visibly) otherwise.
#
# Usage: sh benches/peers/callgrind.sh     (about 3 minutes)
set -eu
N_INO=${N_INO:-10000}
N_FAN=${N_FAN:-5000}
MIXES=${MIXES:-"rand 4 15 16 31 40"}
PROFILES=${PROFILES:-"release lto"}
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "SKIPPED peers callgrind: valgrind not installed"; exit 0; }
command -v gcc >/dev/null || { echo "SKIPPED peers callgrind: gcc not installed"; exit 0; }
if [ "$(cat /proc/sys/fs/inotify/max_queued_events)" -lt "$N_INO" ]; then
    echo "SKIPPED peers callgrind: max_queued_events < $N_INO"; exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROOT=yes
[ "$(id -u)" -eq 0 ] || { ROOT=; echo "SKIPPED fanotify rows: they need root"; }

# run PROFILE MODE MIX READER ARGS...: appends "profile mode mix reader ir n sum"
run() {
    p=$1 mode=$2 mix=$3 reader=$4
    shift 4
    out=$(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
        --toggle-collect='*bench_loop_*' "target/$p/kernfd-peers" "$@" 2>"$WORK/log") || {
        cat "$WORK/log" >&2; echo "$p $mode $mix $reader failed" >&2; exit 1; }
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/log")
    echo "$p $mode $mix $reader $ir $out" >>"$WORK/res"
}

for p in $PROFILES; do
    cargo build --quiet --profile "$p"
    B=target/$p/kernfd-peers
    for mix in $MIXES; do
        for r in $($B list inotify); do run "$p" inotify "$mix" "$r" inotify "$r" "$N_INO" "$mix"; done
    done
    if [ -n "$ROOT" ]; then
        for r in $($B list fid); do run "$p" fid - "$r" fid "$r" "$N_FAN"; done
        for r in $($B list fd); do run "$p" fd - "$r" fd "$r" "$N_FAN"; done
    fi
done

# Every reader saw every event; readers of the same work agree.
awk -v ni="$N_INO" -v nf="$N_FAN" '
    { n = ($2 == "inotify") ? ni : nf
      if ($6 != n) { printf "%s %s %s %s saw %s events, not %d\n", $1, $2, $3, $4, $6, n; bad = 1 }
      k = $1 " " $2 " " $3 " " ($4 ~ /fields/ ? "fields" : "full")
      if (!(k in sum)) sum[k] = $7
      else if (sum[k] != $7) { printf "%s: checksum %s, not %s\n", $4, $7, sum[k]; bad = 1 } }
    END { exit bad }' "$WORK/res"

echo "User-space instructions per event (valgrind $(valgrind --version | sed 's/valgrind-//'),"
echo "--toggle-collect='*bench_loop_*'; $(rustc --version | cut -d' ' -f1-2); gcc $(gcc -dumpfullversion))"
for p in $PROFILES; do
    echo
    echo "inotify, profile $p ($N_INO events; names: 4-40 random bytes, then fixed lengths)"
    echo
    printf "| reader |"; for m in $MIXES; do printf " %s |" "$m"; done; echo
    printf "|---|"; for m in $MIXES; do printf -- "---:|"; done; echo
    awk -v p="$p" -v ni="$N_INO" -v mixes="$MIXES" '
        $1 == p && $2 == "inotify" { if (!($4 in seen)) { seen[$4] = 1; order[++k] = $4 }; ir[$4, $3] = $5 }
        END { nm = split(mixes, m, " ")
              for (i = 1; i <= k; i++) { printf "| %s |", order[i]
                  for (j = 1; j <= nm; j++) printf " %.1f |", ir[order[i], m[j]] / ni
                  print "" } }' "$WORK/res"
done
[ -n "$ROOT" ] || exit 0
echo
echo "fanotify ($N_FAN events; FID mode 64 KiB reads, fd mode 4 KiB reads)"
echo
printf "| mode | reader |"; for p in $PROFILES; do printf " %s | vs hand |" "$p"; done; echo
printf "|---|---|"; for p in $PROFILES; do printf -- "---:|---:|"; done; echo
awk -v nf="$N_FAN" -v profiles="$PROFILES" '
    $2 != "inotify" { k = $2 " " $4; if (!(k in seen)) { seen[k] = 1; order[++n] = k }; ir[k, $1] = $5 }
    END { np = split(profiles, p, " ")
          for (i = 1; i <= n; i++) { split(order[i], a, " "); printf "| %s | %s |", a[1], a[2]
              for (j = 1; j <= np; j++) printf " %.1f | %.2f |", ir[order[i], p[j]] / nf, ir[order[i], p[j]] / ir[a[1] " hand", p[j]]
              print "" } }' "$WORK/res"
