#!/bin/sh
# Builds the no_std loop, checks it is static and small, then drives it
# with a file, SIGHUP, SIGTERM, timer ticks, the worker, and SIGINT.
# Run from anywhere: sh examples/nostd-loop/check.sh
set -eu
cd "$(dirname "$0")"
cargo build --release --quiet
bin=target/x86_64-unknown-linux-musl/release/nostd-loop
file "$bin"
file "$bin" | grep -q 'statically linked'
size=$(stat -c %s "$bin")
echo "nostd-loop: $size bytes (stripped)"
[ "$size" -lt 32768 ]

dir=$(mktemp -d)
out=$(mktemp)
"$bin" "$dir" >"$out" 2>&1 &
pid=$!
sleep 0.3
touch "$dir/hello"
kill -HUP "$pid"
sleep 3.3            # one 2 s timer tick and one 3 s worker write
kill -TERM "$pid"
sleep 0.1
kill -INT "$pid"
status=0
timeout 5 tail --pid="$pid" -f /dev/null || status=$?
wait "$pid" || status=$?
cat "$out"
for want in "name='hello') CREATE" "signal: SIGHUP" "signal: SIGTERM" \
            "signal: SIGINT" "timer: 1 tick(s)" "worker: +1" "SIGINT: bye"; do
    grep -qF "$want" "$out" || { echo "missing: $want"; exit 1; }
done
rm -rf "$dir" "$out"
[ "$status" -eq 0 ]
echo "nostd-loop: ok"
