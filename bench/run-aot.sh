#!/usr/bin/env bash
# Start-up time and memory of the same small worker (bench/Conveyor.AotWorker: host, SQLite store, one job)
# published with Native AOT and as an ordinary framework-dependent (JIT) application.
#   bench/run-aot.sh            # 5 runs of each
#   RUNS=10 bench/run-aot.sh
# Each run starts from a fresh SQLite file and prints the worker's own figures: milliseconds from process start to
# its first job done, and the process's peak working set. Needs clang (or clang-14) and zlib1g-dev for the AOT link.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
OUT=${OUT:-/tmp/conveyor-aot-bench}
PROJECT="$ROOT/bench/Conveyor.AotWorker/Conveyor.AotWorker.csproj"
linker=()
if ! command -v clang >/dev/null && command -v clang-14 >/dev/null; then linker=(-p:CppCompilerAndLinker=clang-14); fi

rm -rf "$OUT" && mkdir -p "$OUT"
start=$(date +%s)
dotnet publish "$PROJECT" -c Release -r linux-x64 -p:PublishAot=true "${linker[@]}" -o "$OUT/aot" -nologo -v q
echo "AOT publish: $(( $(date +%s) - start )) s; binary $(du -h "$OUT/aot/Conveyor.AotWorker" | cut -f1)"
dotnet publish "$PROJECT" -c Release -o "$OUT/jit" -nologo -v q

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in aot jit; do
  for i in $(seq "$RUNS"); do
    rm -f "$OUT"/run.db*
    if [ "$kind" = aot ]; then cmd=("$OUT/aot/Conveyor.AotWorker"); else cmd=("$OUT/jit/Conveyor.AotWorker"); fi
    echo "$kind: $("${cmd[@]}" "$OUT/run.db")"
  done
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
