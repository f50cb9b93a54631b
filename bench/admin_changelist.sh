#!/usr/bin/env bash
# The admin at Tuki's size (issue 18), on PostgreSQL: 100,000 orders spread
# over the demo catalogue's events and two years, a superuser signed in.
# N sequential requests each (p50/p99; target: a filtered and searched
# orders changelist p99 <= 100 ms), against /healthz measured the same way
# in the same run (the machine's yardstick: report ratios, it is shared):
#   - the orders changelist unfiltered (count estimated), filtered by status
#     and searched, filtered by event through the autocomplete's id, and
#     drilled down to a month;
#   - the events autocomplete searching.
# The server runs pinned to SERVER_CPU, curl on LOADGEN_CPU.
# Usage: bench/admin_changelist.sh
# Env: PGURL=postgres://postgres@127.0.0.1:5432 N=200 PROFILE=bench-quick (or release)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
N=${N:-200} PROFILE=${PROFILE:-bench-quick}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT=${PORT:-18284} DB=tuki_bench_admin
OUT=$ROOT/bench/results/admin_changelist; mkdir -p "$OUT"
(cd "$ROOT" && cargo build --profile "$PROFILE" --locked --bin tuki_backend-cli)
BIN=$ROOT/target/$PROFILE/tuki_backend-cli

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL DJANGO_SUPERUSER_USERNAME=bench \
  DJANGO_SUPERUSER_EMAIL=bench@tuki.cl DJANGO_SUPERUSER_PASSWORD=Bench-admin-segura-42 \
  "$BIN" task create_initial_superuser >/dev/null)
# 100,000 orders over the demo's events and the last two years; a fifth pending.
psql "$URL" -q <<'SQL'
WITH ev AS (SELECT id, row_number() OVER (ORDER BY id) AS k, count(*) OVER () AS total FROM events)
INSERT INTO orders (id, order_number, event_id, user_id, reservation_id, status, customer_name,
  customer_email, customer_phone, subtotal, service_fee, total, refunded_amount, access_token_hash,
  paid_at, confirmation_sent, ticket_holders, coupon_id, coupon_code, discount, created_at, updated_at)
SELECT gen_random_uuid(), 'A' || lpad(n::text, 11, '0'), ev.id, NULL, NULL,
  CASE WHEN n % 5 = 0 THEN 'pending' ELSE 'paid' END,
  'Persona ' || n, 'p' || n || '@correo.cl', '', 10000, 1000, 11000, 0, md5(n::text),
  CASE WHEN n % 5 = 0 THEN NULL ELSE now() - (n % 730) * interval '1 day' END, true, '[]', NULL, '', 0,
  now() - (n % 730) * interval '1 day', now()
FROM generate_series(1, 100000) n JOIN ev ON ev.k = 1 + n % ev.total;
VACUUM ANALYZE;
SQL
read -r EVENT TITLE < <(psql "$URL" -Atc "SELECT e.id, e.title FROM events e JOIN orders o ON o.event_id = e.id
  GROUP BY e.id ORDER BY count(*) DESC LIMIT 1" | tr '|' ' ')
echo "orders: $(psql "$URL" -Atc 'SELECT count(*) FROM orders'), busiest event $EVENT"

cd "$ROOT"
LOCO_ENV=production PORT=$PORT DATABASE_URL=$URL SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  ALLOWED_HOSTS=127.0.0.1 CATALOGUE_CACHE_SECONDS=0 MEDIA_ROOT=$(mktemp -d) TRANSBANK_WEBPAY_PLUS_SANDBOX=true \
  taskset -c "$SERVER_CPU" "$BIN" start >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
B=http://127.0.0.1:$PORT

# The superuser signs in through the admin's own form. (Production cookies
# are Secure: carried by hand here, the server is reached over plain HTTP.)
cookies() { sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' "$1" | paste -sd';' | sed 's/;/; /g'; }
H1=$(mktemp); H2=$(mktemp)
PAGE=$(curl -fsS -D "$H1" "$B/admin/login/")
CSRF=$(echo "$PAGE" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' | head -1)
curl -fsS -o /dev/null -D "$H2" -H "Cookie: $(cookies "$H1")" -H "Origin: https://127.0.0.1:$PORT" \
  --data-urlencode "csrfmiddlewaretoken=$CSRF" --data-urlencode "email=bench@tuki.cl" \
  --data-urlencode "password=Bench-admin-segura-42" "$B/admin/login/"
COOKIE="Cookie: $(cookies "$H2")"
curl -fsS -H "$COOKIE" "$B/admin/events/order/" | grep -q 'Órdenes' || { echo "admin sign-in failed"; exit 1; }
# p50/p99 of N sequential requests, in ms.
latency() {
  local url=$1; shift
  for _ in $(seq 10); do curl -fsS -o /dev/null "$@" "$url"; done
  for _ in $(seq "$N"); do
    taskset -c "$LOADGEN_CPU" curl -fsS -o /dev/null -w '%{time_total}\n' "$@" "$url"
  done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p99 %.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000}'
}
MONTH=$(date -u +%m | sed 's/^0//'); YEAR=$(date -u +%Y)
{
  echo "# admin changelists at 100,000 orders — $(date -u +%FT%TZ), $(nproc) cores, profile $PROFILE"
  echo "healthz (yardstick):                 $(latency "$B/healthz")"
  echo "orders, unfiltered (estimated):      $(latency "$B/admin/events/order/" -H "$COOKIE")"
  echo "orders, status=paid & q=p7731:       $(latency "$B/admin/events/order/?status=paid&q=p7731" -H "$COOKIE")"
  echo "orders, q=persona 77 (every row matches a word): $(latency "$B/admin/events/order/?q=persona+77" -H "$COOKIE")"
  echo "orders, event_id (autocomplete):     $(latency "$B/admin/events/order/?event_id=$EVENT&q=p77" -H "$COOKIE")"
  echo "orders, drilled down to a month:     $(latency "$B/admin/events/order/?created_at__year=$YEAR&created_at__month=$MONTH" -H "$COOKIE")"
  echo "events autocomplete, term=festival:  $(latency "$B/admin/events/event/autocomplete/?term=festival" -H "$COOKIE")"
} | tee "$OUT/$(date -u +%Y%m%dT%H%M%S).txt"
