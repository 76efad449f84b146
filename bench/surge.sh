#!/usr/bin/env bash
# The launch-day surge, REPEAT times (default 3), and the medians.
#
#   bench/surge.sh BUILD_DIR [surge flags...]
#   REPEAT=3 bench/surge.sh build-surge --residents 200 --duration 20
#
# Runs BUILD_DIR/bench/surge from the repository root with the flags given (see
# `surge --help`), prints each run's summary, then one line of medians over the runs. Every
# run checks its invariants; the script exits 1 if any run failed (all runs still happen).
set -euo pipefail
build=${1:?usage: bench/surge.sh BUILD_DIR [surge flags...]}
shift
repeat=${REPEAT:-3}
cd "$(dirname "$0")/.."
results=$(mktemp)
trap 'rm -f "$results"' EXIT
failed=0
for i in $(seq "$repeat"); do
  if ! "$build/bench/surge" --label "run $i" "$@" | tee -a "$results"; then
    failed=1
  fi
done
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
if not runs:
    sys.exit("no results")
med = lambda k: statistics.median(r[k] for r in runs)
bare = [r["bare"]["rps"] for r in runs if "bare" in r]
print(f"median of {len(runs)}: bookings/s {med('bookings_per_s'):.1f}, webhooks/s {med('webhooks_per_s'):.1f}, "
      f"replies/s {med('replies_per_s'):.1f}; ack p50/p99/max {med('ack_p50_ms'):.2f}/{med('ack_p99_ms'):.2f}/"
      f"{med('ack_max_ms'):.1f} ms; reply p50/p99 {med('reply_p50_ms'):.1f}/{med('reply_p99_ms'):.1f} ms; "
      f"503s {statistics.median(r['status']['503'] for r in runs):.0f}; vaxbot {med('vaxbot_cores'):.2f} cores "
      f"({med('vaxbot_cpu_ms_per_booking'):.2f} ms/booking, at rest {med('vaxbot_idle_cores'):.2f} cores), "
      f"peak RSS {med('vaxbot_peak_rss_mb'):.1f} MB; {med('db_bytes_per_resident'):.0f} B/resident, "
      f"{med('db_bytes_per_booked'):.0f} B/booked"
      + (f"; bare {statistics.median(bare):.0f} req/s, ratio {med('webhooks_vs_bare'):.4f}" if bare else "")
      + f"; all invariants held: {all(r['ok'] for r in runs)}")
PY
exit "$failed"
