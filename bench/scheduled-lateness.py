#!/usr/bin/env python3
# How late delayed jobs start: enqueues N demo:sleep jobs with process_in_seconds=S through a running server's Jobs API,
# one every 137 ms by default (so their due times fall all over the promoter's second), waits, and reports each job's
# started_at - scheduled_at. Usage: python3 bench/scheduled-lateness.py http://127.0.0.1:8080 30 2
# A fraction of a second (0.3) is sent as process_at, now plus S by this machine's clock (the server's). A fourth
# argument changes the gap between jobs (seconds; 1.3 leaves each job alone: none is found by another's promotion).
import json, sys, time, urllib.request
from datetime import datetime, timedelta, timezone
base, n, s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
gap = float(sys.argv[4]) if len(sys.argv) > 4 else 0.137
ids = []
for i in range(n):
    when = {"process_in_seconds": int(s)} if s.is_integer() else {"process_at": (datetime.now(timezone.utc) + timedelta(seconds=s)).isoformat()}
    req = urllib.request.Request(base + "/jobs", data=json.dumps({"type": "demo:sleep", "payload": {"Seconds": 0}, **when}).encode(), headers={"content-type": "application/json"})
    ids.append(json.load(urllib.request.urlopen(req))["job_id"])
    time.sleep(gap)
time.sleep(s + 2)
late = []
for i in ids:
    j = json.load(urllib.request.urlopen(base + "/jobs/" + i))
    f = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))
    late.append((f(j["started_at"]) - f(j["scheduled_at"])).total_seconds() * 1000)
late.sort()
print(f"n={n} late ms: p50 {late[n//2]:.1f} p90 {late[int(n*0.9)]:.1f} max {late[-1]:.1f} min {late[0]:.1f}")
