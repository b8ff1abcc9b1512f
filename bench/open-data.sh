#!/usr/bin/env bash
# The open-data export over a database of COUNT reports (default 1,000,000): how long the
# whole-city CSV and GeoJSON take to stream, how many rows arrive, and the server's memory
# before and at its peak (flat memory: the files are streamed page by page).
#   bench/open-data.sh [COUNT]
# The database is seeded once into $CARGO_TARGET_DIR/bench-COUNT.db and reused (as
# bench/public.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
target="${CARGO_TARGET_DIR:-target}"
flock /tmp/phananh-cargo.lock cargo build --release -q -p phananh -p phananh-bench
db="$target/bench-$count.db"
[ -f "$db" ] || RUST_LOG=warn "$target/release/phananh-bench" seed "$db" "$count"
PHANANH_WORKER=0 RUST_LOG=warn "$target/release/phananh" serve --listen 127.0.0.1:18027 --database-url "$db" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18027/healthz >/dev/null && break; sleep 0.2; done
# Anonymous memory (the heap: what an export would grow if it buffered) apart from
# file-backed pages (SQLite's memory-mapped database, shared with the page cache).
rss() { awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "anon_kb=%s file_kb=%s", a, f}' "/proc/$pid/status"; }
echo "reports=$count before: $(rss)"
# The CSV twice: SQLite's page caches (64 MB per reader connection) fill on the first pass;
# a second pass that grows nothing more shows the export itself holds no rows.
for f in all.csv all.csv all.geojson; do
  out=$(mktemp)
  secs=$(curl -s -o "$out" -w '%{time_total}' "http://127.0.0.1:18027/open-data/$f")
  rows=$(wc -l < "$out")
  bytes=$(stat -c %s "$out")
  rm -f "$out"
  echo "$f seconds=$secs lines=$rows bytes=$bytes after: $(rss)"
done
echo "rss_peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
