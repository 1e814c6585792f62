-- BeginIdempotencyKey: makes the key 'processing', owned by (@job_id, @lease_token) until @expires_at, when there
-- is no record, the record expired (expires_at <= @now), or it is 'processing' under a lease of the same job (the
-- store leases a job again only after its earlier lease ended).
-- Parameters: @key, @job_id, @lease_token, @expires_at, @now. Result: one row (1) if started, no row otherwise
-- (then FindIdempotencyKey, in the same transaction, says who holds it).
INSERT INTO idempotency_records (key, state, job_id, lease_token, expires_at, finished_at)
VALUES (@key, 'processing', @job_id, @lease_token, @expires_at, NULL)
ON CONFLICT (key) DO UPDATE SET state = 'processing', job_id = excluded.job_id, lease_token = excluded.lease_token,
    expires_at = excluded.expires_at, finished_at = NULL
    WHERE idempotency_records.expires_at <= @now
       OR (idempotency_records.state = 'processing' AND idempotency_records.job_id = excluded.job_id)
RETURNING 1;
