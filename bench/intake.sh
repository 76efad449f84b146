#!/usr/bin/env bash
# intake.sh: the webhook intake benchmark matrix. Measures the bare cpp-httplib endpoint
# (bench/bare_server) and `vaxbot serve` with --synchronous full (durable) and normal
# (not durable) at 2, 16, 64 and 256 connections with bench/webhook_load, REPEAT times,
# interleaved so that noise hits every server alike, and prints a Markdown table of medians.
#
#   bench/intake.sh BUILD_DIR [DURATION_S]          (default 10 s per run)
#
# Environment (all optional):
#   REPEAT=3             repeats of the whole matrix
#   WARMUP=1             warm-up seconds per run, not counted
#   CONNS="2 16 64 256"  connection counts
#   CLIENT_THREADS=1     webhook_load --threads
#   LOAD_EXTRA=--statuses  intake alone (statuses run no conversation); default "Hi" messages
#   OUT_DIR=...          where server logs, databases and results.jsonl go (default: mktemp -d)
#   KEEP_DB=1            keep the databases (default: deleted after each server stops)
#   VAXBOT_CMD="BUILD_DIR/vaxbot serve"  word-split; the script appends
#                        --port 0 --db FILE --synchronous full|normal
#   BARE_CMD="BUILD_DIR/bench/bare_server"  the script appends --port 0
# Each server must print `listening on http://HOST:PORT` on stdout once it accepts
# connections. vaxbot runs from the repository root with WHATSAPP_APP_SECRET=bench-secret.
# See bench/README.md.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 1 && $# -le 2 && $1 != -h && $1 != --help ]] || usage

BUILD_DIR=$(cd "$1" && pwd)
DURATION=${2:-10}
REPEAT=${REPEAT:-3}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-"2 16 64 256"}
CLIENT_THREADS=${CLIENT_THREADS:-1}
# LOAD_EXTRA=--statuses measures the intake alone: delivery statuses are verified, parsed and
# committed like messages but run no conversation. Default: "Hi" messages, each a whole turn.
LOAD_EXTRA=${LOAD_EXTRA:-}
BARE_CMD=${BARE_CMD:-"$BUILD_DIR/bench/bare_server"}
VAXBOT_CMD=${VAXBOT_CMD:-"$BUILD_DIR/vaxbot serve --host 127.0.0.1"}
LOAD=$BUILD_DIR/bench/webhook_load
SECRET=bench-secret
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/vaxbot-intake.XXXXXX")}
RESULTS=$OUT_DIR/results.jsonl
START_TIMEOUT_S=60
STOP_TIMEOUT_S=30

[[ -x $LOAD ]] || { echo "intake.sh: $LOAD not found; build the bench tools first" >&2; exit 2; }
mkdir -p "$OUT_DIR"
: >"$RESULTS"
ulimit -n 65536 2>/dev/null || true

SERVER_PID=
SERVER_URL=
DB=

log() { echo "[intake $(date +%H:%M:%S)] $*" >&2; }

remove_db() {
  if [[ -n $DB && ${KEEP_DB:-0} != 1 ]]; then rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"; fi
  DB=
}

# stop_server: SIGTERM, then wait for it to exit (SIGKILL after STOP_TIMEOUT_S).
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local waited=0
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT_S * 10)); then
      log "server $SERVER_PID ignored SIGTERM for ${STOP_TIMEOUT_S}s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local rc=0
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  ((rc == 0)) || log "server exited with status $rc (log: $SERVER_LOG.err)"
  SERVER_PID=
}

