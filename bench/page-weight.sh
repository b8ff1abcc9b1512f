#!/usr/bin/env bash
# Page weight: bytes of HTML, CSS and JS a phone downloads on a first visit (empty cache) to
# /new, /, /map and /r/{code}, raw and gzipped (gzip -6, what a compressing proxy would send;
# phananh itself does not compress).
#   bench/page-weight.sh [BASE_URL]
# With a BASE_URL it measures that server (and uses a code from its public list, or
# $PAGE_WEIGHT_CODE). Without, it builds a release phananh, starts it on a fresh SQLite file
# and files one report to have a status page.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-}
if [ -z "$base" ]; then
  cargo build --release -q -p phananh
  base=http://127.0.0.1:18031
  # Never measure (or file a report on) a server someone else left on that port.
  if curl -sf "$base/healthz" >/dev/null 2>&1; then
    echo "page-weight: something already answers on $base; give a BASE_URL instead" >&2; exit 1
  fi
  dir=$(mktemp -d)
  PHANANH_WORKER=0 RUST_LOG=warn PHANANH_PHOTOS_DIR="$dir/photos" \
    target/release/phananh serve --listen 127.0.0.1:18031 --database-url "$dir/pw.db" &
  pid=$!
  trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  kill -0 $pid 2>/dev/null || { echo "page-weight: the server did not start" >&2; exit 1; }
  curl -sf -H 'content-type: application/json' -d '{"field":"sidewalk","description":"Lấn chiếm vỉa hè trước số 12","lat":10.7725,"lon":106.698}' \
    "$base/api/v1/reports" >/dev/null
fi
code=${PAGE_WEIGHT_CODE:-$(curl -sf "$base/api/v1/public/reports?per_page=1" | grep -o '"code":"[^"]*"' | head -1 | cut -d'"' -f4)}
tmp=$(mktemp); trap 'rm -f "$tmp"; [ -n "${pid:-}" ] && kill $pid 2>/dev/null; [ -n "${dir:-}" ] && rm -rf "$dir"' EXIT
size() { curl -sf "$base$1" -o "$tmp"; printf '%s %s\n' "$(wc -c <"$tmp")" "$(gzip -6c "$tmp" | wc -c)"; }
printf '%-10s %9s %9s %9s %9s %9s %9s %9s %9s\n' page html html.gz css css.gz js js.gz total total.gz
for page in /new / /map "/r/$code"; do
  read -r h hg < <(size "$page")
  html=$(curl -sf "$base$page")
  c=0; cg=0; j=0; jg=0
  for u in $(grep -o 'rel="stylesheet" href="/[^"]*"' <<<"$html" | cut -d'"' -f4); do
    read -r a b < <(size "$u"); c=$((c + a)); cg=$((cg + b))
  done
  # The scripts of the page, and the service worker the page registers.
  for u in $(grep -o '<script src="/[^"]*"' <<<"$html" | cut -d'"' -f2) /sw.js; do
    read -r a b < <(size "$u"); j=$((j + a)); jg=$((jg + b))
  done
  printf '%-10s %9d %9d %9d %9d %9d %9d %9d %9d\n' "$page" "$h" "$hg" "$c" "$cg" "$j" "$jg" \
    $((h + c + j)) $((hg + cg + jg))
done
# What the service worker then fetches in the background to work offline.
s=0; sg=0
for u in $(grep -o '"/[^"]*"' <<<"$(curl -sf "$base/sw.js" | sed -n '/^var SHELL/,/];/p')" | tr -d '"'); do
  read -r a b < <(size "$u"); s=$((s + a)); sg=$((sg + b))
done
echo "service worker install (offline app shell): $s bytes, $sg gzipped"
