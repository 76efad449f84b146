#!/usr/bin/env bash
# The outbox's send rate and backlog drain, against the Cloud API stand-in over TLS.
#
#   bench/outbox.sh BUILD_DIR [ROWS] [RATE]
#
# Makes a throw-away CA and a certificate for 127.0.0.1 with the openssl command line,
# then runs BUILD_DIR/bench/outbox_drain REPEAT times (default 3) and prints each run's
# JSON line and the median of the steady rate and of the drain time. Environment:
# REPEAT, THREADS (sender connections; 0 = the default for the rate), SYNCHRONOUS
# (full|normal, default full).
set -euo pipefail
build=${1:?usage: bench/outbox.sh BUILD_DIR [ROWS] [RATE]}
rows=${2:-10000}
rate=${3:-1000}
repeat=${REPEAT:-3}
certs=$(mktemp -d)
trap 'rm -rf "$certs"' EXIT
(
  cd "$certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj /CN=bench-ca 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj /CN=bench-server 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile ext.cnf 2>/dev/null
)
results=$(mktemp)
for i in $(seq "$repeat"); do
  "$build/bench/outbox_drain" --rows "$rows" --rate "$rate" --threads "${THREADS:-0}" \
    --synchronous "${SYNCHRONOUS:-full}" --cert-dir "$certs" | tee -a "$results"
done
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
med = lambda k: statistics.median(r[k] for r in runs)
print(f"median of {len(runs)}: steady {med('steady_rate'):.1f} msg/s, mean {med('mean_rate'):.1f} msg/s, "
      f"max in 1 s {med('max_in_1s'):.0f}, drain {med('drain_s'):.2f} s, "
      f"lost {sum(r['lost'] for r in runs)}, duplicates {sum(r['duplicates'] for r in runs)}")
PY
rm -f "$results"
