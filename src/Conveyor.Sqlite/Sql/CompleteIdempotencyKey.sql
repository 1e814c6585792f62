-- CompleteIdempotencyKey: makes the key 'done' by (@job_id, @lease_token), finished @now, kept until @expires_at,
-- when that owner holds it (expired or not) or no one else does (no record, or an expired one).
-- Parameters: @key, @job_id, @lease_token, @expires_at, @now. Result: one row (1) if done, no row if another holds it.
INSERT INTO idempotency_records (key, state, job_id, lease_token, expires_at, finished_at)
VALUES (@key, 'done', @job_id, @lease_token, @expires_at, @now)
ON CONFLICT (key) DO UPDATE SET state = 'done', job_id = excluded.job_id, lease_token = excluded.lease_token,
    expires_at = excluded.expires_at, finished_at = excluded.finished_at
    WHERE (idempotency_records.job_id = excluded.job_id AND idempotency_records.lease_token = excluded.lease_token)
       OR idempotency_records.expires_at <= @now
RETURNING 1;
