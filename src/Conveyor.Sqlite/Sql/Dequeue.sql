-- Dequeue: leases up to @limit pending jobs of one queue, in the order they became pending, unless the queue
-- is paused. The inner SELECT walks the partial index jobs_pending, so its cost does not grow with the number
-- of finished or scheduled jobs. Each job's lease token is its pending_seq, unique to this lease.
-- A job starts no earlier than it became pending: @now is taken before the write lock, and the call that made the
-- job pending (a release by another process) may have taken a later time and committed first.
-- Parameters: @queue, @limit, @now, @owner, @lease_expires_at.
-- Result: one row per leased job (id, type, queue, tenant, attempts, max_retry, timeout_us, deadline,
--   lease_token, trace_parent, created_at, enqueued_at, payload), in no particular order: sort by lease_token.
UPDATE jobs
SET state = 'active',
    attempts = attempts + 1,
    started_at = max(@now, coalesce(enqueued_at, @now)),
    updated_at = max(@now, coalesce(enqueued_at, @now)),
    lease_token = pending_seq,
    lease_owner = @owner,
    lease_expires_at = @lease_expires_at,
    cancel_requested = 0
WHERE seq IN (
    SELECT seq FROM jobs INDEXED BY jobs_pending
    WHERE state = 'pending' AND queue = @queue
      AND NOT EXISTS (SELECT 1 FROM queues WHERE name = @queue AND paused = 1)
    ORDER BY pending_seq
    LIMIT @limit + 0)
RETURNING id, type, queue, tenant, attempts, max_retry, timeout_us, deadline, lease_token, trace_parent,
          created_at, enqueued_at, payload, batch_id;
