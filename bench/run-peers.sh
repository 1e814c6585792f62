#!/usr/bin/env bash
# Runs Conveyor side by side with the peers of the shared harness (../shared/bench/peers), in ONE run,
# without modifying the harness: it copies the harness to $HARNESS_COPY, links bench/peers/conveyor into the
# copy, builds the Conveyor runner once in Release, runs run-all.sh there for the Redis/PostgreSQL peers and
# lib/orchestrate.py for conveyor@sqlite (the harness's driver only knows redis|postgres backends), then renders
# the Markdown table with the harness's lib/report.py.
#
#   bench/run-peers.sh                                          # Conveyor on all three stores + every peer
#   N=2000 REPS=1 bench/run-peers.sh                            # smoke run
#   PEERS="conveyor@redis conveyor@postgres" bench/run-peers.sh
#
# Knobs: PEERS, N, REPS, LAT_N, LAT_RATE, LAT_CONCURRENCY, SKIP_INSTALL, SKIP_BASELINE (as run-all.sh),
#   HARNESS (default ../shared/bench/peers), HARNESS_COPY (default /tmp/conveyor-bench-harness),
#   BENCH_TMP (default /tmp/bench-peers: servers' data, logs, the SQLite file).
# Output: bench/results/<UTC date-time>.jsonl and bench/results/<UTC date-time>.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$(cd "$ROOT/../shared/bench/peers" 2>/dev/null && pwd || echo /work/shared/bench/peers)}
COPY=${HARNESS_COPY:-/tmp/conveyor-bench-harness}
export N=${N:-20000} REPS=${REPS:-3} BENCH_TMP=${BENCH_TMP:-/tmp/bench-peers}
export REDIS_PORT=${REDIS_PORT:-6390} PG_PORT=${PG_PORT:-5440}
PEERS=${PEERS:-"conveyor@redis conveyor@postgres conveyor@sqlite bullmq sidekiq celery:enqueue,enqueue_bulk,drain@10,latency hangfire@redis hangfire@postgres graphile-worker@postgres"}
DEFAULT_WL="enqueue,enqueue_bulk,drain@10,drain@50,latency"
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=${OUT:-$ROOT/bench/results/$STAMP.jsonl}
mkdir -p "$(dirname "$OUT")" "$COPY" "$BENCH_TMP"
log() { echo "[run-peers $(date +%T)] $*" >&2; }

# 1. a private copy of the harness (node_modules and build output of earlier copies are kept), with our runner linked in
log "harness $HARNESS -> $COPY"
cp -a "$HARNESS/." "$COPY/"
chmod -R u+w "$COPY"
ln -sfn "$ROOT/bench/peers/conveyor" "$COPY/conveyor"
# The harness's lock files are not in sync for npm 11 (`npm ci` refuses them): fall back to `npm install` in the copy.
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  for d in bullmq graphile-worker; do
    [ -d "$COPY/$d/node_modules" ] || (cd "$COPY/$d" && { npm ci --no-audit --no-fund >&2 2>/dev/null || npm install --no-audit --no-fund >&2; })
  done
fi

# 2. one Release build of the Conveyor runner for the whole run
log "building bench/Conveyor.PeerRunner (Release)"
rm -f "$ROOT/bench/peers/conveyor/.build/bin/Conveyor.PeerRunner/release/Conveyor.PeerRunner.dll"
"$ROOT/bench/peers/conveyor/run.sh" info >/dev/null
export CONVEYOR_RUNNER_PREBUILT=1

# 3. servers: started here (so run-all.sh leaves them running between its peers and ours), stopped on exit
started=0
status=$("$COPY/lib/servers.sh" status)
if ! grep -q 'redis: running' <<<"$status" || ! grep -q 'postgres: running' <<<"$status"; then
  if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    need=(); for p in redis-server redis-tools postgresql python3-redis; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
    if [ ${#need[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; fi
  fi
  "$COPY/lib/servers.sh" start >&2
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then "$COPY/lib/servers.sh" stop >&2 || true; fi; }
trap cleanup EXIT

# 4. the peers, in PEERS order: run-all.sh for redis/postgres entries, orchestrate.py for @sqlite ones
group=""
flush_group() {
  if [ -n "$group" ]; then
    (cd "$COPY" && PEERS="$group" OUT="$OUT" ./run-all.sh) || log "run-all.sh failed for: $group"
    # run-all.sh may stop the servers on exit (its status check can misfire under pipefail): make sure they run
    "$COPY/lib/servers.sh" start >&2
    export SKIP_BASELINE=1 SKIP_INSTALL=1   # once per run is enough
    group=""
  fi
}
for entry in $PEERS; do
  spec=${entry%%:*}
  if [ "${spec#*@}" = sqlite ]; then
    flush_group
    wl=$DEFAULT_WL; [ "$spec" != "$entry" ] && wl=${entry#*:}
    log "peer ${spec%%@*} backend=sqlite workloads=$wl"
    /usr/bin/python3 "$COPY/lib/orchestrate.py" --dir "$COPY/${spec%%@*}" --backend redis --env BACKEND=sqlite \
      --label "${spec%%@*}@sqlite" --workloads "$wl" --reps "$REPS" --n "$N" --out "$OUT" \
      || log "peer $spec failed (see $BENCH_TMP/logs)"
  else
    group="$group $entry"
  fi
done
flush_group

# 5. the Markdown table (same format as the harness's RESULTS.md)
/usr/bin/python3 "$COPY/lib/report.py" "$OUT" >"${OUT%.jsonl}.md"
log "results: $OUT and ${OUT%.jsonl}.md"
