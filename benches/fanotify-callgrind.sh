#!/bin/sh
# User-space instructions per event of each fanotify reader, counted by
# callgrind inside `run_reader` only (event generation excluded).
# Needs root and valgrind; build first: cargo bench --bench fanotify --no-run
set -eu
N=${N:-20000}
BIN=$(ls -t target/release/deps/fanotify-* | grep -v '\.d$' | head -1)
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
