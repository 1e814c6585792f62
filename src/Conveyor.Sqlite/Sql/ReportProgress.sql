-- ReportProgress: records a running job's progress if it is still active under the token.
-- Parameters: @id, @lease_token, @progress, @now. Result: 1 row changed if recorded, 0 otherwise.
UPDATE jobs
SET progress = @progress, updated_at = @now
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
