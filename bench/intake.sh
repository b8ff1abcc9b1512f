#!/usr/bin/env bash
# Intake benchmark: POST /api/v1/reports against a release build of phananh.
#   bench/intake.sh [sqlite|postgres] [CONCURRENCY] [SECONDS]
# SQLite uses a fresh file; PostgreSQL uses $PHANANH_BENCH_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/test, schema "bench", dropped first).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}; conc=${2:-64}; secs=${3:-10}
cargo build --release -q -p phananh -p phananh-bench
dir=$(mktemp -d)
if [ "$backend" = postgres ]; then
  base=${PHANANH_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  psql "$base" -qc 'drop schema if exists bench cascade; create schema bench' >/dev/null
  db="$base?options=-c%20search_path%3Dbench"
else
  db="$dir/bench.db"
fi
PHANANH_INTAKE_PER_MINUTE=0 PHANANH_WORKER=0 RUST_LOG=warn \
  target/release/phananh serve --listen 127.0.0.1:18022 --database-url "$db" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18022/healthz >/dev/null && break; sleep 0.2; done
target/release/phananh-bench intake http://127.0.0.1:18022 1 2 >/dev/null   # warm-up
echo "backend=$backend concurrency=$conc seconds=$secs"
target/release/phananh-bench intake http://127.0.0.1:18022 "$conc" "$secs"
