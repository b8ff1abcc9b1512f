#!/usr/bin/env bash
# Messenger webhook acknowledgement at a fixed rate, and whether processing keeps up.
#   bench/webhooks.sh [RATE] [SECONDS]
# A fresh SQLite database each run; the Graph API is a local stand-in (phananh-bench fake-graph).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}; secs=${2:-20}
cargo build --release -q -p phananh -p phananh-bench
db="target/bench-webhooks.db"
rm -f "$db" "$db-wal" "$db-shm"
target/release/phananh-bench fake-graph 127.0.0.1:18026 &
graph=$!
PHANANH_MESSENGER_APP_SECRET=bench-secret PHANANH_MESSENGER_VERIFY_TOKEN=v PHANANH_MESSENGER_PAGE_TOKEN=t \
PHANANH_GRAPH_URL=http://127.0.0.1:18026/v25.0 RUST_LOG=warn \
  target/release/phananh serve --listen 127.0.0.1:18025 --database-url "$db" &
pid=$!
trap 'kill $pid $graph 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18025/healthz >/dev/null && break; sleep 0.2; done
echo "rate=$rate/s seconds=$secs"
target/release/phananh-bench webhooks http://127.0.0.1:18025 "$rate" "$secs" bench-secret
