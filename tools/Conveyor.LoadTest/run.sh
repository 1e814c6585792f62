#!/usr/bin/env bash
# Measures POST /jobs and GET /jobs/{id} requests/s of the Conveyor server on loopback with wrk, and the server's
# memory after 100,000 jobs. Usage: tools/Conveyor.LoadTest/run.sh sqlite|redis [duration-seconds]
# Needs wrk (apt-get install -y wrk) and, for redis, CONVEYOR_REDIS (from eng/services/redis.sh start).
set -euo pipefail
store="${1:-sqlite}"
duration="${2:-15}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
artifacts="${ARTIFACTS:-/tmp/art-loadtest}"
port="${PORT:-18080}"
work="$(mktemp -d /tmp/conveyor-load-XXXXXX)"
url="http://127.0.0.1:$port"

dotnet build "$root/src/Conveyor.Server/Conveyor.Server.csproj" -c Release --artifacts-path "$artifacts" -v q -nologo >/dev/null
dll="$(find "$artifacts/bin/Conveyor.Server" -name Conveyor.Server.dll -path '*release*' | head -1)"

export ASPNETCORE_URLS="$url"
export Conveyor__Store="$store"
export Conveyor__Sqlite__Path="$work/conveyor.db"
export Conveyor__Api__RateLimit__Enabled=false
# The workers serve "default" only: the benchmark's jobs go to "bench" and stay queued.
export Conveyor__Server__Queues__default=1
export Logging__LogLevel__Default=Warning
if [[ "$store" == redis ]]; then
  export Conveyor__Redis__Configuration="${CONVEYOR_REDIS:?set CONVEYOR_REDIS to the Redis address}"
  export Conveyor__Redis__KeyPrefix="load$$"
fi

(cd "$work" && exec dotnet "$dll") >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done

rss() { awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$server/status"; }
echo "store: $store; server RSS at start: $(rss)"
echo "warm-up:"; wrk -t1 -c32 -d3s -s "$root/tools/Conveyor.LoadTest/post-job.lua" "$url" | tail -1
echo "POST /jobs (${duration}s, 64 connections):"
wrk -t2 -c64 -d"${duration}s" -s "$root/tools/Conveyor.LoadTest/post-job.lua" "$url" | tail -1
id="$(curl -s -X POST "$url/jobs" -H 'Content-Type: application/json' -d '{"type":"note:archive","queue":"bench","payload":{"note_id":1}}' | sed 's/.*"job_id":"\([^"]*\)".*/\1/')"
echo "GET /jobs/$id (${duration}s, 64 connections):"
wrk -t2 -c64 -d"${duration}s" --latency "$url/jobs/$id" | grep -E "Requests/sec|50%|99%"
total="$(curl -s "$url/queues" | grep -o '"name":"bench","paused":[a-z]*,"scheduled":[0-9]*,"queued":[0-9]*' | grep -o '[0-9]*$')"
echo "jobs queued in 'bench': $total; server RSS now: $(rss)"
if (( total < 100000 )); then
  wrk -t2 -c64 -d60s -s "$root/tools/Conveyor.LoadTest/post-job.lua" "$url" >/dev/null &
  loader=$!
  while (( total < 100000 )); do sleep 1; total="$(curl -s "$url/queues" | grep -o '"name":"bench","paused":[a-z]*,"scheduled":[0-9]*,"queued":[0-9]*' | grep -o '[0-9]*$')"; done
  kill $loader 2>/dev/null || true; wait $loader 2>/dev/null || true
fi
echo "after $total jobs: server RSS $(rss)"
