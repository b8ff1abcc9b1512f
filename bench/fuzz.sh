#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets) for MINUTES minutes each, then times each
# entry point on 1 MB inputs in release, and writes the figures (executions, coverage,
# corpus, findings, 1 MB timings) to docs/SECURITY.md between the fuzz markers (or to
# standard output when the markers are missing).
#   bench/fuzz.sh [MINUTES] [TARGET...]      (default 1 minute, every target)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Cargo runs under
# /tmp/phananh-cargo.lock when flock is there, like every build on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-1}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sms ward_names messenger viber telegram zalo email open311_form photo)
fi
lock() { if command -v flock >/dev/null; then flock /tmp/phananh-cargo.lock "$@"; else "$@"; fi; }
out=$(mktemp)
{
  echo "Figures of \`bench/fuzz.sh $minutes\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(cargo +nightly --version | cut -d' ' -f2-)):"
  echo
  echo "| target | time | executions | exec/s | coverage (edges) | features | corpus | findings |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$out"
found=0
cd fuzz
lock cargo +nightly fuzz build -O >/dev/null
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  # -rss_limit_mb: a decoder that allocates past 2 GB is a finding too.
  set +e
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time=$((minutes * 60)) \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo "?")
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo "?")
  corpus=$(ls "corpus/$t" | wc -l)
  findings=$(ls "artifacts/$t" | wc -l)
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    found=1
    echo "fuzz target $t: exit $rc, $findings artifact(s) in fuzz/artifacts/$t; log: $log" >&2
    tail -30 "$log" >&2
  fi
  echo "| $t | ${minutes} min | $execs | $speed | $cov | $ft | $corpus | $findings |" >>"$out"
done
{
  echo
  echo "1 MB inputs, release build (\`cd fuzz && cargo +nightly run --release --bin timing\`):"
  echo
  echo "| entry point | bytes | time | under 100 ms |"
  echo "|---|---|---|---|"
  lock cargo +nightly run --release --quiet --bin timing
} >>"$out"
cd ..
if grep -q '<!-- fuzz:begin -->' docs/SECURITY.md 2>/dev/null; then
  python3 - "$out" <<'PY'
import re, sys
figures = open(sys.argv[1]).read()
doc = open("docs/SECURITY.md").read()
doc = re.sub(r"<!-- fuzz:begin -->.*<!-- fuzz:end -->",
             lambda _: "<!-- fuzz:begin -->\n" + figures + "<!-- fuzz:end -->", doc, flags=re.S)
open("docs/SECURITY.md", "w").write(doc)
PY
  echo "figures written to docs/SECURITY.md"
fi
cat "$out"
exit "$found"
