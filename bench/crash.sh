#!/usr/bin/env bash
# kill -9 under load, N times, checking after each restart that every acknowledged report
# is there (docs/RELIABILITY.md).
#   bench/crash.sh [CYCLES] [DATABASE_URL]
# CYCLES defaults to 1000. DATABASE_URL defaults to a fresh SQLite file; give a
# postgres://… URL (an empty database or schema) to run on PostgreSQL. The server binary is
# target/release/phananh (built if missing) or $PHANANH_BIN. Each cycle: start the server,
# file reports from 8 connections for a random 0.2–1.0 s, kill -9, restart, and GET every
# report acknowledged so far (all cycles); any missing one fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-1000}"
work=$(mktemp -d)
db="${2:-$work/crash.db}"
bin="${PHANANH_BIN:-${CARGO_TARGET_DIR:-target}/release/phananh}"
if [ ! -x "$bin" ]; then
  flock /tmp/phananh-cargo.lock cargo build --release -p phananh
fi
python3 - "$bin" "$db" "$cycles" "$work" <<'PY'
import json, os, random, signal, socket, subprocess, sys, threading, time, urllib.request, urllib.error

binary, db, cycles, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
acked = []
lock = threading.Lock()

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start():
    port = free_port()
    env = dict(os.environ, PHANANH_INTAKE_PER_MINUTE="0", PHANANH_PHOTOS_DIR=work + "/photos", RUST_LOG="error")
    p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", db],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(base + "/healthz", timeout=1).status == 200:
                return p, base
        except Exception:
            time.sleep(0.05)
    raise SystemExit("server did not start")

def load(base, stop, n0):
    n = 0
    while not stop.is_set():
        body = json.dumps({"field": "traffic", "description": f"crash {n0}-{n}", "ward": "26740"}).encode()
        req = urllib.request.Request(base + "/api/v1/reports", body, {"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 201:
                    code = json.load(r)["code"]
                    with lock:
                        acked.append(code)
        except Exception:
            return
        n += 1

def check(base):
    missing = []
    for code in acked:
        try:
            urllib.request.urlopen(f"{base}/api/v1/reports/{code}", timeout=5)
        except urllib.error.HTTPError as e:
            missing.append((code, e.code))
    return missing

started = time.time()
checked = 0
for cycle in range(1, cycles + 1):
    p, base = start()
    if cycle > 1:
        missing = check(base)
        checked += len(acked)
        if missing:
            p.kill()
            raise SystemExit(f"cycle {cycle}: {len(missing)} acknowledged reports lost: {missing[:5]}")
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(base, stop, f"{cycle}.{i}")) for i in range(8)]
    for t in threads: t.start()
    time.sleep(random.uniform(0.2, 1.0))
    p.send_signal(signal.SIGKILL)
    p.wait()
    stop.set()
    for t in threads: t.join()
    if cycle % 50 == 0 or cycle == cycles:
        print(f"cycle {cycle}/{cycles}: {len(acked)} acknowledged, 0 lost ({time.time() - started:.0f} s)", flush=True)
p, base = start()
missing = check(base)
p.send_signal(signal.SIGTERM); p.wait()
if missing:
    raise SystemExit(f"after the last cycle: {len(missing)} acknowledged reports lost: {missing[:5]}")
print(f"crash: {cycles} kill -9 cycles on {db.split('?')[0] if db.startswith('postgres') else 'SQLite'}, "
      f"{len(acked)} reports acknowledged, 0 lost, {time.time() - started:.0f} s")
PY
rm -rf "$work"
