#!/usr/bin/env bash
# kill -9 under load, N times, checking after each restart that every acknowledged report
# is there (docs/RELIABILITY.md).
#   bench/crash.sh [CYCLES] [DATABASE_URL]
# CYCLES defaults to 1000. DATABASE_URL defaults to a fresh SQLite file; give a
# postgres://… URL (an empty database or schema) to run on PostgreSQL. The server binary is
# target/release/phananh (built if missing) or $PHANANH_BIN. Each cycle: start the server,
# file reports from 8 connections for a random 0.2–1.0 s, kill -9, restart, and GET every
# report acknowledged in the last cycle plus 200 older ones at random (all of them every 100
# cycles and after the last); any missing one fails the run.
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

def check(base, codes):
    """GETs every code, from 8 threads; returns the ones that are not there."""
    missing = []
    codes = list(codes)
    def part(chunk):
        for code in chunk:
            try:
                urllib.request.urlopen(f"{base}/api/v1/reports/{code}", timeout=10).read()
            except urllib.error.HTTPError as e:
                with lock:
                    missing.append((code, e.code))
    threads = [threading.Thread(target=part, args=(codes[i::8],)) for i in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    return missing

started = time.time()
checked = 0
seen = 0  # acked[:seen] were there at an earlier check
for cycle in range(1, cycles + 1):
    p, base = start()
    if cycle > 1:
        # Every report acknowledged in the last cycle, a sample of the older ones, and all of
        # them every 100 cycles: checking all of them every cycle would grow with the square.
        full = cycle % 100 == 0
        older = acked[:seen] if full else random.sample(acked[:seen], min(200, seen))
        codes = older + acked[seen:]
        missing = check(base, codes)
        checked += len(codes)
        seen = len(acked)
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
missing = check(base, acked)
checked += len(acked)
p.send_signal(signal.SIGTERM); p.wait()
if missing:
    raise SystemExit(f"after the last cycle: {len(missing)} acknowledged reports lost: {missing[:5]}")
print(f"crash: {cycles} kill -9 cycles on {db.split('?')[0] if db.startswith('postgres') else 'SQLite'}, "
      f"{len(acked)} reports acknowledged, 0 lost, {checked} checks, {time.time() - started:.0f} s")
PY
rm -rf "$work"
