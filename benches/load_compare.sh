#!/usr/bin/env bash
# Compare obsgate's load generator (examples/loadgen.rs, src/probe/load.rs) with wrk against
# the same loopback server (examples/hello_server.rs): same connection count, same duration,
# run one after the other. Not part of `cargo test`.
#
# Usage: benches/load_compare.sh
# Environment (all optional):
#   CONNS=32        connections for both tools
#   SECONDS=10      duration of each run
#   THREADS=2       wrk threads (-t) and loadgen worker threads (-t)
#   PORT=18080      server port (127.0.0.1 only)
#   URL_PATH=/      path to load (e.g. /metrics)
#   PAUSE=2         seconds between the runs
#   WARMUP=1        seconds of warm-up load before the measured runs (0: none)
#   BIN_DIR=...     use prebuilt hello_server/loadgen from this directory instead of building
set -euo pipefail

# SECONDS is bash's own clock: read the caller's value from the environment instead.
DURATION=$(printenv SECONDS || true)
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
URL_PATH=${URL_PATH:-/}
PAUSE=${PAUSE:-2}
WARMUP=${WARMUP:-1}
URL="http://127.0.0.1:${PORT}${URL_PATH}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RUST_BACKTRACE=0

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }

if [[ -z "${BIN_DIR:-}" ]]; then
    (cd "$ROOT" && cargo build --release --example hello_server --example loadgen)
    BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples"
fi
SERVER="$BIN_DIR/hello_server"
LOADGEN="$BIN_DIR/loadgen"

SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server stops by itself even if this script is killed hard.
"$SERVER" "$PORT" --seconds $((2 * DURATION + WARMUP + 2 * PAUSE + 30)) &
SERVER_PID=$!
ready=
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ready=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
sleep 0.2
if [[ -z "$ready" ]] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "hello_server did not start on 127.0.0.1:$PORT (port in use?)" >&2
    exit 1
fi

if (( WARMUP > 0 )); then
    "$LOADGEN" "$URL" -c "$CONNS" -d "$WARMUP" -t "$THREADS" >/dev/null
    sleep "$PAUSE"
fi

echo "== wrk -t$THREADS -c$CONNS -d${DURATION}s --latency $URL"
WRK_OUT=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$URL")
echo "$WRK_OUT"
sleep "$PAUSE"

echo "== loadgen $URL -c $CONNS -d $DURATION -t $THREADS"
LG_OUT=$("$LOADGEN" "$URL" -c "$CONNS" -d "$DURATION" -t "$THREADS")
echo "$LG_OUT"

# wrk: "Requests/sec:  12345.67" and, under "Latency Distribution", "     99%    1.23ms".
WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$WRK_OUT")
WRK_P99=$(awk '$1 == "99%" {
    v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
    f = (unit == "us") ? 1e-6 : (unit == "ms") ? 1e-3 : (unit == "s") ? 1 : (unit == "m") ? 60 : 0;
    printf "%.6f", v * f }' <<<"$WRK_OUT")
json_field() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" <<<"$LG_OUT" | head -n1; }
LG_RPS=$(json_field throughput)
LG_P99=$(json_field p99_seconds)
LG_ERR=$(json_field error_rate)

echo "== summary (conns=$CONNS seconds=$DURATION threads=$THREADS url=$URL)"
awk -v w="$WRK_RPS" -v l="$LG_RPS" -v wp="$WRK_P99" -v lp="$LG_P99" -v le="$LG_ERR" 'BEGIN {
    printf "wrk      throughput %12.1f req/s   p99 %.6f s\n", w, wp;
    printf "loadgen  throughput %12.1f req/s   p99 %.6f s   error_rate %s\n", l, lp, le;
    if (w > 0) printf "ratio loadgen/wrk  %.3f\n", l / w; else print "ratio loadgen/wrk  n/a";
}'
