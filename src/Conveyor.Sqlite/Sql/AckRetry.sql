-- AckRetry: ends a failed attempt that has retries left: retrying until @retry_at, errors appended. A job
-- whose cancellation was requested while it ran is cancelled instead (retention starts): the operator asked
-- for it never to run again, whatever the handler reported.
-- Parameters: @id, @lease_token, @retry_at, @errors (JSON lines), @now.
-- Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'retrying' END,
    scheduled_at = CASE WHEN cancel_requested THEN scheduled_at ELSE @retry_at END,
    completed_at = CASE WHEN cancel_requested THEN @now END,
    expires_at = CASE WHEN cancel_requested THEN @now + COALESCE(cancelled_retention_us, retention_us) END,
    errors = errors || @errors,
    updated_at = @now,
    cancel_requested = 0,
    snooze_reason = NULL
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
