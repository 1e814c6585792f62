-- PendingCandidates: the first pending jobs of a queue, in the order they became pending, for a dequeue under
-- concurrency limits to choose from (nothing when the queue is paused). Walks the partial index jobs_pending.
-- Parameters: @queue, @limit.
-- Result: seq, type, tenant.
SELECT seq, type, tenant FROM jobs INDEXED BY jobs_pending
WHERE state = 'pending' AND queue = @queue
  AND NOT EXISTS (SELECT 1 FROM queues WHERE name = @queue AND paused = 1)
ORDER BY pending_seq
LIMIT @limit + 0;
