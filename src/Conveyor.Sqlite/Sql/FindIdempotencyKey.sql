-- FindIdempotencyKey: the holder of a key. Parameters: @key.
-- Result: at most one row (state, job_id, expires_at, finished_at).
SELECT state, job_id, expires_at, finished_at FROM idempotency_records WHERE key = @key;
