-- QueueStats: counts of every queue's jobs by state, across tenants, and when the oldest pending job of each
-- queue became pending. Scans the jobs table: it is for operators and dashboards, not for the hot path.
-- Parameters: none. Result: one row per (queue, state) that has jobs: queue, state, count, oldest_pending.
SELECT queue, state, count(*) AS count,
       min(CASE WHEN state = 'pending' THEN enqueued_at END) AS oldest_pending
FROM jobs
GROUP BY queue, state;
