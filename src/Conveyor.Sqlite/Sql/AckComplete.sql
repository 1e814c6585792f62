-- AckComplete: ends an attempt with success ('succeeded' or 'partial') if the job is still active under the
-- lease token. Progress becomes 100, the result is stored, retention starts; the unique key is released
-- because only unfinished jobs hold one.
-- Parameters: @id, @lease_token, @state, @result, @result_url, @errors (JSON lines to append, '' for none),
--   @now. Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = @state,
    progress = 100,
    result = @result,
    result_url = @result_url,
    errors = errors || @errors,
    updated_at = @now,
    completed_at = @now,
    expires_at = @now + CASE @state WHEN 'succeeded' THEN retention_us ELSE COALESCE(failed_retention_us, retention_us) END,
    cancel_requested = 0,
    snooze_reason = NULL
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
