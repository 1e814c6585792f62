-- AcquireLock: takes a named lock until @expires_at if it is free, expired (expires_at <= @now) or already
-- held by @owner (then its expiry moves).
-- Parameters: @name, @owner, @expires_at, @now. Result: one row (1) if taken, no row if another owner holds it.
INSERT INTO locks (name, owner, expires_at) VALUES (@name, @owner, @expires_at)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE locks.owner = excluded.owner OR locks.expires_at <= @now
RETURNING 1;
