#!/bin/sh
# Start-to-exit time of examples/container.rs running /bin/true, beside
# util-linux `unshare --mount --uts --ipc --pid --fork --mount-proc
# /bin/true` (plus `--user --map-root-user` when not root), in one run.
#
# Both are timed in the same loop shape: ROUNDS rounds, alternating the two
# tools, N runs per round; the best round of each is reported (the least
# disturbed by the rest of the machine), in microseconds per run, and the
# ratio. The container does more than unshare: a tmpfs root, recursive
# read-only binds of /usr and /etc (symlinks for merged-usr /bin, /sbin,
# /lib, /lib64), /proc, /tmp, six device binds, pivot_root and detaching
# the old root.
#
# Usage: sh benches/container.sh   (N=200 ROUNDS=5 by default)
set -eu
N=${N:-200}
ROUNDS=${ROUNDS:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet --example container
C=target/release/examples/container
set -- unshare --mount --uts --ipc --pid --fork --mount-proc
[ "$(id -u)" = 0 ] || set -- "$@" --user --map-root-user

# Runs the command in "$@" N times; prints the mean microseconds per run.
per_run() {
    start=$(date +%s%N)
    i=0
    while [ "$i" -lt "$N" ]; do
        "$@" >/dev/null
        i=$((i + 1))
    done
    end=$(date +%s%N)
    echo $(((end - start) / N / 1000))
}

best_c=
best_u=
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    c=$(per_run "$C" -- /bin/true)
    u=$(per_run "$@" /bin/true)
    [ -z "$best_c" ] || [ "$c" -lt "$best_c" ] && best_c=$c
    [ -z "$best_u" ] || [ "$u" -lt "$best_u" ] && best_u=$u
    r=$((r + 1))
done
echo "container -- /bin/true: ${best_c} us/run"
echo "$* /bin/true: ${best_u} us/run"
echo "ratio container/unshare: $(echo "scale=2; $best_c / $best_u" | bc 2>/dev/null || echo "$best_c/$best_u")"
