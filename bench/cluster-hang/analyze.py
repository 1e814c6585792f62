"""Reads a run's events and posts (run.sh) and prints, per second from the failover, the creates answered 202 / not."""
import collections, sys

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
