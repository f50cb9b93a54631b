#!/usr/bin/env bash
# The catalogue against the Django reference with the shared harness
# (../shared/bench/run.sh): public_list page 1 and 10, the event page and
# /healthz at 200 connections, server pinned to one CPU, PostgreSQL (socket
# only) and wrk on the other. Three configurations, alternating, RUNS times:
#   django       — the reference, listing past events too (as Tuki does)
#   rust-cache   — this server, catalogue cache on (10 s)
#   rust-nocache — this server, CATALOGUE_CACHE_SECONDS=0
# Setup (once, as the harness README says): a writable copy of the harness in
# $BENCH (default /tmp/tuki-bench) with its venv, `./pg.sh start`, Django
# migrated and seeded (manage.py seed_bench). This script creates and seeds the
# server's own database (tuki_rust) on the same cluster.
# Usage: bench/catalogue.sh        Env: RUNS=1 BENCH=/tmp/tuki-bench
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${BENCH:-/tmp/tuki-bench}
RUNS=${RUNS:-1}
export DB_USER=${DB_USER:-tuki} DB_PASSWORD=${DB_PASSWORD:-tuki}
export DB_HOST=${DB_HOST:-/tmp/tuki-bench-pg/sock} DB_PORT=${DB_PORT:-5433}
export EXPECT_COUNT=1500 RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}

(cd "$ROOT" && cargo build --release --locked --bin tuki_backend-cli)
BIN=$ROOT/target/release/tuki_backend-cli
RUST_ENV="LOCO_ENV=production DB_NAME=tuki_rust DB_PASSWORD=bench-only-password SECRET_KEY=bench-only-0123456789abcdefghijklmnopq ALLOWED_HOSTS=127.0.0.1 TRANSBANK_WEBPAY_PLUS_SANDBOX=true"
psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d tuki -c "create database tuki_rust" >/dev/null 2>&1 || true
(cd "$ROOT" && env $RUST_ENV "$BIN" task migrate && env $RUST_ENV "$BIN" task seed_demo)
psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d tuki_rust -qc "ANALYZE" >/dev/null

for _ in $(seq "$RUNS"); do
  DB_NAME=tuki LABEL=django START_DIR=$BENCH/django_ref \
    START_CMD='env PUBLIC_LIST_INCLUDE_PAST=1 ../.venv/bin/gunicorn --bind :$PORT --workers 1 --threads 8 --timeout 0 config.wsgi' \
    "$BENCH/run.sh"
  LABEL=rust-cache START_DIR=$ROOT START_CMD="env $RUST_ENV $BIN start" "$BENCH/run.sh"
  LABEL=rust-nocache START_DIR=$ROOT START_CMD="env $RUST_ENV CATALOGUE_CACHE_SECONDS=0 $BIN start" "$BENCH/run.sh"
done
python3 "$BENCH/lib/table.py" "$RESULTS_DIR"/*.json
