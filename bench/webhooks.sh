#!/usr/bin/env bash
# Webhook acknowledgement at a fixed rate, and whether processing keeps up.
#   bench/webhooks.sh [RATE] [SECONDS] [messenger|zalo]
# A fresh SQLite database each run; the Graph API and Zalo's OpenAPI and OAuth are a local
# stand-in (phananh-bench fake-graph).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}; secs=${2:-20}; platform=${3:-messenger}
target="${CARGO_TARGET_DIR:-target}"
flock /tmp/phananh-cargo.lock cargo build --release -q -p phananh -p phananh-bench
db="$target/bench-webhooks.db"
rm -f "$db" "$db-wal" "$db-shm"
"$target/release/phananh-bench" fake-graph 127.0.0.1:18026 &
graph=$!
PHANANH_MESSENGER_APP_SECRET=bench-secret PHANANH_MESSENGER_VERIFY_TOKEN=v PHANANH_MESSENGER_PAGE_TOKEN=t \
PHANANH_GRAPH_URL=http://127.0.0.1:18026/v25.0 \
PHANANH_ZALO_APP_ID=2553928453557884079 PHANANH_ZALO_APP_SECRET=bench-app-secret \
PHANANH_ZALO_OA_SECRET=bench-oa-secret PHANANH_ZALO_REFRESH_TOKEN=bench-refresh \
PHANANH_ZALO_OAUTH_URL=http://127.0.0.1:18026 PHANANH_ZALO_OPENAPI_URL=http://127.0.0.1:18026 \
RUST_LOG=warn \
  "$target/release/phananh" serve --listen 127.0.0.1:18025 --database-url "$db" &
pid=$!
trap 'kill $pid $graph 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18025/healthz >/dev/null && break; sleep 0.2; done
echo "platform=$platform rate=$rate/s seconds=$secs"
# The outbox is counted in the database itself (the /metrics gauges are cached for 15 s).
export PHANANH_BENCH_DATABASE_URL="$db"
if [ "$platform" = zalo ]; then
  "$target/release/phananh-bench" zalo-webhooks http://127.0.0.1:18025 "$rate" "$secs" 2553928453557884079 bench-oa-secret
else
  "$target/release/phananh-bench" webhooks http://127.0.0.1:18025 "$rate" "$secs" bench-secret
fi
