"""Posts a job to each of 12 queues every 200 ms for DURATION seconds; writes one line per request:
sent-at (epoch s), seconds to the answer, queue, status code (or the exception's name)."""
import json, sys, threading, time, urllib.error, urllib.request

url, duration, out = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], 'w')
lock = threading.Lock()


def post(queue):
    body = json.dumps({"type": "demo:sleep", "queue": queue, "payload": {"seconds": 0}}).encode()
    request = urllib.request.Request(url + "/jobs", data=body, headers={"Content-Type": "application/json"})
    sent = time.time()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            code = response.status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception as e:  # a timeout or a refused connection is an answer too
        code = type(e).__name__
    with lock:
        out.write(f"{sent:.2f} {time.time() - sent:.2f} {queue} {code}\n")
        out.flush()


start = time.time()
while time.time() - start < duration:
    for i in range(12):
        threading.Thread(target=post, args=(f"q{i}",), daemon=True).start()
    time.sleep(0.2)
time.sleep(16)