cleanup() {
  stop_server
  remove_db
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME COMMAND...: starts it in the background and sets SERVER_URL from its
# `listening on` line.
start_server() {
  local name=$1
  shift
  SERVER_LOG=$OUT_DIR/$name
  (cd "$ROOT" && exec "$@") >"$SERVER_LOG.out" 2>"$SERVER_LOG.err" &
  SERVER_PID=$!
  local line='' waited=0
  while [[ -z $line ]]; do
    line=$(grep -m1 -o 'listening on http://[^[:space:]]*' "$SERVER_LOG.out" || true)
    [[ -n $line ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null || ((waited >= START_TIMEOUT_S * 10)); then
      log "$name did not start: $*"
      tail -n 20 "$SERVER_LOG.err" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  SERVER_URL=${line#listening on }
  # A wildcard address is reachable on the loopback.
  SERVER_URL=${SERVER_URL/\/\/0.0.0.0:/\/\/127.0.0.1:}
  SERVER_URL=${SERVER_URL/\/\/\[::\]:/\/\/[::1]:}
}

# run_loads KIND REP: one webhook_load run per connection count against SERVER_URL.
run_loads() {
  local kind=$1 rep=$2 c out
  for c in $CONNS; do
    out=$("$LOAD" --url "$SERVER_URL/webhook" --connections "$c" --duration "$DURATION" \
      --warmup "$WARMUP" --secret "$SECRET" --threads "$CLIENT_THREADS" \
      --label "$kind/$rep" $LOAD_EXTRA) || true
    if ! grep -q '^{' <<<"$out"; then
      log "webhook_load failed: $kind rep $rep, $c connections"
      continue
    fi
    grep -v '^{' <<<"$out" >&2 || true
    grep '^{' <<<"$out" | tail -n 1 >>"$RESULTS"
  done
}

log "results in $OUT_DIR; $REPEAT x (bare, durable, non-durable) x connections {$CONNS}" \
  "x ${DURATION}s (+${WARMUP}s warm-up)"
for ((rep = 1; rep <= REPEAT; rep++)); do
  # shellcheck disable=SC2086  # BARE_CMD and VAXBOT_CMD are word-split on purpose
  start_server "bare-$rep" $BARE_CMD --port 0
  log "rep $rep: bare at $SERVER_URL"
  run_loads bare "$rep"
  stop_server

  for sync in full normal; do
    kind=$([[ $sync == full ]] && echo durable || echo non-durable)
    DB=$OUT_DIR/vaxbot-$kind-$rep.db
    rm -f "$DB" "$DB-wal" "$DB-shm"
    # shellcheck disable=SC2086
    start_server "$kind-$rep" env WHATSAPP_APP_SECRET="$SECRET" \
      $VAXBOT_CMD --port 0 --db "$DB" --synchronous "$sync"
    log "rep $rep: $kind (--synchronous $sync) at $SERVER_URL"
    run_loads "$kind" "$rep"
    stop_server
    remove_db
  done
done

python3 - "$RESULTS" "$REPEAT" "$DURATION" "$CONNS" <<'PY'
import collections, json, statistics, sys

path, repeat, duration, conns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
runs = collections.defaultdict(dict)  # (kind, connections) -> {rep: result}
for line in open(path):
    r = json.loads(line)
    kind, rep = r["label"].rsplit("/", 1)
    runs[(kind, r["connections"])][rep] = r

def median(values):
    return statistics.median(values) if values else None

def fmt_rps(v):
    return "n/a" if v is None else f"{v:,.0f}"

def fmt_ms(v):
    return "n/a" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.0f}")

def latency(kind, c):
    rs = runs[(kind, c)].values()
    parts = [median([r[k] for r in rs]) for k in ("p50_ms", "p99_ms", "max_ms")]
    return " / ".join(fmt_ms(p) for p in parts)

def ratio(kind, c):
    bare, other = runs[("bare", c)], runs[(kind, c)]
    rs = [other[rep]["rps"] / bare[rep]["rps"] for rep in other
          if rep in bare and bare[rep]["rps"] > 0]
    m = median(rs)
    return "n/a" if m is None else f"{m:.2f}"

def rps(kind, c):
    return fmt_rps(median([r["rps"] for r in runs[(kind, c)].values()]))

print()
print(f"Medians of {repeat} repeats, {duration} s each; ratio = req/s ÷ bare req/s in the same "
      "repeat (median). Latency from send to full response.")
print()
print("| connections | bare req/s | durable req/s | durable p50 / p99 / max ms | ratio "
      "| non-durable req/s | non-durable p50 / p99 / max ms | ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in map(int, conns):
    print(f"| {c} | {rps('bare', c)} | {rps('durable', c)} | {latency('durable', c)} "
          f"| {ratio('durable', c)} | {rps('non-durable', c)} | {latency('non-durable', c)} "
          f"| {ratio('non-durable', c)} |")

notes = []
for (kind, c), reps in sorted(runs.items()):
    for rep, r in sorted(reps.items()):
        other = {k: v for k, v in r["status"].items() if k != "200" and v}
        if other or r["errors"] or r["reconnects"] or r["min_per_conn"] == 0:
            notes.append(f"- {kind}, {c} connections, repeat {rep}: non-200 {other or 'none'}, "
                         f"errors {r['errors']}, reconnects {r['reconnects']}, "
                         f"min_per_conn {r['min_per_conn']}")
for kind in ("bare", "durable", "non-durable"):
    for c in map(int, conns):
        if len(runs[(kind, c)]) < int(repeat):
            notes.append(f"- {kind}, {c} connections: {len(runs[(kind, c)])} of {repeat} runs "
                         "produced a result")
if notes:
    print()
    print("Anomalies:")
    print("\n".join(notes))
PY
log "raw results: $RESULTS"
