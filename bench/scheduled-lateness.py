#!/usr/bin/env python3
# How late delayed jobs start: enqueues N demo:sleep jobs with process_in_seconds=S through a running server's Jobs API,
# one every 137 ms (so their due times fall all over the promoter's second), waits, and reports each job's
# started_at - scheduled_at. Usage: python3 bench/scheduled-lateness.py http://127.0.0.1:8080 30 2
import json, sys, time, urllib.request
from datetime import datetime
base, n, s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ids = []
for i in range(n):
    req = urllib.request.Request(base + "/jobs", data=json.dumps({"type": "demo:sleep", "payload": {"Seconds": 0}, "process_in_seconds": s}).encode(), headers={"content-type": "application/json"})
    ids.append(json.load(urllib.request.urlopen(req))["job_id"])
    time.sleep(0.137)
time.sleep(s + 2)
late = []
for i in ids:
    j = json.load(urllib.request.urlopen(base + "/jobs/" + i))
    f = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))
    late.append((f(j["started_at"]) - f(j["scheduled_at"])).total_seconds() * 1000)
late.sort()
print(f"n={n} late ms: p50 {late[n//2]:.1f} p90 {late[int(n*0.9)]:.1f} max {late[-1]:.1f} min {late[0]:.1f}")
