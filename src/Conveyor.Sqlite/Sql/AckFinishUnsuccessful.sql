-- AckFinishUnsuccessful: ends an attempt for good without success ('failed' or 'cancelled'): errors appended,
-- retention starts, the unique key is released.
-- Parameters: @id, @lease_token, @state, @errors (JSON lines), @now.
-- Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = @state,
    errors = errors || @errors,
    updated_at = @now,
    completed_at = @now,
    expires_at = @now + CASE @state WHEN 'cancelled' THEN COALESCE(cancelled_retention_us, retention_us) ELSE COALESCE(failed_retention_us, retention_us) END,
    cancel_requested = 0,
    snooze_reason = NULL
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
