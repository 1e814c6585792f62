#!/bin/bash
# A Redis Cluster primary that hangs: 3 primaries and 3 replicas on loopback (ports BASE+1..BASE+6, BASE 7100 unless
# CLUSTER_HANG_BASE says), the bundled server on it (Release build, HTTP port CLUSTER_HANG_HTTP or 8181) serving the 12
# queues, creates posted to them every 200 ms; 5 s in, the primary of slots 5461-10922 is frozen (SIGSTOP) until the
# end. Usage: bash bench/cluster-hang/run.sh LABEL [EXTRA], EXTRA appended to the configuration string
# (",configCheckSeconds=60"); then python3 analyze.py LABEL in DIR. Needs redis-server and redis-cli.
set -u
label=$1; extra=${2:-}
base=${CLUSTER_HANG_BASE:-7100}; http=${CLUSTER_HANG_HTTP:-8181}
ports=$(seq $((base + 1)) $((base + 6)))
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${CLUSTER_HANG_DIR:-/tmp/cluster-hang}
mkdir -p "$dir"; cp "$repo"/bench/cluster-hang/*.py "$dir"; cd "$dir"
stop_nodes() { for p in $ports; do redis-cli -p $p shutdown nosave >/dev/null 2>&1; done; }
stop_nodes; sleep 1
for p in $ports; do
  rm -rf $p; mkdir -p $p
  (cd $p && redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 3000 --appendonly no --save "" --daemonize yes --logfile log.txt)
done
sleep 1
redis-cli --cluster create $(for p in $ports; do printf '127.0.0.1:%s ' $p; done) \
  --cluster-replicas 1 --cluster-yes >/dev/null
sleep 4
primary=$(redis-cli -p $((base + 1)) cluster nodes | awk '/master/ && /5461-10922/ {print $2}' | cut -d@ -f1 | cut -d: -f2)
for i in $(seq 0 11); do echo "q$i $(redis-cli -p $((base + 1)) cluster keyslot "q$i")"; done > "slots-$label.txt"
# The server serves the 12 queues (one worker slot each on average) and logs every job it runs (the processor's success
# lines are Debug in appsettings.json), with UTC timestamps, so that analyze.py counts the jobs run per queue.
queues=(); for i in $(seq 0 11); do queues+=("Conveyor__Server__Queues__q$i=1"); done
env Conveyor__Store=redis Conveyor__Redis__Configuration="127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3))$extra" \
  Conveyor__DataDirectory="$dir/data-$label" "${queues[@]}" Conveyor__Server__Concurrency=12 \
  Logging__Console__FormatterOptions__UseUtcTimestamp=true \
  dotnet "$repo/src/Conveyor.Server/bin/Release/net10.0/Conveyor.Server.dll" --urls http://127.0.0.1:$http > "server-$label.log" 2>&1 &
server=$!
for _ in $(seq 60); do curl -sf http://127.0.0.1:$http/healthz >/dev/null 2>&1 && break; sleep 0.5; done
python3 drive.py http://127.0.0.1:$http 35 "posts-$label.txt" &
driver=$!
sleep 5
pid=$(pgrep -f "redis-server 127.0.0.1:$primary")
echo "frozen $primary at $(date +%s.%N)" > "events-$label.txt"; kill -STOP "$pid"
for _ in $(seq 120); do
  sleep 0.25
  now=$(redis-cli -p $((base + 1)) cluster nodes | awk '/master/ && /5461-10922/ && !/fail/ {print $2}' | cut -d@ -f1 | cut -d: -f2)
  if [ -n "$now" ] && [ "$now" != "$primary" ]; then echo "failover to $now at $(date +%s.%N)" >> "events-$label.txt"; break; fi
done
wait $driver
kill -CONT "$pid"; kill $server; wait $server 2>/dev/null
stop_nodes
python3 analyze.py "$label"
