#!/usr/bin/env bash
# Scale curves with bench/Conveyor.Bench (see bench/README.md): starts a throwaway Redis and PostgreSQL (the peer
# harness's lib/servers.sh, on ports 6392/5442 under /tmp/bench-scale), builds the program in Release, runs every
# scenario on the stores in STORES, and writes bench/results/scale-<UTC date-time>.txt.
#   bench/run-scale.sh                                  # everything (~25 min here)
#   STORES="redis" SCENARIOS="drain-scale" bench/run-scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$(cd "$ROOT/../shared/bench/peers" 2>/dev/null && pwd || echo /work/shared/bench/peers)}
export BENCH_TMP=${SCALE_TMP:-/tmp/bench-scale} REDIS_PORT=${SCALE_REDIS_PORT:-6392} PG_PORT=${SCALE_PG_PORT:-5442}
STORES=${STORES:-"memory redis postgres sqlite"}
SCENARIOS=${SCENARIOS:-"drain-scale concurrency concurrency-io latency kill"}
ART=${ART:-/tmp/art-bench}
OUT=${OUT:-$ROOT/bench/results/scale-$(date -u +%Y-%m-%dT%H-%M-%SZ).txt}
mkdir -p "$(dirname "$OUT")"

dotnet build "$ROOT/bench/Conveyor.Bench/Conveyor.Bench.csproj" -c Release --artifacts-path "$ART" --nologo -v q >&2
DLL=$ART/bin/Conveyor.Bench/release/Conveyor.Bench.dll
SERVERS="$HARNESS/lib/servers.sh"
status=$("$SERVERS" status)
started=0
if ! grep -q 'redis: running' <<<"$status" || ! grep -q 'postgres: running' <<<"$status"; then "$SERVERS" start >&2; started=1; fi
cleanup() { if [ "$started" = 1 ]; then "$SERVERS" stop >&2 || true; fi; }
trap cleanup EXIT
CONN=(--redis "127.0.0.1:$REDIS_PORT" --postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Maximum Pool Size=200")

run() {
  echo "\$ dotnet Conveyor.Bench.dll $*" | tee -a "$OUT"
  DOTNET_TieredPGO=1 dotnet "$DLL" "$@" "${CONN[@]}" 2>&1 | tee -a "$OUT" || echo "FAILED: $*" | tee -a "$OUT"
  echo | tee -a "$OUT"
}
for scenario in $SCENARIOS; do
  for store in $STORES; do
    case $scenario in
      drain-scale) run --scenario drain-scale --store "$store" --concurrency 50 --n 20000 --sizes 10000,100000,1000000 --probe ;;
      concurrency) run --scenario concurrency --store "$store" --levels 1,10,100,1000 --n 20000 --seconds 8 --probe ;;
      concurrency-io) run --scenario concurrency --store "$store" --levels 1,10,100,1000 --n 20000 --seconds 8 --io-ms 10 --probe ;;
      latency) run --scenario latency --store "$store" --concurrency 50 --rates 200,2000,10000 --seconds 5 ;;
      kill) [ "$store" != memory ] && run --scenario kill --store "$store" --n 3 ;;
    esac
  done
done
echo "results: $OUT" >&2
