#!/usr/bin/env bash
# Open311 GET requests.json over a database of COUNT reports (default 1,000,000).
#   bench/open311.sh [COUNT] [CONCURRENCY] [SECONDS]
# The database is seeded once into target/bench-COUNT.db and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}; conc=${2:-8}; secs=${3:-10}
cargo build --release -q -p phananh -p phananh-bench
db="target/bench-$count.db"
[ -f "$db" ] || RUST_LOG=warn target/release/phananh-bench seed "$db" "$count"
PHANANH_WORKER=0 RUST_LOG=warn target/release/phananh serve --listen 127.0.0.1:18023 --database-url "$db" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18023/healthz >/dev/null && break; sleep 0.2; done
b=/open311/v2/requests.json
echo "reports=$count concurrency=$conc seconds=$secs"
target/release/phananh-bench get http://127.0.0.1:18023 "$conc" "$secs" \
  "$b?page_size=50" \
  "$b?service_code=traffic&status=open&page_size=50&page=3" \
  "$b?service_code=water,lighting&page_size=50&page=10" \
  "$b?status=closed&page_size=100" \
  "$b?start_date=$(date -u -d '200 days ago' +%Y-%m-%dT00:00:00Z)&end_date=$(date -u -d '150 days ago' +%Y-%m-%dT00:00:00Z)&page_size=50" \
  "$b?updated_after=$(date -u -d '10 days ago' +%Y-%m-%dT00:00:00Z)&page_size=50" \
  "$b?page_size=50&extensions=true"
