#!/usr/bin/env bash
# A sign-up/sign-in storm against one production server on one CPU (Cloud
# Run's 1 vCPU): STORM_CONNS connections keep registering new accounts and
# signing in with wrong passwords (each an argon2 hash or check), while
# LIST_CONNS connections read public_list, first alone and then during the
# storm. Reports public_list's p99 both ways, what the storm was answered
# (201/202 done, 401 refused, 503 "busy, retry"), hashes per second, and the
# server's peak RSS. PostgreSQL and wrk run on LOADGEN_CPU.
# Usage: bench/passwords.sh   (PostgreSQL at PGURL; wrk: apt-get install wrk)
# Env: PGURL=postgres://postgres@127.0.0.1:5432 STORM_CONNS=200 LIST_CONNS=10
#      DURATION=20 CACHE=10 (CATALOGUE_CACHE_SECONDS; 0 = every list read uncached)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
STORM_CONNS=${STORM_CONNS:-200} LIST_CONNS=${LIST_CONNS:-10} DURATION=${DURATION:-20}
CACHE=${CACHE:-10}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT=${PORT:-18383} DB=tuki_bench_passwords
OUT=$ROOT/bench/results/passwords; mkdir -p "$OUT"
BIN=$ROOT/target/release/tuki_backend-cli
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release --locked --bin tuki_backend-cli)

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)

cd "$ROOT"
LOCO_ENV=production PORT=$PORT DATABASE_URL=$URL SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  TRANSBANK_WEBPAY_PLUS_SANDBOX=true ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=error \
  CATALOGUE_CACHE_SECONDS=$CACHE taskset -c "$SERVER_CPU" "$BIN" start >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
( while kill -0 $SERVER 2>/dev/null; do
    for p in $(pgrep -f "postgres: .* $DB" || true); do taskset -pc "$LOADGEN_CPU" "$p" >/dev/null 2>&1 || true; done
    sleep 0.5
  done ) &

LIST="http://127.0.0.1:$PORT/api/v1/events/public_list/?page=2"
list() {  # wrk on public_list for $1 seconds → its output file $2
  taskset -c "$LOADGEN_CPU" wrk -t1 -c"$LIST_CONNS" -d"$1s" --latency -H "X-Forwarded-Proto: https" \
    "$LIST" >"$2"
}
list 3 /dev/null
list "$DURATION" "$OUT/list-alone.txt"
RSS_BEFORE=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
U0=$(psql "$URL" -Atc "SELECT count(*) FROM users")
taskset -c "$LOADGEN_CPU" wrk -t1 -c"$STORM_CONNS" -d"$((DURATION + 4))s" --latency --timeout 10s \
  -s "$ROOT/bench/passwords.lua" "http://127.0.0.1:$PORT/" >"$OUT/storm.txt" &
STORM=$!
sleep 2
list "$DURATION" "$OUT/list-storm.txt"
wait $STORM
U1=$(psql "$URL" -Atc "SELECT count(*) FROM users")
PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
kill -TERM $SERVER; wait $SERVER 2>/dev/null || true

python3 - "$OUT" "$((U1 - U0))" "$RSS_BEFORE" "$PEAK" "$DURATION" <<'PY' | tee "$OUT/summary.txt"
import re, sys
out, users, rss0, peak, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def wrk(name):
    t = open(f"{out}/{name}").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", t).group(1)
    p50 = re.search(r"50%\s+([\d.]+\w+)", t).group(1)
    return rps, p50, p99, t
a = wrk("list-alone.txt"); s = wrk("list-storm.txt"); st = wrk("storm.txt")
statuses = re.search(r"statuses: (.*)", st[3]).group(1)
print(f"public_list alone:        {a[0]:,.0f} req/s, p50 {a[1]}, p99 {a[2]}")
print(f"public_list during storm: {s[0]:,.0f} req/s, p50 {s[1]}, p99 {s[2]}")
print(f"storm: {st[0]:,.0f} req/s answered (p50 {st[1]}, p99 {st[2]}); {statuses}")
print(f"accounts created: {users} ({users / (secs + 4):,.1f}/s)")
print(f"server RSS: {rss0 / 1024:.0f} MB before the storm, peak {peak / 1024:.0f} MB")
PY
