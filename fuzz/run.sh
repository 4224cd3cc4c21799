#!/usr/bin/env bash
# Fuzz every target for SECONDS_PER_TARGET seconds (default 60), one after the other.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Not part of
# the test suite. Crashes land in fuzz/artifacts/<target>/, logs in fuzz/target/logs/.
set -euo pipefail

secs=${1:-60}
shift || true
cd "$(dirname "$0")"

all=(rules_yaml alertmanager_yaml ci_yaml promql gotemplate heredoc exposition obsgate_config)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

max_len() {
    case $1 in
        promql | gotemplate) echo 4096 ;;
        # exposition: a 64 KB scrape has thousands of findings, each rendered
        heredoc | obsgate_config | exposition) echo 16384 ;;
        *) echo 65536 ;;
    esac
}

# Safe Rust: no sanitizer (about twice the executions); debug assertions catch overflows.
cargo +nightly fuzz build -s none -a
python3 seed.py corpus
bin=target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

mkdir -p target/logs
summary=()
for t in "${targets[@]}"; do
    mkdir -p "artifacts/$t" "corpus/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log="target/logs/$t.log"
    echo "== $t: ${secs}s (log: fuzz/$log)"
    status=0
    # the binary itself: `cargo fuzz run` would rebuild whenever a source file changed
    "$bin/$t" -artifact_prefix="artifacts/$t/" "corpus/$t" \
        -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$t")" -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    after=$(find "artifacts/$t" -type f | wc -l)
    if [ "$after" -gt "$before" ]; then
        crash="CRASH: $(ls -t "artifacts/$t" | head -1 | sed "s|^|fuzz/artifacts/$t/|")"
    elif [ "$status" -ne 0 ]; then
        crash="FAILED (exit $status, see fuzz/$log)"
    else
        crash="no crash"
    fi
    line=$(printf '%-18s %12s execs in %ss  %s' "$t" "${execs:-?}" "$secs" "$crash")
    echo "$line"
    summary+=("$line")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
