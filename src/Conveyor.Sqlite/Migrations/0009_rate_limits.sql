-- 0009_rate_limits: the rate limiters of TryAcquireRatePermitsAsync, one row per key with its theoretical arrival
-- time (unix µs); a row whose time has passed holds nothing, and the purge deletes it.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 8 and sets user_version = 9 in the
-- same transaction.
CREATE TABLE IF NOT EXISTS rate_limiters (
    key TEXT    PRIMARY KEY,
    tat INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_limiters_tat ON rate_limiters (tat);
