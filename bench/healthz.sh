#!/usr/bin/env bash
# Cold start and /healthz throughput of this server against the Django reference
# (../shared/bench/django_ref), measured the same way in one run:
#   - the server pinned to SERVER_CPU, wrk and the probes to LOADGEN_CPU;
#   - cold start = spawn → first 200 on /healthz (../shared/bench/lib/launch.py);
#   - WARMUP s of wrk discarded, then DURATION s at CONNS connections;
#   - peak RSS = VmHWM summed over the server's process tree.
# Usage: bench/healthz.sh            (needs wrk: apt-get install wrk)
# Env: CONNS=200 DURATION=15 WARMUP=3 RUNS=2 SHARED_BENCH=../shared/bench
#      DJANGO_VENV=/tmp/tuki-bench/.venv (created with the reference's requirements if absent)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
CONNS=${CONNS:-200} DURATION=${DURATION:-15} WARMUP=${WARMUP:-3} RUNS=${RUNS:-2}
SERVER_CPU=${SERVER_CPU:-1} LOADGEN_CPU=${LOADGEN_CPU:-0}
PORT=${PORT:-18181}
VENV=${DJANGO_VENV:-/tmp/tuki-bench/.venv}
OUT=$ROOT/bench/results/healthz; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/tuki-healthz-bench.XXXX)

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -f "$SHARED/lib/launch.py" ] || { echo "no comparison harness at $SHARED" >&2; exit 1; }

(cd "$ROOT" && cargo build --release --locked --bin tuki_backend-cli)
if [ ! -x "$VENV/bin/gunicorn" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" -q install -r "$SHARED/django_ref/requirements.txt"
fi

peak_rss_kb() {  # VmHWM of a process and its descendants, in kB
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# measure LABEL DIR CMD → one line of JSON in $WORK/LABEL-N.json
measure() {
  local label=$1 dir=$2 cmd=$3 n=$4
  local log=$WORK/$label-$n.log result=$WORK/$label-$n.launch.json
  rm -f "$result"
  START_CMD=$cmd START_DIR=$dir PORT=$PORT HOST=127.0.0.1 SERVER_CPU=$SERVER_CPU \
    LOADGEN_CPU=$LOADGEN_CPU SERVER_LOG=$log RESULT_FILE=$result STARTUP_TIMEOUT=60 \
    python3 "$SHARED/lib/launch.py" & local launcher=$!
  while [ ! -f "$result" ]; do sleep 0.05; done
  local pid cold
  pid=$(python3 -c "import json;print(json.load(open('$result'))['pid'])")
  cold=$(python3 -c "import json;print(json.load(open('$result'))['cold_start_ms'])")
  taskset -c "$LOADGEN_CPU" wrk -t2 -c"$CONNS" -d"${WARMUP}s" --timeout 30s "http://127.0.0.1:$PORT/healthz" >/dev/null
  taskset -c "$LOADGEN_CPU" wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s --latency \
    "http://127.0.0.1:$PORT/healthz" >"$WORK/$label-$n.wrk"
  local rss; rss=$(peak_rss_kb "$pid")
  kill -TERM "$pid"; wait "$launcher" 2>/dev/null || true
  python3 - "$label" "$cold" "$rss" "$WORK/$label-$n.wrk" >"$WORK/$label-$n.json" <<'PY'
import json, re, sys
label, cold, rss, wrk = sys.argv[1], sys.argv[2], int(sys.argv[3]), open(sys.argv[4]).read()
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", wrk)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
print(json.dumps({"label": label, "cold_start_ms": float(cold), "rps": rps,
                  "p99_ms": ms(*p99.groups()), "peak_rss_mb": rss / 1024,
                  "non_2xx": int(errors.group(1)) if errors else 0}))
PY
  cat "$WORK/$label-$n.json"
}

DB_DIR=$(mktemp -d)
RUST_CMD="env LOCO_ENV=production PORT=$PORT DATABASE_URL=sqlite://$DB_DIR/b.sqlite?mode=rwc SECRET_KEY=bench-only-0123456789abcdefghijklmnopq ALLOWED_HOSTS=127.0.0.1 $ROOT/target/release/tuki_backend-cli start"
DJANGO_CMD="$VENV/bin/gunicorn --bind :$PORT --workers 1 --threads 8 --timeout 0 config.wsgi"
for n in $(seq "$RUNS"); do   # alternate, as the shared harness advises
  measure rust "$ROOT" "$RUST_CMD" "$n"
  measure django "$SHARED/django_ref" "$DJANGO_CMD" "$n"
done

python3 - "$WORK" "$OUT/healthz-$(date +%Y%m%d-%H%M%S).json" <<'PY'
import glob, json, os, statistics, sys
work, out = sys.argv[1], sys.argv[2]
runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(work, "*-[0-9]*.json"))) if not f.endswith("launch.json")]
med = {}
for label in ("rust", "django"):
    rs = [r for r in runs if r["label"] == label]
    med[label] = {k: statistics.median(r[k] for r in rs) for k in ("cold_start_ms", "rps", "p99_ms", "peak_rss_mb", "non_2xx")}
summary = {"machine": f"{os.cpu_count()} cores, server on 1 pinned CPU", "runs": runs, "median": med,
           "ratio_rps_rust_over_django": med["rust"]["rps"] / med["django"]["rps"]}
json.dump(summary, open(out, "w"), indent=1)
print(f"{'':8}{'cold ms':>9}{'req/s':>11}{'p99 ms':>9}{'RSS MB':>8}")
for label, m in med.items():
    print(f"{label:8}{m['cold_start_ms']:9.1f}{m['rps']:11.0f}{m['p99_ms']:9.2f}{m['peak_rss_mb']:8.1f}")
print(f"/healthz req/s ratio rust/django: {summary['ratio_rps_rust_over_django']:.1f}x  ({out})")
PY
