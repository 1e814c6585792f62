-- ExtendIdempotencyKey: moves a 'processing' record's expiry while its owner still holds it (compare-and-set).
-- Parameters: @key, @job_id, @lease_token, @expires_at. Result: rows affected (1 if extended).
UPDATE idempotency_records SET expires_at = @expires_at
WHERE key = @key AND state = 'processing' AND job_id = @job_id AND lease_token = @lease_token;
