#!/usr/bin/env bash
# The cached catalogue against the machine's ceiling by the server's own CPU
# per answer, which the load generator cannot blur: on a 2-core machine wrk's
# core saturates before either server's does, so req/s of a cached answer
# measures wrk (ceiling.sh's harness ratios of cached URLs swing ±30 % between
# identical runs). Here each server (this one with its cache on, and
# bench/limit_server replaying this server's bodies) runs on SERVER_CPU, wrk
# on LOADGEN_CPU; for each URL, RUNS alternating rounds of DURATION s, the
# server's user and system CPU (/proc/PID/stat) divided by the answers wrk
# counted. The capacity ratio is the ceiling's CPU per answer over this
# server's: the share of the ceiling's req/s this server reaches once the
# server's core is the limit.
# Usage: bench/cached_cpu.sh   (PostgreSQL at PGURL; wrk: apt-get install wrk)
# Env: PGURL=postgres://postgres@127.0.0.1:5432 PROFILE=bench-quick RUNS=3
#      DURATION=10 CONNS=50 BIN=path (a prebuilt server: not built here)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PROFILE=${PROFILE:-bench-quick} RUNS=${RUNS:-3} DURATION=${DURATION:-10} CONNS=${CONNS:-50}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
DB=tuki_bench_cached PORT=${PORT:-18310} LPORT=${LPORT:-18311}
OUT=$ROOT/bench/results/cached-cpu-$(date +%Y%m%d-%H%M%S); mkdir -p "$OUT"
LIMIT=$ROOT/bench/limit_server
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  BIN=$ROOT/target/$PROFILE/tuki_backend-cli
  (cd "$ROOT" && cargo build --profile "$PROFILE" --locked --bin tuki_backend-cli)
fi
(cd "$LIMIT" && cargo build --release --locked)

psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="$PGURL/$DB"
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL "$BIN" task migrate >/dev/null)
(cd "$ROOT" && LOCO_ENV=production DATABASE_URL=$URL MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo >/dev/null)

RUST= LIM=
cleanup() {
  for p in $RUST $LIM; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
up() { # port
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "nothing answers on $1" >&2; exit 1
}
taskset -c "$SERVER_CPU" env -C "$ROOT" LOCO_ENV=production PORT=$PORT DATABASE_URL=$URL \
  CATALOGUE_CACHE_SECONDS=3600 SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  TRANSBANK_WEBPAY_PLUS_SANDBOX=true ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=warn \
  "$BIN" start >"$OUT/server.log" 2>&1 &
RUST=$! # taskset and env exec: the server itself
up "$PORT"

# The ceiling replays exactly what this server answers to the same Host.
BODIES=$OUT/bodies; mkdir -p "$BODIES"
get() { curl -sf -H "Host: 127.0.0.1" "http://127.0.0.1:$PORT$1"; }
get /api/v1/events/public_list/ >"$BODIES/list_p1.json"
get '/api/v1/events/public_list/?page=10' >"$BODIES/list_p10.json"
python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['results'][0]['id'],end='')" \
  "$BODIES/list_p1.json" >"$BODIES/detail.slug"
get "/api/v1/events/$(cat "$BODIES/detail.slug")/" >"$BODIES/detail.json"
taskset -c "$SERVER_CPU" env -C "$LIMIT" PORT=$LPORT BODY_DIR="$BODIES" LIMIT_MODE=static \
  ./target/release/limit-server >"$OUT/limit.log" 2>&1 &
LIM=$!
up "$LPORT"

declare -A PATHS=(
  [healthz]=/healthz
  [list_p1]=/api/v1/events/public_list/
  [list_p10]='/api/v1/events/public_list/?page=10'
  [detail]=/api/v1/events/$(cat "$BODIES/detail.slug")/
)
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; } # utime stime (clock ticks)
measure() { # label pid port name binary
  local path=${PATHS[$4]} u0 s0 u1 s1
  taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d2s -H "Host: 127.0.0.1" "http://127.0.0.1:$3$path" >/dev/null
  [ "$(readlink "/proc/$2/exe")" != "$(readlink -f "$5")" ] && { echo "pid $2 is not $5" >&2; exit 1; }
  read -r u0 s0 < <(ticks "$2")
  taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Host: 127.0.0.1" \
    "http://127.0.0.1:$3$path" >"$OUT/wrk-$1-$4.txt"
  read -r u1 s1 < <(ticks "$2")
  local n rps
  n=$(awk '/requests in/ {print $1}' "$OUT/wrk-$1-$4.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$1-$4.txt")
  echo "$1 $4 $n $rps $((u1 - u0)) $((s1 - s0))" >>"$OUT/rows.txt"
}
for _ in $(seq "$RUNS"); do
  for name in healthz list_p1 list_p10 detail; do
    measure limit "$LIM" "$LPORT" "$name" "$LIMIT/target/release/limit-server"
    measure rust "$RUST" "$PORT" "$name" "$BIN"
  done
done
python3 - "$OUT/rows.txt" "$(getconf CLK_TCK)" "$(nproc)" <<'PY' | tee "$OUT/summary.txt"
import collections, statistics, sys
tck, cores = int(sys.argv[2]), sys.argv[3]
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, name, n, rps, u, s = line.split()
    rows[(who, name)].append((int(n), float(rps), int(u) / tck, int(s) / tck))
def per(who, name):
    r = rows[(who, name)]
    us = lambda f: statistics.median(f(x) * 1e6 / x[0] for x in r)
    return (us(lambda x: x[2] + x[3]), us(lambda x: x[2]), us(lambda x: x[3]),
            statistics.median(x[1] for x in r))
print(f"cached answers, server CPU per answer (median of {len(rows[('rust', 'list_p1')])} rounds; "
      f"{cores}-core machine, server and wrk on separate cores)")
print(f"{'':9} {'ceiling µs (user+sys)':>24} {'this server µs':>22} {'capacity':>9} {'req/s ceiling / this':>24}")
for name in ("healthz", "list_p1", "list_p10", "detail"):
    lt, lu, ls, lr = per("limit", name)
    rt, ru, rs, rr = per("rust", name)
    print(f"{name:9} {lt:8.2f} ({lu:5.2f}+{ls:5.2f}) {rt:8.2f} ({ru:5.2f}+{rs:5.2f})"
          f" {lt / rt:8.1%} {lr:11,.0f} / {rr:,.0f}")
PY
