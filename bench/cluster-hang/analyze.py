"""Reads a run's events, posts and server log (run.sh) and prints, per second from the failover, the creates answered
202 / not; then the jobs the server ran, per queue, while the primary was frozen (before the failover), those of the
frozen primary's queues (slots 5461-10922) apart, per second from the freeze, and any job run twice."""
import collections, datetime, os, re, sys

label = sys.argv[1]
events = [line.split() for line in open(f"events-{label}.txt") if line.strip()]
frozen, failover = float(events[0][-1]), float(events[1][-1])
rows = [line.split() for line in open(f"posts-{label}.txt")]
failed = [r for r in rows if r[3] != "202"]
print(f"{label}: failover {failover - frozen:.1f} s after the freeze; {len(rows)} creates, {len(failed)} not 202")
if failed:
    print(f"  every create sent from {max(float(r[0]) for r in failed) - failover:+.1f} s after the failover on was answered 202")
buckets = collections.defaultdict(lambda: [0, 0])
for r in rows:
    buckets[int((float(r[0]) - failover) // 1)][0 if r[3] == "202" else 1] += 1
print("  by second from the failover (202/other): " + " ".join(f"{k:+d}:{v[0]}/{v[1]}" for k, v in sorted(buckets.items()) if -7 <= k <= 16))

if os.path.exists(f"slots-{label}.txt"):
    frozen_queues = {q for q, slot in (line.split() for line in open(f"slots-{label}.txt")) if 5461 <= int(slot) <= 10922}
    midnight = datetime.datetime.fromtimestamp(frozen, datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    success = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) .*Job (\S+) \(demo:sleep, queue (q\d+)\) attempt (\d+) ran .*: success")
    runs = []
    for line in open(f"server-{label}.log", errors="replace"):
        m = success.match(line)
        if m:
            runs.append((midnight + int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]), m[4], m[5], int(m[6])))
    during = [r for r in runs if frozen <= r[0] < failover]
    per_queue = collections.Counter(r[2] for r in during)
    others = sorted({f"q{i}" for i in range(12)} - frozen_queues, key=lambda q: int(q[1:]))
    print(f"  jobs run while frozen, before the failover ({failover - frozen:.1f} s): other primaries' queues "
          f"{sum(per_queue[q] for q in others)} ({' '.join(f'{q}:{per_queue[q]}' for q in others)}); "
          f"frozen primary's queues {sum(per_queue[q] for q in frozen_queues)} ({' '.join(f'{q}:{per_queue[q]}' for q in sorted(frozen_queues, key=lambda q: int(q[1:])))})")
    seconds = collections.defaultdict(lambda: [0, 0])
    for r in runs:
        seconds[int((r[0] - frozen) // 1)][1 if r[2] in frozen_queues else 0] += 1
    print("  jobs run by second from the freeze (other queues/frozen primary's): " + " ".join(f"{k:+d}:{v[0]}/{v[1]}" for k, v in sorted(seconds.items()) if -3 <= k <= 20))
    twice = [job for job, n in collections.Counter(r[1] for r in runs).items() if n > 1]
    print(f"  {len(runs)} jobs run, {len(twice)} twice, {sum(1 for r in runs if r[3] > 1)} on a later attempt")
