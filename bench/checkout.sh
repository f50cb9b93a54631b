#!/usr/bin/env bash
# Reserve + book throughput on PostgreSQL, one instance: the server pinned to
# SERVER_CPU, PostgreSQL and wrk on LOADGEN_CPU; each wrk connection alternates
# reserve (1–2 seats) and book. The tier has CAPACITY seats, fewer than the run
# asks for, so the end of the run races for the last seats. Afterwards the
# database is checked: sold + held never above capacity, and `reserved` equals
# the seats of live reservations. /healthz is measured in the same run as the
# machine's yardstick.
# Each request comes from a buyer address of its own (X-Forwarded-For, as
# Google's front end appends it) and books with an email of its own, so the
# per-client limits apply per buyer as in a real surge.
# Usage: bench/checkout.sh   (PostgreSQL at PGURL; wrk: apt-get install wrk)
# Env: PGURL=postgres://postgres@127.0.0.1:5432 CONNS=50 DURATION=20 WARMUP=3 CAPACITY=30000
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
CONNS=${CONNS:-50} DURATION=${DURATION:-20} WARMUP=${WARMUP:-3} CAPACITY=${CAPACITY:-30000}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT=${PORT:-18282} DB=tuki_bench_checkout
OUT=$ROOT/bench/results/checkout; mkdir -p "$OUT"
BIN=$ROOT/target/release/tuki_backend-cli
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release --locked --bin tuki_backend-cli)

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)
# One future event on sale, its first public tier with CAPACITY free seats.
read -r EVENT TIER < <(psql "$URL" -Atc "
  SELECT e.id, t.id FROM events e JOIN ticket_tiers t ON t.event_id = e.id
  WHERE e.status = 'published' AND e.visibility = 'public' AND e.deleted_at IS NULL
    AND e.start_date > now() + interval '2 days' AND t.is_public
  ORDER BY e.start_date, t.display_order LIMIT 1" | tr '|' ' ')
psql "$URL" -qc "
  UPDATE events SET ticket_sales_start = NULL, ticket_sales_end = NULL, max_tickets_per_purchase = 10 WHERE id = '$EVENT';
  UPDATE ticket_tiers SET capacity = $CAPACITY, sold = 0, reserved = 0, sale_start = NULL,
    sale_end = NULL, min_per_order = 1, max_per_order = 10 WHERE id = '$TIER';"

cd "$ROOT"
LOCO_ENV=production PORT=$PORT DATABASE_URL=$URL SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  TRANSBANK_WEBPAY_PLUS_SANDBOX=true ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=warn \
  taskset -c "$SERVER_CPU" "$BIN" start >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# Pin PostgreSQL's backends with the load generator — the pool opens
# connections as load grows, so keep pinning new ones while the run lasts.
( while kill -0 $SERVER 2>/dev/null; do
    for p in $(pgrep -f "postgres: .* $DB" || true); do taskset -pc "$LOADGEN_CPU" "$p" >/dev/null 2>&1 || true; done
    sleep 0.5
  done ) &

taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$PORT/healthz" >/dev/null
HEALTHZ=$(taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d10s "http://127.0.0.1:$PORT/healthz" | awk '/Requests\/sec/ {print $2}')
# Holds alone: every request reserves, with more seats than any run takes
# (a sold-out tier would measure 409s, not holds).
psql "$URL" -qc "UPDATE ticket_tiers SET capacity = 100000000 WHERE id = '$TIER'"
R0=$(psql "$URL" -Atc "SELECT count(*) FROM reservations")
RS=$(date +%s.%N)
EVENT=$EVENT TIER=$TIER taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
  -s "$ROOT/bench/reserve.lua" "http://127.0.0.1:$PORT/" >"$OUT/wrk-reserve.txt"
RE=$(date +%s.%N)
R1=$(psql "$URL" -Atc "SELECT count(*) FROM reservations")
# Give the seats back so the second phase starts with CAPACITY free again.
psql "$URL" -qc "DELETE FROM reservations; UPDATE ticket_tiers SET reserved = 0, capacity = $CAPACITY WHERE id = '$TIER'"
BEFORE=$(psql "$URL" -Atc "SELECT count(*) FROM reservations")
START=$(date +%s.%N)
EVENT=$EVENT TIER=$TIER taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
  -s "$ROOT/bench/checkout.lua" "http://127.0.0.1:$PORT/" >"$OUT/wrk.txt"
END=$(date +%s.%N)
kill -TERM $SERVER; wait $SERVER 2>/dev/null || true

read -r HOLDS ORDERS SOLD RESERVED LIVE CAP < <(psql "$URL" -Atc "
  SELECT (SELECT count(*) FROM reservations) - $BEFORE,
         (SELECT count(*) FROM orders),
         t.sold, t.reserved,
         (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r ON r.id = i.reservation_id
           WHERE i.tier_id = t.id AND r.status IN ('active', 'ordered')),
         t.capacity
  FROM ticket_tiers t WHERE t.id = '$TIER'" | tr '|' ' ')
python3 - "$HOLDS" "$ORDERS" "$SOLD" "$RESERVED" "$LIVE" "$CAP" "$START" "$END" "$HEALTHZ" "$OUT/wrk.txt" \
  "$((R1 - R0))" "$RS" "$RE" "$OUT/wrk-reserve.txt" <<'PY' | tee "$OUT/summary.txt"
import re, sys
holds, orders, sold, reserved, live, cap = map(int, sys.argv[1:7])
secs = float(sys.argv[8]) - float(sys.argv[7])
healthz = float(sys.argv[9])
wrk = open(sys.argv[10]).read()
only, only_secs = int(sys.argv[11]), float(sys.argv[13]) - float(sys.argv[12])
only_p99 = re.search(r"99%\s+([\d.]+\w+)", open(sys.argv[14]).read()).group(1)
print(f"reserve only: {only / only_secs:,.0f} holds/s (p99 {only_p99})")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
p99 = re.search(r"99%\s+([\d.]+\w+)", wrk).group(1)
print(f"reserve+book on PostgreSQL, one instance, {secs:.1f} s")
print(f"holds/s: {holds / secs:,.0f}  (orders/s {orders / secs:,.0f}; all requests {rps:,.0f}/s, p99 {p99})")
print(f"seats: capacity {cap}, held {reserved} (live reservations hold {live}), sold {sold}")
print(f"oversold: {max(0, sold + reserved - cap)}   held == live holds: {reserved == live}")
print(f"/healthz in the same run: {healthz:,.0f} req/s (holds/s = {holds / secs / healthz:.4f} of it)")
PY
