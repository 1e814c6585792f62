-- CancelJob: a scheduled, pending, retrying or waiting job becomes cancelled; retention starts.
-- Parameters: @seq, @now. Result: 1 row changed if cancelled.
UPDATE jobs
SET state = 'cancelled', updated_at = @now, completed_at = @now, expires_at = @now + COALESCE(cancelled_retention_us, retention_us)
WHERE seq = @seq AND state IN ('scheduled', 'pending', 'retrying', 'waiting');
