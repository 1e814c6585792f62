-- RequeueJob: runs a failed, cancelled, scheduled or retrying job again now: pending behind the waiting
-- jobs, due now, errors kept, no longer finished (so retention stops and it holds its unique key again).
-- Attempts keep counting, so the next attempt's error has its own number; the earlier attempts' start,
-- completion and progress are cleared so that nothing stale looks current.
-- Parameters: @seq, @now, @pending_seq. Result: 1 row changed if requeued.
UPDATE jobs
SET state = 'pending',
    progress = 0,
    scheduled_at = @now,
    enqueued_at = @now,
    pending_seq = @pending_seq,
    updated_at = @now,
    started_at = NULL,
    completed_at = NULL,
    expires_at = NULL,
    cancel_requested = 0
WHERE seq = @seq AND state IN ('failed', 'cancelled', 'scheduled', 'retrying');
