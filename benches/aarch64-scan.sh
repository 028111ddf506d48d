#!/bin/sh
# Instructions per event of kernfd's inotify name scan on aarch64 (NEON)
# and x86_64 (SSE2), each beside the portable scan, on the same input.
#
# Builds benches/scan (one synthetic, kernel-shaped buffer of N events with
# random 4- to 40-byte names, parsed with kernfd::inotify::parse; the same
# bytes on every target) as a static musl program for both targets, each
# twice: as is, and with RUSTFLAGS="--cfg kernfd_portable_scan" (the
# portable word scan instead of the vector one). Then counts every
# instruction the program executes with PASSES = 1 and with PASSES = 2; the
# difference is one pass over the buffer (building the buffer and start-up
# cancel out), divided by N:
# - aarch64: qemu-aarch64 -d in_asm,exec,nochain (each translated block's
#   instructions from in_asm, times how often exec shows it entered;
#   nochain makes exec show every entry). Debian's static qemu-user cannot
#   load TCG plugins, so no libinsn.so.
# - x86_64: valgrind --tool=callgrind (total Ir).
# Every run must report N * PASSES events and one checksum per PASSES, or
# the script fails.
#
# Usage: sh benches/aarch64-scan.sh [N]   (default 100000; about 2 minutes
# after the builds). Needs the Rust targets aarch64-unknown-linux-musl and
# x86_64-unknown-linux-musl, qemu-user-static and valgrind.
set -eu

N=${1:-100000}
cd "$(dirname "$0")/scan"
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
[ -n "$QEMU" ] || { echo "SKIPPED aarch64-scan: qemu-aarch64 not installed"; exit 0; }
command -v valgrind >/dev/null || { echo "SKIPPED aarch64-scan: valgrind not installed"; exit 0; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

A64=aarch64-unknown-linux-musl
X64=x86_64-unknown-linux-musl
# build VARIANT TARGET: prints the program's path. `portable` adds the cfg;
# each variant has its own target directory, so neither rebuilds the other.
build() {
    flags=
    [ "$1" = portable ] && flags="--cfg kernfd_portable_scan"
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/$1" \
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
        cargo build --quiet --release --target "$2" >&2
    echo "target/$1/$2/release/kernfd-scan"
}

# qemu_count BIN PASSES: prints "instructions events checksum".
qemu_count() {
    rm -f "$WORK/fifo"
    mkfifo "$WORK/fifo"
    "$QEMU" -d in_asm,exec,nochain -D "$WORK/fifo" "$1" "$N" "$2" >"$WORK/out" &
    ir=$(awk '
        # A translated block: "IN: symbol", one "0xADDR:  insn" line per
        # instruction, then a blank line. Keys drop 0x and leading zeros.
        /^IN:/ { inblock = 1; start = ""; n = 0; next }
        inblock && /^0x[0-9a-f]+:/ {
            if (start == "") { start = substr($1, 3, length($1) - 3); sub(/^0+/, "", start) }
            n++; next
        }
        inblock && /^$/ { if (start != "") size[start] = n; inblock = 0; next }
        # "Trace 0: HOSTPTR [flags/PC/flags/cflags] symbol": one block entered.
        /^Trace / {
            split(substr($4, 2), f, "/"); pc = f[2]; sub(/^0+/, "", pc)
            if (!(pc in size)) { print "no in_asm for block " pc > "/dev/stderr"; bad = 1 }
            total += size[pc]
        }
        END { if (bad) exit 1; printf "%d\n", total }' "$WORK/fifo")
    wait $!
    echo "$ir $(cat "$WORK/out")"
}

# callgrind_count BIN PASSES: prints "instructions events checksum".
callgrind_count() {
    out=$(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$1" "$N" "$2" 2>"$WORK/log")
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/log")
    echo "$ir $out"
}

# measure NAME COUNTER BIN: prints "NAME per-event checksum", after checking
# the event counts.
measure() {
    set -- "$1" "$($2 "$3" 1)" "$($2 "$3" 2)"
    echo "$1 $2 $3" | awk -v n="$N" '{
        if ($3 != n || $6 != 2 * n) { printf "%s: %s and %s events, not %d and %d\n", $1, $3, $6, n, 2 * n > "/dev/stderr"; exit 1 }
        if ($7 != 2 * $4) { printf "%s: checksums %s and %s disagree\n", $1, $4, $7 > "/dev/stderr"; exit 1 }
        printf "%s %.2f %s\n", $1, ($5 - $2) / n, $4 }'
}

{
    measure aarch64-neon qemu_count "$(build vector $A64)"
    measure aarch64-portable qemu_count "$(build portable $A64)"
    measure x86_64-sse2 callgrind_count "$(build vector $X64)"
    measure x86_64-portable callgrind_count "$(build portable $X64)"
} >"$WORK/figures"
awk 'NR == 1 { sum = $3 } $3 != sum { printf "%s: checksum %s, not %s\n", $1, $3, sum; exit 1 }' "$WORK/figures"

echo "Instructions per event, kernfd::inotify::parse over $N synthetic kernel events"
echo "(names of 4 to 40 random bytes; name fields of 16, 32, 48 bytes), static musl,"
echo "release; $(rustc --version); $("$QEMU" --version | head -n 1); valgrind $(valgrind --version | sed 's/valgrind-//')"
echo
echo "| target | vector scan | portable scan | portable / vector |"
echo "|---|---:|---:|---:|"
awk '{ ir[$1] = $2 }
    END {
        printf "| aarch64 (qemu, NEON) | %.2f | %.2f | %.2f |\n", ir["aarch64-neon"], ir["aarch64-portable"], ir["aarch64-portable"] / ir["aarch64-neon"]
        printf "| x86_64 (callgrind, SSE2) | %.2f | %.2f | %.2f |\n", ir["x86_64-sse2"], ir["x86_64-portable"], ir["x86_64-portable"] / ir["x86_64-sse2"]
    }' "$WORK/figures"
