#!/bin/bash
# A Redis Cluster primary that hangs: 3 primaries and 3 replicas on loopback (ports 7101-7106), the bundled server on
# it (Release build), creates posted to 12 queues every 200 ms; 5 s in, the primary of slots 5461-10922 is frozen
# (SIGSTOP) until the end. Usage: bash bench/cluster-hang/run.sh LABEL [EXTRA], EXTRA appended to the configuration
# string (",configCheckSeconds=60"); then python3 analyze.py LABEL in DIR. Needs redis-server and redis-cli.
set -u
label=$1; extra=${2:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${CLUSTER_HANG_DIR:-/tmp/cluster-hang}
mkdir -p "$dir"; cp "$repo"/bench/cluster-hang/*.py "$dir"; cd "$dir"
stop_nodes() { for p in 7101 7102 7103 7104 7105 7106; do redis-cli -p $p shutdown nosave >/dev/null 2>&1; done; }
stop_nodes; sleep 1
for p in 7101 7102 7103 7104 7105 7106; do
  rm -rf $p; mkdir -p $p
  (cd $p && redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 3000 --appendonly no --save "" --daemonize yes --logfile log.txt)
done
sleep 1
redis-cli --cluster create 127.0.0.1:7101 127.0.0.1:7102 127.0.0.1:7103 127.0.0.1:7104 127.0.0.1:7105 127.0.0.1:7106 \
  --cluster-replicas 1 --cluster-yes >/dev/null
sleep 4
primary=$(redis-cli -p 7101 cluster nodes | awk '/master/ && /5461-10922/ {print $2}' | cut -d@ -f1 | cut -d: -f2)
Conveyor__Store=redis Conveyor__Redis__Configuration="127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103$extra" \
  Conveyor__DataDirectory="$dir/data-$label" \
  dotnet "$repo/src/Conveyor.Server/bin/Release/net10.0/Conveyor.Server.dll" --urls http://127.0.0.1:8181 > "server-$label.log" 2>&1 &
server=$!
for _ in $(seq 60); do curl -sf http://127.0.0.1:8181/healthz >/dev/null 2>&1 && break; sleep 0.5; done
python3 drive.py http://127.0.0.1:8181 35 "posts-$label.txt" &
driver=$!
sleep 5
pid=$(pgrep -f "redis-server 127.0.0.1:$primary")
echo "frozen $primary at $(date +%s.%N)" > "events-$label.txt"; kill -STOP "$pid"
for _ in $(seq 120); do
  sleep 0.25
  now=$(redis-cli -p 7101 cluster nodes | awk '/master/ && /5461-10922/ && !/fail/ {print $2}' | cut -d@ -f1 | cut -d: -f2)
  if [ -n "$now" ] && [ "$now" != "$primary" ]; then echo "failover to $now at $(date +%s.%N)" >> "events-$label.txt"; break; fi
done
wait $driver
kill -CONT "$pid"; kill $server; wait $server 2>/dev/null
stop_nodes
python3 analyze.py "$label"
