#!/usr/bin/env bash
# The organizer's sales figures and exports at size (issue 13), on
# PostgreSQL: one event with 100,000 tickets (25,000 paid orders of 4,
# spread over 60 days) among the demo catalogue.
#   1. organizers/dashboard-stats/?days=30 and events/analytics/?event_id=
#      uncached, N sequential requests each: p50/p99 (target p99 <= 50 ms),
#      against /healthz measured the same way in the same run (the
#      machine's yardstick: report ratios, the machine is shared).
#   2. events/{id}/export_attendees/ (CSV) and ?export_format=excel: time
#      to the last byte (target <= 3 s for the CSV) and the server's peak
#      RSS growth (VmHWM − RSS before; target <= 30 MB).
# The server runs pinned to SERVER_CPU, curl on LOADGEN_CPU.
# Usage: bench/organizer_sales.sh
# Env: PGURL=postgres://postgres@127.0.0.1:5432 N=300 PROFILE=bench-quick (or release)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
N=${N:-300} PROFILE=${PROFILE:-bench-quick}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT=${PORT:-18283} DB=tuki_bench_sales
OUT=$ROOT/bench/results/organizer_sales; mkdir -p "$OUT"
(cd "$ROOT" && cargo build --profile "$PROFILE" --locked --bin tuki_backend-cli)
BIN=$ROOT/target/$PROFILE/tuki_backend-cli

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)
read -r EVENT TIER ORG < <(psql "$URL" -Atc "
  SELECT e.id, t.id, e.organizer_id FROM events e JOIN ticket_tiers t ON t.event_id = e.id
  WHERE e.status = 'published' AND e.deleted_at IS NULL AND t.is_public
  ORDER BY e.start_date DESC, t.display_order LIMIT 1" | tr '|' ' ')
echo "event $EVENT tier $TIER organizer $ORG"
# 25,000 paid orders × 4 tickets, paid over the last 60 days.
psql "$URL" -q <<SQL
UPDATE ticket_tiers SET capacity = NULL WHERE id = '$TIER';
INSERT INTO orders (id, order_number, event_id, user_id, reservation_id, status, customer_name,
  customer_email, customer_phone, subtotal, service_fee, total, refunded_amount, access_token_hash,
  paid_at, confirmation_sent, ticket_holders, coupon_id, coupon_code, discount, created_at, updated_at)
SELECT gen_random_uuid(), 'B' || lpad(n::text, 11, '0'), '$EVENT', NULL, NULL, 'paid',
  'Persona ' || n, 'p' || n || '@correo.cl', '', 40000, 4000, 44000, 0, md5(n::text),
  now() - (n % 86400) * interval '60 seconds', true, '[]', NULL, '', 0,
  now() - (n % 86400) * interval '60 seconds', now()
FROM generate_series(1, 25000) n;
INSERT INTO order_items (id, order_id, tier_id, tier_name, quantity, unit_price, discount, created_at, updated_at)
SELECT gen_random_uuid(), o.id, '$TIER', 'General', 4, 10000, 0, o.created_at, o.created_at
FROM orders o WHERE o.order_number LIKE 'B%';
INSERT INTO tickets (id, order_id, event_id, tier_id, code, attendee_name, status, used_at, used_by, created_at, updated_at)
SELECT gen_random_uuid(), o.id, '$EVENT', '$TIER', md5(o.id::text || k), o.customer_name,
  CASE WHEN k = 1 THEN 'used' ELSE 'valid' END, NULL, NULL, o.created_at, o.created_at
FROM orders o CROSS JOIN generate_series(1, 4) k WHERE o.order_number LIKE 'B%';
UPDATE ticket_tiers SET sold = sold + 100000 WHERE id = '$TIER';
VACUUM ANALYZE;
SQL
# Orders written in SQL: the sales figures are summed again from them, as
# after an import.
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task rebuild_sales >/dev/null)
echo "tickets: $(psql "$URL" -Atc "SELECT count(*) FROM tickets WHERE event_id = '$EVENT'")"

cd "$ROOT"
LOCO_ENV=production PORT=$PORT DATABASE_URL=$URL SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  ALLOWED_HOSTS=127.0.0.1 CATALOGUE_CACHE_SECONDS=0 MEDIA_ROOT=$(mktemp -d) TRANSBANK_WEBPAY_PLUS_SANDBOX=true \
  taskset -c "$SERVER_CPU" "$BIN" start >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
B=http://127.0.0.1:$PORT

# An admin of the event's organizer.
curl -fsS -o /dev/null -X POST "$B/api/v1/auth/register/" -H 'content-type: application/json' \
  -d '{"email":"bench@tuki.cl","password":"Organiza-segura-42","first_name":"Bench"}'
psql "$URL" -qc "INSERT INTO organizer_members (id, organizer_id, user_id, is_admin, can_manage_events,
  can_view_reports, can_manage_settings, invitation_pending, can_validate_tickets, created_at, updated_at)
  SELECT gen_random_uuid(), '$ORG', u.id, true, true, true, true, false, false, now(), now()
  FROM users u WHERE u.email = 'bench@tuki.cl'"
TOKEN=$(curl -fsS -X POST "$B/api/v1/auth/token/" -H 'content-type: application/json' \
  -d '{"email":"bench@tuki.cl","password":"Organiza-segura-42"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')
AUTH="authorization: Bearer $TOKEN"

# p50/p99 of N sequential requests, in ms.
latency() {
  local url=$1; shift
  for _ in $(seq 10); do curl -fsS -o /dev/null "$@" "$url"; done
  for _ in $(seq "$N"); do
    taskset -c "$LOADGEN_CPU" curl -fsS -o /dev/null -w '%{time_total}\n' "$@" "$url"
  done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p99 %.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000}'
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER/status"; }

{
  echo "# organizer sales at 100,000 tickets — $(date -u +%FT%TZ), $(nproc) cores, profile $PROFILE"
  echo "healthz (yardstick):       $(latency "$B/healthz")"
  echo "dashboard-stats?days=30:   $(latency "$B/api/v1/organizers/dashboard-stats/?days=30" -H "$AUTH")"
  echo "dashboard-stats?days=366:  $(latency "$B/api/v1/organizers/dashboard-stats/?days=366" -H "$AUTH")"
  echo "analytics?event_id (30 d): $(latency "$B/api/v1/events/analytics/?event_id=$EVENT" -H "$AUTH")"
  for fmt in csv excel; do
    echo 5 >"/proc/$SERVER/clear_refs"   # the peak (VmHWM) starts again from now
    before=$(rss)
    start=$(date +%s.%N)
    bytes=$(taskset -c "$LOADGEN_CPU" curl -fsS -H "$AUTH" "$B/api/v1/events/$EVENT/export_attendees/?export_format=$fmt" | wc -c)
    end=$(date +%s.%N)
    peak=$(hwm)
    rows=""
    [ "$fmt" = csv ] && rows=" ($(taskset -c "$LOADGEN_CPU" curl -fsS -H "$AUTH" "$B/api/v1/events/$EVENT/export_attendees/" | wc -l) lines)"
    printf "export_attendees %-5s    %.2f s, %d bytes%s, RSS before %d MB, peak growth %d MB\n" \
      "$fmt" "$(echo "$end - $start" | bc)" "$bytes" "$rows" $((before / 1024)) $(((peak - before) / 1024))
  done
} | tee "$OUT/$(date -u +%Y%m%dT%H%M%S).txt"
