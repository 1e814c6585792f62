-- RequeueJob: runs a failed, cancelled, scheduled or retrying job again now: pending behind the waiting
-- jobs, attempts reset to 0, errors kept, no longer finished (so retention stops and it holds its unique key
-- again).
-- Parameters: @seq, @now, @pending_seq. Result: 1 row changed if requeued.
UPDATE jobs
SET state = 'pending',
    attempts = 0,
    progress = 0,
    enqueued_at = @now,
    pending_seq = @pending_seq,
    updated_at = @now,
    completed_at = NULL,
    expires_at = NULL,
    cancel_requested = 0
WHERE seq = @seq AND state IN ('failed', 'cancelled', 'scheduled', 'retrying');
