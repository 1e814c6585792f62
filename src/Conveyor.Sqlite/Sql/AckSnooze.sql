-- AckSnooze: hands a job back to wait until @snooze_until: scheduled, the attempt does not count (nor its start, as
-- AckRelease.sql says), no error is recorded, and @reason is kept on the job for operators. A job whose cancellation
-- was requested is cancelled instead (retention starts), so that the request is not lost, its attempt uncounted as well.
-- Parameters: @id, @lease_token, @snooze_until, @reason, @now.
-- Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'scheduled' END,
    attempts = max(attempts - 1, 0),
    started_at = CASE WHEN attempts > 1 THEN started_at END,
    scheduled_at = CASE WHEN cancel_requested THEN scheduled_at ELSE @snooze_until END,
    snooze_reason = CASE WHEN cancel_requested THEN NULL ELSE @reason END,
    completed_at = CASE WHEN cancel_requested THEN @now END,
    expires_at = CASE WHEN cancel_requested THEN @now + COALESCE(cancelled_retention_us, retention_us) END,
    updated_at = @now,
    cancel_requested = 0
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
