-- RecordIdempotencyKey: records a key until @expires_at unless it is recorded and unexpired.
-- Parameters: @key, @expires_at, @now. Result: one row (1) if recorded now, no row if already recorded.
INSERT INTO idempotency_keys (key, expires_at) VALUES (@key, @expires_at)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
    WHERE idempotency_keys.expires_at <= @now
RETURNING 1;
