#!/usr/bin/env bash
# This server against the machine's ceiling on the catalogue, in one run:
#   limit-static  bench/limit_server replaying bodies this server answered
#                 (the cached ceiling: no work but HTTP)
#   rust-cache    this server, catalogue cache on (CATALOGUE_CACHE_SECONDS 10)
#   limit-db      bench/limit_server running one hand-written statement per
#                 request on this server's database, same JSON byte for byte
#                 (the uncached ceiling; pool of 4 connections, as this
#                 server's production default DB_POOL_MAX)
#   rust-nocache  this server, CATALOGUE_CACHE_SECONDS=0
# with the shared harness (../shared/bench/run.sh: 200 connections, server on
# one CPU, PostgreSQL and wrk on the other), RUNS times alternating, then the
# ratios of the medians (rust-cache / limit-static, rust-nocache / limit-db).
# Setup once, as the harness README says: a writable copy of the harness in
# $BENCH (default /tmp/tuki-bench), `./pg.sh start`. This script seeds the
# server's database (tuki_rust) on that cluster, builds both servers, fetches
# the static bodies from this server and checks the db mode's bodies equal
# this server's.
# Usage: bench/ceiling.sh     Env: RUNS=2 BENCH=/tmp/tuki-bench PROFILE=bench-quick
#        CONFIGS="limit-static rust-cache limit-db rust-nocache"
#        BIN=path (a server built elsewhere, e.g. without mimalloc: not rebuilt)
#        TAG=-glibc (appended to this server's labels)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${BENCH:-/tmp/tuki-bench}
RUNS=${RUNS:-2} PROFILE=${PROFILE:-bench-quick}
CONFIGS=${CONFIGS:-limit-static rust-cache limit-db rust-nocache}
export DB_USER=${DB_USER:-tuki} DB_PASSWORD=${DB_PASSWORD:-tuki}
export DB_HOST=${DB_HOST:-/tmp/tuki-bench-pg/sock} DB_PORT=${DB_PORT:-5433} DB_NAME=tuki_rust
export EXPECT_COUNT=1500
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results/ceiling-$(date +%Y%m%d-%H%M%S)}
export RESULTS_DIR
LIMIT=$ROOT/bench/limit_server

if [ -z "${BIN:-}" ]; then
  (cd "$ROOT" && cargo build --profile "$PROFILE" --locked --bin tuki_backend-cli)
  BIN=$ROOT/target/$PROFILE/tuki_backend-cli
fi
TAG=${TAG:-}
(cd "$LIMIT" && cargo build --release --locked)
RUST_ENV="LOCO_ENV=production DB_PASSWORD=bench-only-password SECRET_KEY=bench-only-0123456789abcdefghijklmnopq ALLOWED_HOSTS=127.0.0.1 TRANSBANK_WEBPAY_PLUS_SANDBOX=true"
psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -c "create database tuki_rust" >/dev/null 2>&1 || true
if [ "$(psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d tuki_rust -Atc "select to_regclass('events') is not null and exists(select 1 from events)" 2>/dev/null)" != t ]; then
  (cd "$ROOT" && env $RUST_ENV "$BIN" task migrate && env $RUST_ENV MEDIA_ROOT=$(mktemp -d) "$BIN" task seed_demo)
fi
psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d tuki_rust -qc "ANALYZE" >/dev/null

# Bodies: this server's answers (static mode replays them), then the db mode's
# answers to the same URLs, which must be the same bytes.
FPORT=8099
fetch() { # dir
  mkdir -p "$1"
  local get="curl -sf -H Host:127.0.0.1:8080 http://127.0.0.1:$FPORT"
  $get/api/v1/events/public_list/ >"$1/list_p1.json"
  $get'/api/v1/events/public_list/?page=10' >"$1/list_p10.json"
  python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['results'][0]['id'],end='')" \
    "$1/list_p1.json" >"$1/detail.slug"
  $get/api/v1/events/$(cat "$1/detail.slug")/ >"$1/detail.json"
}
serve_fetch() { # dir command...
  local dir=$1; shift
  PORT=$FPORT "$@" >/tmp/ceiling-fetch.log 2>&1 & local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$FPORT/healthz" >/dev/null && break; sleep 0.1; done
  fetch "$dir"; kill "$pid"; wait "$pid" 2>/dev/null || true
}
serve_fetch "$LIMIT/bodies" env $RUST_ENV "$BIN" start
serve_fetch /tmp/ceiling-db-bodies env LIMIT_MODE=db "$LIMIT/target/release/limit-server"
for f in list_p1.json list_p10.json detail.json; do
  cmp -s "$LIMIT/bodies/$f" "/tmp/ceiling-db-bodies/$f" ||
    { echo "limit-server db mode answers $f differently from this server" >&2; exit 1; }
done
echo "db mode bodies equal this server's ($(wc -c <"$LIMIT/bodies/list_p1.json") B list, $(wc -c <"$LIMIT/bodies/detail.json") B detail)"

for _ in $(seq "$RUNS"); do
  for config in $CONFIGS; do
    case $config in
      limit-static|limit-db)
        LABEL=$config START_DIR=$LIMIT NOTE="bench/limit_server, LIMIT_MODE=${config#limit-}" \
          START_CMD="env LIMIT_MODE=${config#limit-} DB_POOL=4 ./target/release/limit-server" "$BENCH/run.sh" ;;
      rust-cache)
        LABEL=$config$TAG START_DIR=$ROOT START_CMD="env $RUST_ENV $BIN start" "$BENCH/run.sh" ;;
      rust-nocache)
        LABEL=$config$TAG START_DIR=$ROOT START_CMD="env $RUST_ENV CATALOGUE_CACHE_SECONDS=0 $BIN start" "$BENCH/run.sh" ;;
    esac
  done
done
python3 "$BENCH/lib/table.py" "$RESULTS_DIR"/*.json
python3 - "$RESULTS_DIR" <<'PY'
import glob, json, statistics, sys
runs = {}
for f in glob.glob(f"{sys.argv[1]}/*.json"):
    d = json.load(open(f))
    for e in d["endpoints"]:
        runs.setdefault((d["label"], e["name"]), []).append(e["req_per_s"])
med = lambda label, name: statistics.median(runs.get((label, name), [0])) or float("nan")
print("\nratios of median req/s (same run):")
for name in ("healthz", "list_p1", "list_p10", "detail"):
    print(f"  {name:<9} cached {med('rust-cache', name) / med('limit-static', name):6.1%} of static"
          f"   uncached {med('rust-nocache', name) / med('limit-db', name):6.1%} of db")
PY
