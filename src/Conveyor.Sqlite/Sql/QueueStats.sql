-- QueueStats: counts of every queue's jobs by state, across tenants, from queue_counts (kept by the triggers of
-- migration 0005: one row per queue and state, never a count over the jobs table), and when the next job of each
-- queue to be taken became pending (the head of the jobs_pending index: one index seek per queue).
-- Parameters: none. Result: one row per (queue, state) that has jobs: queue, state, count, oldest_pending.
SELECT c.queue, c.state, c.jobs AS count,
       CASE WHEN c.state = 'pending' THEN
           (SELECT j.enqueued_at FROM jobs j WHERE j.queue = c.queue AND j.state = 'pending' ORDER BY j.pending_seq LIMIT 1)
       END AS oldest_pending
FROM queue_counts c
WHERE c.jobs > 0;
