-- ReleaseIdempotencyKey: deletes a 'processing' record held by (@job_id, @lease_token), so that a retry can run.
-- Parameters: @key, @job_id, @lease_token. Result: rows affected (1 if released).
DELETE FROM idempotency_records
WHERE key = @key AND state = 'processing' AND job_id = @job_id AND lease_token = @lease_token;
