#!/usr/bin/env bash
# Checks /api/v1/openapi.json against the running server with schemathesis (PyPI): starts
# the server on a fresh SQLite database and a random port, runs a fixed, small budget of
# generated requests with the checks below, and fails on any finding.
#   bench/schemathesis.sh [MAX_EXAMPLES]        (default 30 per operation)
# The server binary is $PHANANH_BIN or target/debug/phananh; schemathesis is `st` on the
# PATH, or in $ST_VENV (default ~/.cache/phananh-st), installed with pip when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
bin="${PHANANH_BIN:-${CARGO_TARGET_DIR:-target}/debug/phananh}"
st=$(command -v st || true)
if [ -z "$st" ]; then
  venv="${ST_VENV:-$HOME/.cache/phananh-st}"
  if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
  fi
  st="$venv/bin/st"
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PHANANH_INTAKE_PER_MINUTE=0 PHANANH_PHOTOS_DIR="$work/photos" RUST_LOG=error \
  "$bin" serve --listen "127.0.0.1:$port" --database-url "$work/st.db" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
# Run from the temporary directory, so that schemathesis keeps its cache there.
cd "$work"
"$st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$examples" --seed 1022 --generation-deterministic --workers 2 \
  --request-timeout 10
