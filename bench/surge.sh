#!/usr/bin/env bash
# The on-sale surge: INSTANCES server processes (default 4, as Cloud Run
# scales out) on one PostgreSQL take BUYERS concurrent buyers (default 2,000,
# split evenly, one wrk per process) on one tier of CAPACITY seats (default
# 20,000) until it sells out; every request is a buyer of its own reserving
# 1–2 seats. Measured:
#   - holds/s from the start to the sell-out (the database's count, polled
#     every 50 ms), and the time to sell out;
#   - the latency of those requests (p50/p99, per wrk, worst reported);
#   - the answer time once sold out (a second 10 s phase on the empty tier);
#   - how often PostgreSQL's backends waited on a lock (pg_stat_activity,
#     sampled every 100 ms): the tier's row is the one row every hold updates;
#   - afterwards, 0 oversold (sold + held ≤ capacity), the tier's `reserved`
#     equal to the seats of live reservations, and every 201 a reservation.
# /healthz of one process is measured in the same run as the yardstick.
# Servers share SERVER_CPU; PostgreSQL's backends and the wrk processes share
# LOADGEN_CPU (2-core machine).
# Usage: bench/surge.sh   (PostgreSQL at PGURL; wrk: apt-get install wrk)
# Env: PGURL=postgres://postgres@127.0.0.1:5432 INSTANCES=4 BUYERS=2000
#      CAPACITY=20000 DB_POOL_MAX=4 (per process, production's default)
#      PROFILE=bench-quick (or release: the deployed build, fat LTO)
#      REDIS_URL=redis://127.0.0.1:6379/15 (the per-client counters; empty:
#      in PostgreSQL, as a deployment without USE_REDIS)
#      BIN=path (a prebuilt server, e.g. an earlier commit's, not built here)
#      TAG=label (results under bench/results/surge/TAG)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
INSTANCES=${INSTANCES:-4} BUYERS=${BUYERS:-2000} CAPACITY=${CAPACITY:-20000}
DB_POOL_MAX=${DB_POOL_MAX:-4} PROFILE=${PROFILE:-bench-quick}
REDIS_URL=${REDIS_URL-redis://127.0.0.1:6379/15}
REDIS_ENV="USE_REDIS=false"
[ -n "$REDIS_URL" ] && REDIS_ENV="USE_REDIS=true REDIS_URL=$REDIS_URL"
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
BASE_PORT=${BASE_PORT:-18290} DB=tuki_bench_surge
OUT=$ROOT/bench/results/surge${TAG:+/$TAG}; mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  BIN=$ROOT/target/$PROFILE/tuki_backend-cli
  (cd "$ROOT" && cargo build --profile "$PROFILE" --locked --bin tuki_backend-cli)
fi

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)
read -r EVENT TIER < <(psql "$URL" -Atc "
  SELECT e.id, t.id FROM events e JOIN ticket_tiers t ON t.event_id = e.id
  WHERE e.status = 'published' AND e.visibility = 'public' AND e.deleted_at IS NULL
    AND e.start_date > now() + interval '2 days' AND t.is_public
  ORDER BY e.start_date, t.display_order LIMIT 1" | tr '|' ' ')
psql "$URL" -qc "
  UPDATE events SET ticket_sales_start = NULL, ticket_sales_end = NULL, max_tickets_per_purchase = 10 WHERE id = '$EVENT';
  UPDATE ticket_tiers SET capacity = $CAPACITY, sold = 0, reserved = 0, sale_start = NULL,
    sale_end = NULL, min_per_order = 1, max_per_order = 10 WHERE id = '$TIER';
  ANALYZE"

# Counters of an earlier run would count against this one's buyers.
[ -n "$REDIS_URL" ] && { redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null || { echo "Redis at $REDIS_URL does not answer" >&2; exit 1; }; }

cd "$ROOT"
PIDS=() WRKS=()
cleanup() {
  for p in "${WRKS[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
for i in $(seq 0 $((INSTANCES - 1))); do
  env $REDIS_ENV LOCO_ENV=production PORT=$((BASE_PORT + i)) DATABASE_URL=$URL DB_POOL_MAX=$DB_POOL_MAX \
    SECRET_KEY=bench-only-secret-key-0123456789abcdef TRANSBANK_WEBPAY_PLUS_SANDBOX=true \
    ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=warn \
    taskset -c "$SERVER_CPU" "$BIN" start >"$OUT/server-$i.log" 2>&1 &
  PIDS+=($!)
done
for i in $(seq 0 $((INSTANCES - 1))); do
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$((BASE_PORT + i))/healthz" >/dev/null && break; sleep 0.1; done
done
# PostgreSQL's backends with the load generators: pools open connections as
# load grows, so keep pinning new ones while the run lasts.
( while kill -0 "${PIDS[0]}" 2>/dev/null; do
    for p in $(pgrep -f "postgres: .* $DB" || true); do taskset -pc "$LOADGEN_CPU" "$p" >/dev/null 2>&1 || true; done
    sleep 0.5
  done ) &

lg() { taskset -c "$LOADGEN_CPU" "$@"; }
lg wrk -t1 -c100 -d3s "http://127.0.0.1:$BASE_PORT/healthz" >/dev/null
HEALTHZ=$(lg wrk -t1 -c100 -d10s "http://127.0.0.1:$BASE_PORT/healthz" | awk '/Requests\/sec/ {print $2}')

# Phase 1: buyers until the tier is sold out (wrk is stopped with SIGINT then,
# which makes it report what it saw).
PER=$((BUYERS / INSTANCES))
surge() { # phase seconds
  WRKS=()
  for i in $(seq 0 $((INSTANCES - 1))); do
    EVENT=$EVENT TIER=$TIER lg wrk -t1 -c"$PER" -d"$2s" --timeout 30s -s "$ROOT/bench/surge.lua" \
      "http://127.0.0.1:$((BASE_PORT + i))/" >"$OUT/wrk-$1-$i.txt" 2>&1 &
    WRKS+=($!)
  done
}
python3 - "$URL" "$OUT/waits.json" <<'PY' &
# Samples pg_stat_activity until told to stop (SIGTERM): backends of the
# bench database, and how many of them wait on a lock.
import json, signal, subprocess, sys, time
url, out = sys.argv[1], sys.argv[2]
samples = []
def stop(*_):
    json.dump(samples, open(out, "w")); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
q = ("SELECT count(*) FILTER (WHERE state = 'active'), "
     "count(*) FILTER (WHERE wait_event_type = 'Lock'), "
     "string_agg(DISTINCT wait_event, ',') FILTER (WHERE wait_event_type = 'Lock') "
     "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
while True:
    r = subprocess.run(["psql", url, "-Atc", q], capture_output=True, text=True).stdout.strip()
    if r:
        active, waiting, events = (r.split("|") + ["", "", ""])[:3]
        samples.append({"active": int(active or 0), "lock": int(waiting or 0), "events": events})
    time.sleep(0.1)
PY
SAMPLER=$!
START=$(date +%s.%N)
surge up 300
while :; do
  left=$(psql "$URL" -Atc "SELECT capacity - sold - reserved FROM ticket_tiers WHERE id = '$TIER'")
  [ "$left" -le 0 ] && break
  kill -0 "${WRKS[0]}" 2>/dev/null || { echo "wrk ended before the sell-out ($left left)" >&2; break; }
  sleep 0.05
done
SOLD_AT=$(date +%s.%N)
HOLDS=$(psql "$URL" -Atc "SELECT count(*) FROM reservations")
# (to wrk itself: a background subshell of a script ignores SIGINT)
for w in "${WRKS[@]}"; do pkill -INT -P "$w" 2>/dev/null || true; done
wait "${WRKS[@]}" 2>/dev/null || true
kill -TERM $SAMPLER; wait $SAMPLER 2>/dev/null || true

# Phase 2: the same buyers on the sold-out tier.
surge after 10
wait "${WRKS[@]}" 2>/dev/null || true
WRKS=()
# Each process's peak resident memory (VmHWM), in MB.
HWM=$(for p in "${PIDS[@]}"; do awk '/VmHWM/ {printf "%.0f ", $2 / 1024}' "/proc/$p/status"; done)
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()

read -r TOTAL SOLD RESERVED LIVE CAP < <(psql "$URL" -Atc "
  SELECT (SELECT count(*) FROM reservations), t.sold, t.reserved,
         (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r ON r.id = i.reservation_id
           WHERE i.tier_id = t.id AND r.status IN ('active', 'ordered')),
         t.capacity
  FROM ticket_tiers t WHERE t.id = '$TIER'" | tr '|' ' ')
python3 - "$OUT" "$INSTANCES" "$BUYERS" "$START" "$SOLD_AT" "$HOLDS" "$TOTAL" "$SOLD" "$RESERVED" \
  "$LIVE" "$CAP" "$HEALTHZ" "$DB_POOL_MAX" "$PROFILE" "$HWM" "$REDIS_URL" "${TAG:-}" <<'PY' | tee "$OUT/summary.txt"
import glob, json, re, sys
out, n, buyers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start, sold_at = float(sys.argv[4]), float(sys.argv[5])
holds, total, sold, reserved, live, cap = map(int, sys.argv[6:12])
healthz, pool, profile = float(sys.argv[12]), sys.argv[13], sys.argv[14]
hwm = sys.argv[15].split()
redis = "counters in Redis" if sys.argv[16] else "counters in PostgreSQL"
tag = f" [{sys.argv[17]}]" if len(sys.argv) > 17 and sys.argv[17] else ""
def phase(name):
    rows = []
    for f in sorted(glob.glob(f"{out}/wrk-{name}-*.txt")):
        m = re.search(r"^\{.*\}$", open(f).read(), re.M)
        rows.append(json.loads(m.group(0)) if m else None)
    return [r for r in rows if r]
up, after = phase("up"), phase("after")
secs = sold_at - start
ms = lambda us: f"{us / 1000:.1f} ms"
waits = json.load(open(f"{out}/waits.json"))
lock = sum(s["lock"] for s in waits) / max(1, sum(s["active"] for s in waits))
events = sorted({e for s in waits for e in s["events"].split(",") if e})
held_201 = sum(r["held"] for r in up) + sum(r["held"] for r in after)
print(f"on-sale surge{tag}: {n} processes (pool {pool} each, {profile} build, {redis}), {buyers} buyers, one tier of {cap} seats")
print(f"sold out in {secs:.2f} s: {holds:,} holds, {holds / secs:,.0f} holds/s "
      f"({holds / secs / healthz:.3f} of one process's /healthz, {healthz:,.0f} req/s in the same run)")
print("  latency until sold out: p50 " + " / ".join(ms(r["p50_us"]) for r in up)
      + ", p99 " + " / ".join(ms(r["p99_us"]) for r in up) + " (per process)")
print(f"  answers: {sum(r['held'] for r in up):,} held, {sum(r['sold_out'] for r in up):,} sold out, "
      f"{sum(r['other'] for r in up)} other, {sum(r['errors'] for r in up)} socket errors")
a_rps = sum(r["requests"] / (r["micros"] / 1e6) for r in after)
print(f"once sold out: {a_rps:,.0f} answers/s, p50 " + " / ".join(ms(r["p50_us"]) for r in after)
      + ", p99 " + " / ".join(ms(r["p99_us"]) for r in after)
      + f"; {sum(r['sold_out'] for r in after):,} sold out, {sum(r['held'] for r in after)} held, "
      f"{sum(r['other'] for r in after)} other")
print(f"PostgreSQL backends waiting on a lock while selling: {lock:.1%} of active ({', '.join(events) or 'none'})")
print(f"peak RSS per process: {' / '.join(hwm)} MB")
print(f"seats: capacity {cap}, held {reserved} (live reservations hold {live}), sold {sold}")
print(f"oversold: {max(0, sold + reserved - cap)}   held == live holds: {reserved == live}   "
      f"every 201 a reservation: {held_201 == total} ({held_201} / {total})")
PY
