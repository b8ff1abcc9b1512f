#!/usr/bin/env bash
# The citizen-facing pages over a database of COUNT reports (default 1,000,000): the map's
# bounding-box query, the public list, the map page and the statistics page.
#   bench/public.sh [COUNT] [CONCURRENCY] [SECONDS]
# The database is seeded once into target/bench-COUNT.db and reused (bench/open311.sh
# shares it).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}; conc=${2:-2}; secs=${3:-10}
cargo build --release -q -p phananh -p phananh-bench
db="target/bench-$count.db"
[ -f "$db" ] || RUST_LOG=warn target/release/phananh-bench seed "$db" "$count"
PHANANH_WORKER=0 RUST_LOG=warn target/release/phananh serve --listen 127.0.0.1:18024 --database-url "$db" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18024/healthz >/dev/null && break; sleep 0.2; done
run() { echo "== $1"; target/release/phananh-bench get http://127.0.0.1:18024 "$conc" "$secs" "$1"; }
echo "reports=$count concurrency=$conc seconds=$secs"
# What map.js asks for when the map shows a district, then a few streets.
run "/api/v1/public/reports?bbox=106.66,10.76,106.72,10.80&per_page=500"
run "/api/v1/public/reports?bbox=106.695,10.772,106.705,10.780&status=open&per_page=500"
run "/api/v1/public/reports?field=traffic&status=open&page=3"
run "/map?field=lighting&page=2"
run "/stats"
run "/stats?from=$(date -u -d '365 days ago' +%Y-%m-%d)&to=$(date -u +%Y-%m-%d)"
run "/api/v1/public/nearby?field=traffic&lat=10.7769&lon=106.7009"
