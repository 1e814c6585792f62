-- AckRelease: hands a job back at shutdown: pending at once, at the head of its queue with its enqueued_at kept
-- (as a recovered job: @pending_seq is a negated counter value), progress 0, and the attempt does not count.
-- No error is recorded. A job whose cancellation was requested is cancelled instead (retention starts), so that
-- the request is not lost.
-- Parameters: @id, @lease_token, @pending_seq, @now. Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
    attempts = CASE WHEN cancel_requested THEN attempts ELSE max(attempts - 1, 0) END,
    progress = CASE WHEN cancel_requested THEN progress ELSE 0 END,
    pending_seq = CASE WHEN cancel_requested THEN pending_seq ELSE @pending_seq END,
    completed_at = CASE WHEN cancel_requested THEN @now END,
    expires_at = CASE WHEN cancel_requested THEN @now + COALESCE(cancelled_retention_us, retention_us) END,
    updated_at = @now,
    cancel_requested = 0,
    snooze_reason = NULL
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
