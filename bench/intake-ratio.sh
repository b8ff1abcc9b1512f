#!/usr/bin/env bash
# Intake as a phone sends it, as a ratio to this machine's floor, in one run: the ideal-intake
# floor (../shared/tools/floor: axum + SQLite with the same durability), then phananh, then
# the floor again, each with the same wrk load (the floor's report.lua: field, description,
# lat/lon and phone in every body). The disk's speed changes from minute to minute, so the
# ratio to the floor measured beside it is the figure to compare, not the absolute one.
#   bench/intake-ratio.sh [CONNECTIONS] [SECONDS]
# Needs wrk (apt-get install wrk). FLOOR_DIR overrides where the floor lives.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-64}; secs=${2:-15}
floor_dir=$(realpath "${FLOOR_DIR:-../shared/tools/floor}")
target=$(realpath "${CARGO_TARGET_DIR:-target}")
flock /tmp/phananh-cargo.lock cargo build --release -q -p phananh
(cd "$floor_dir" && CARGO_TARGET_DIR="$target/floor" flock /tmp/phananh-cargo.lock cargo build --release -q)
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
rate() { # URL -> requests per second (refused ones are reported and fail the run)
  local out; out=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$floor_dir/report.lua" "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
  awk '/^Requests\/sec/ {print $2}' <<<"$out"
}
floor() { # N -> the floor's rate on a fresh database
  "$target/floor/release/floor" intake --listen 127.0.0.1:9201 --db "$dir/floor-$1.db" >/dev/null 2>&1 &
  local p=$!; pids+=("$p")
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9201/stats && break; sleep 0.1; done
  rate http://127.0.0.1:9201/api/v1/reports
  kill "$p"; wait "$p" 2>/dev/null || true
}
f1=$(floor 1)
# phananh as deployed minus the limits a load test trips (per-IP and per-phone intake) and
# the worker (its jobs wait in the outbox): the HCMC profile, position → ward, the phone kept.
mkdir -p "$dir/p"
cat > "$dir/p/phananh.toml" <<TOML
worker = false
[web]
intake_per_minute = 0
contact_per_hour = 0
TOML
(cd "$dir/p" && RUST_LOG=warn exec "$target/release/phananh" serve --listen 127.0.0.1:18028 --database-url "$dir/p/bench.db") &
pids+=($!)
for _ in $(seq 200); do curl -sf http://127.0.0.1:18028/healthz >/dev/null && break; sleep 0.2; done
p=$(rate http://127.0.0.1:18028/api/v1/reports)
f2=$(floor 2)
echo "connections=$conns seconds=$secs"
echo "floor: $f1 then $f2 reports/s"
echo "phananh: $p reports/s"
awk -v p="$p" -v a="$f1" -v b="$f2" 'BEGIN { printf "ratio to the floor: %.2f\n", p / ((a + b) / 2) }'
