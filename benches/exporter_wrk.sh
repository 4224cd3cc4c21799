#!/usr/bin/env bash
# Load test of `obsgate exporter` with wrk: /probe?target=NAME, then the exporter's /metrics,
# with the exporter's resident memory sampled every second. Not part of `cargo test`.
#
#   benches/exporter_wrk.sh            # wrk -t2 -c16 -d60s per endpoint
#   DURATION=10s CONNECTIONS=32 MAX_CONCURRENT=8 benches/exporter_wrk.sh
#
# Environment: OBSGATE (a prebuilt obsgate binary to use instead of building
# target/release/obsgate), DURATION (60s), THREADS (2), CONNECTIONS (16), MAX_CONCURRENT (the exporter's
# --max-concurrent, 4: requests over it are answered 503 at once, which wrk counts as non-2xx).
# Everything listens on 127.0.0.1 and is killed on exit (trap), even on error or Ctrl-C.
set -euo pipefail

DURATION=${DURATION:-60s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
MAX_CONCURRENT=${MAX_CONCURRENT:-4}
export RUST_BACKTRACE=0

cd "$(dirname "$0")/.."

for tool in wrk curl python3 cargo; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/obsgate-exporter-wrk.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# seconds of a wrk duration (30s, 2m, 1h, 45)
seconds_of() {
    local d=$1
    case "$d" in
        *s) echo "${d%s}" ;;
        *m) echo $(( ${d%m} * 60 )) ;;
        *h) echo $(( ${d%h} * 3600 )) ;;
        *) echo "$d" ;;
    esac
}

# wait until URL answers 2xx (bounded), or fail
wait_http() {
    local url=$1 what=$2 pid=$3 i
    for i in $(seq 1 200); do
        if curl -fsS -o /dev/null --max-time 1 --noproxy '*' "$url" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: $what exited before answering $url" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "error: $what did not answer $url within 10 s" >&2
    return 1
}

SECONDS_PER_RUN=$(seconds_of "$DURATION")
LIFETIME=$(( SECONDS_PER_RUN * 2 + 120 ))

echo "== building (release)"
if [[ -z ${OBSGATE:-} ]]; then
    cargo build --release --bin obsgate
    OBSGATE=target/release/obsgate
fi
HAVE_HELLO=0
if [[ -f examples/hello_server.rs ]]; then
    cargo build --release --example hello_server
    HAVE_HELLO=1
fi

TARGET_PORT=$(free_port)
EXPORTER_PORT=$(free_port)

echo "== fake target on 127.0.0.1:$TARGET_PORT"
if [[ $HAVE_HELLO == 1 ]]; then
    target/release/examples/hello_server "$TARGET_PORT" --seconds "$LIFETIME" 2>"$TMP/target.log" &
else
    cat >"$TMP/target.py" <<'EOF'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = ("# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n"
        + "".join('http_requests_total{code="%s"} %d\n' % (c, n) for c, n in (("200", 1000), ("500", 3)))
        + "# HELP up Whether the service is up.\n# TYPE up gauge\nup 1\n").encode()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/metrics":
            body, ct = BODY, "text/plain; version=0.0.4; charset=utf-8"
        elif self.path == "/":
            body, ct = b"ok\n", "text/plain"
        else:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
    python3 "$TMP/target.py" "$TARGET_PORT" 2>"$TMP/target.log" &
fi
TARGET_PID=$!
PIDS+=("$TARGET_PID")
wait_http "http://127.0.0.1:$TARGET_PORT/metrics" "the fake target" "$TARGET_PID"

cat >"$TMP/.obsgate.yml" <<EOF
probe:
  targets:
    - name: app
      url: http://127.0.0.1:$TARGET_PORT
      health_path: /
EOF
mkdir -p "$TMP/rules"
cat >"$TMP/rules/app.rules.yml" <<'EOF'
groups:
  - name: app
    rules:
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.01
        for: 5m
        labels:
          severity: page
        annotations:
          summary: More than 1% of requests fail
          runbook_url: https://runbooks.example.com/high-error-rate
      - alert: QueueStuck
        expr: app_queue_depth > 100
        for: 10m
        labels:
          severity: page
        annotations:
          summary: The queue does not drain
          runbook_url: https://runbooks.example.com/queue-stuck
EOF

echo "== exporter on 127.0.0.1:$EXPORTER_PORT (max concurrent probes: $MAX_CONCURRENT)"
if ! "$OBSGATE" exporter --help >/dev/null 2>&1; then
    echo "error: this obsgate has no \`exporter\` command yet" >&2
    exit 1
fi
"$OBSGATE" exporter \
    --listen "127.0.0.1:$EXPORTER_PORT" \
    --config "$TMP/.obsgate.yml" \
    --rules "$TMP/rules/app.rules.yml" \
    --max-concurrent "$MAX_CONCURRENT" \
    2>"$TMP/exporter.log" &
EXPORTER_PID=$!
PIDS+=("$EXPORTER_PID")
wait_http "http://127.0.0.1:$EXPORTER_PORT/health" "the exporter" "$EXPORTER_PID" || {
    cat "$TMP/exporter.log" >&2
    exit 1
}

echo "== one probe"
curl -sS --noproxy '*' "http://127.0.0.1:$EXPORTER_PORT/probe?target=app" | grep -v '^#'

# RSS of the exporter, every second
(
    while kill -0 "$EXPORTER_PID" 2>/dev/null; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$EXPORTER_PID/status" 2>/dev/null || true
        sleep 1
    done
) >"$TMP/rss.kb" &
PIDS+=("$!")

# status codes counted per thread and summed at the end
cat >"$TMP/status.lua" <<'EOF'
local threads = {}
function setup(thread)
    table.insert(threads, thread)
end
function init(args)
    codes = {}
end
function response(status, headers, body)
    codes[status] = (codes[status] or 0) + 1
end
function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for code, n in pairs(t:get("codes")) do
            total[code] = (total[code] or 0) + n
        end
    end
    local keys = {}
    for code in pairs(total) do table.insert(keys, code) end
    table.sort(keys)
    for _, code in ipairs(keys) do
        io.write(string.format("status %d: %d\n", code, total[code]))
    end
    io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
EOF

run_wrk() {
    local path=$1
    echo
    echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION http://127.0.0.1:$EXPORTER_PORT$path"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 70s --latency \
        -s "$TMP/status.lua" "http://127.0.0.1:$EXPORTER_PORT$path" | tee "$TMP/wrk.out"
    if ! grep -q 'Non-2xx or 3xx responses' "$TMP/wrk.out"; then
        echo "non-2xx responses: 0"
    fi
}

run_wrk "/probe?target=app"
run_wrk "/metrics"

echo
echo "== exporter's own metrics after the runs"
curl -sS --noproxy '*' "http://127.0.0.1:$EXPORTER_PORT/metrics" | grep -v '^#'

if kill -0 "$EXPORTER_PID" 2>/dev/null; then
    awk '/^VmRSS:/ { print $2 }' "/proc/$EXPORTER_PID/status" >>"$TMP/rss.kb" || true
fi
echo
awk 'BEGIN { max = 0; n = 0 } $1 > max { max = $1 } { n++ }
     END { printf "exporter max RSS: %.1f MiB (%d samples, 1 s apart)\n", max / 1024, n }' "$TMP/rss.kb"

if ! kill -0 "$EXPORTER_PID" 2>/dev/null; then
    echo "error: the exporter died during the run" >&2
    cat "$TMP/exporter.log" >&2
    exit 1
fi
