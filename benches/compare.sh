#!/usr/bin/env bash
# obsgate against the reference tools, on the same inputs in one run (not part of `cargo test`):
#   1. `obsgate check` vs `promtool check rules` on all awesome-prometheus-alerts rules in one
#      file (~950 rules), and on the large set (~40,000 rules in 42 files, ~20 MB);
#   2. the YAML parse alone (examples/yaml_floor.rs: same parser, same parallelism) as the floor;
#   3. one small rule file, as pre-commit passes it (process start included);
#   4. peak RSS of each (GNU time's "Maximum resident set size");
#   5. obsgate's load generator vs wrk on the same loopback server (benches/load_compare.sh).
# Inputs are generated from ../shared/corpus into target/bench-data/ (examples/bench_data.rs).
#
# Usage: benches/compare.sh            (RUNS=5 timed runs each, median reported; LOAD=0 skips 5)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-5}
LOAD=${LOAD:-1}
export RUST_BACKTRACE=0

command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus)"; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (Debian package time)"; exit 2; }

cargo build --release --quiet --bin obsgate --example bench_data --example yaml_floor
BIN=target/release/obsgate
FLOOR=target/release/examples/yaml_floor
target/release/examples/bench_data >/dev/null
DATA=target/bench-data
SMALL=fixtures/alerts/missing-runbook/good.yml

# median wall time in ms of RUNS runs (after one warm-up run); exit status ignored (findings
# make obsgate exit 1)
median_ms() {
  "$@" >/dev/null 2>&1 || true
  local t=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    t+=($(( (e - s) / 1000000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

peak_mb() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%M' "$@" >/dev/null 2>&1 || true
  # the last line, in MiB (GNU time gives KiB; it first notes a non-zero exit status, and
  # findings make obsgate exit 1)
  tail -1 "$f" | awk '{printf "%.1f", $1/1024}'
  rm -f "$f"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo "machine: $(nproc) cores; $($BIN --version); $(promtool --version 2>&1 | head -1)"
echo "runs per figure: $RUNS (median, ms)"
echo
printf '%-34s %10s %10s %8s %10s %10s\n' input obsgate promtool ratio "obs RSS" "prom RSS"
declare -A CHECK_MS
for input in "$DATA/awesome-all.yml" "$DATA/large"; do
  files=("$input")
  [ -d "$input" ] && mapfile -t files < <(ls "$input"/*.yml)
  o=$(median_ms "$BIN" check "$input" --format concise)
  CHECK_MS[$input]=$o
  p=$(median_ms promtool check rules "${files[@]}")
  orss=$(peak_mb "$BIN" check "$input" --format concise)
  prss=$(peak_mb promtool check rules "${files[@]}")
  size=$(du -sh "$input" | cut -f1)
  printf '%-34s %10s %10s %8s %10s %10s\n' "$(basename "$input") ($size)" "$o" "$p" "$(ratio "$o" "$p")" "${orss}MiB" "${prss}MiB"
done
echo
printf '%-34s %10s %10s %8s\n' input "obsgate" "YAML only" "x floor"
for input in "$DATA/awesome-all.yml" "$DATA/large"; do
  o=${CHECK_MS[$input]}
  f=$(median_ms "$FLOOR" "$input")
  printf '%-34s %10s %10s %8s\n' "$(basename "$input")" "$o" "$f" "$(ratio "$o" "$f")"
done
echo
o=$(median_ms "$BIN" check "$SMALL")
p=$(median_ms promtool check rules "$SMALL")
printf 'one small file (%s): obsgate %s ms, promtool %s ms (process start included)\n' "$SMALL" "$o" "$p"
o=$(median_ms "$BIN" check "$DATA/large" "$DATA/deep-alertmanager.yml" --format concise)
rss=$(peak_mb "$BIN" check "$DATA/large" "$DATA/deep-alertmanager.yml" --format concise)
# routes: the root and every `- matchers:` entry under it (not the inhibit rules' matchers)
printf 'large set + deep Alertmanager tree (%s routes): %s ms, %s MiB\n' \
  "$(( $(grep -c '^ *- matchers:' "$DATA/deep-alertmanager.yml") + 1 ))" "$o" "$rss"

if [ "$LOAD" = 1 ]; then
  echo
  echo "load generator vs wrk (benches/load_compare.sh):"
  SECONDS=5 BIN_DIR= bash benches/load_compare.sh
fi
