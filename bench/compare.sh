#!/usr/bin/env bash
# compare.sh: before/after of two vaxbot builds under the same load, run alternately.
#
#   bench/compare.sh BEFORE_ROOT AFTER_ROOT [CONNECTIONS] [REPEAT]
#
# Each ROOT is a checkout with a Release build in ROOT/build-bench (vaxbot is run
# from ROOT so it finds its flows/, templates/ and data/). For each repeat and
# each of --synchronous normal and full, both builds serve a fresh database and
# take the same webhook_load run ("Hi" from many residents, 5 s); prints the
# medians. The load tool is AFTER_ROOT's.
set -euo pipefail
before=$1 after=$2 conns=${3:-64} repeat=${4:-3}
load=$after/build-bench/bench/webhook_load
out=$(mktemp -d)
for rep in $(seq "$repeat"); do
  for which in before after; do
    root=$before; [ "$which" = after ] && root=$after
    for mode in normal full; do
      rm -f "$out"/db*
      (cd "$root" && WHATSAPP_APP_SECRET=bench-secret exec build-bench/vaxbot serve --host 127.0.0.1 \
        --port 0 --db "$out/db" --synchronous "$mode" >"$out/server.out" 2>"$out/server.err") &
      pid=$!
      until grep -q '^listening on' "$out/server.out" 2>/dev/null; do sleep 0.1; done
      port=$(sed -n 's/^listening on http:\/\/.*:\([0-9]*\)$/\1/p' "$out/server.out")
      "$load" --url "http://127.0.0.1:$port/webhook" --connections "$conns" --duration 5 \
        --secret bench-secret --label "$which-$mode-$rep" | grep '^{' >>"$out/results.jsonl"
      kill -TERM "$pid"; wait "$pid" || true
    done
  done
done
python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    which, mode, _ = r["label"].split("-")
    runs[(mode, which)].append(r)
for mode in ("normal", "full"):
    b, a = runs[(mode, "before")], runs[(mode, "after")]
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    print(f"{mode:6}  before {med(b,'rps'):8.0f} req/s p99 {med(b,'p99_ms'):5.1f} ms   "
          f"after {med(a,'rps'):8.0f} req/s p99 {med(a,'p99_ms'):5.1f} ms   x{med(a,'rps')/med(b,'rps'):.2f}")
PY
