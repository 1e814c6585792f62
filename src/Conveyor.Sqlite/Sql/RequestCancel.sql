-- RequestCancel: records a cancellation request on an active job; the worker that holds it learns of it at
-- its next lease extension.
-- Parameters: @seq, @now. Result: 1 row changed if recorded.
UPDATE jobs
SET cancel_requested = 1, updated_at = @now
WHERE seq = @seq AND state = 'active';
