#!/bin/sh
# User-space instructions per event of each fanotify reader, counted by
# callgrind inside `run_reader` only (event generation excluded).
# Needs root and valgrind. Builds the bench first, and runs exactly the
# executable that build made (never a stale one).
set -eu
N=${N:-20000}
BIN=$(cargo bench --bench fanotify --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "could not build benches/fanotify.rs" >&2; exit 1; }
OUT=$(mktemp -d)
for spec in "fid hand" "fid kernfd" "fid fanotify-fid" "fid nix" \
            "fd hand-4k" "fd kernfd-4k" "fd nix" "fd fanotify-fid"; do
    set -- $spec
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_reader*' \
        --callgrind-out-file="$OUT/cg" "$BIN" "$1" "$2" "$N" >/dev/null 2>"$OUT/log"
    ir=$(grep '^totals:' "$OUT/cg" | awk '{print $2}')
    echo "$1 $2: $((ir / N)) instructions/event ($ir for $N events)"
done
rm -rf "$OUT"
