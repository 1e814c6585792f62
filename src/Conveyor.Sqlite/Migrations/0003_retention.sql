-- 0003_retention: how long a job is kept after it fails (or partly succeeds) and after it is cancelled, when that
-- differs from retention_us (kept after it succeeds); NULL means retention_us.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 2 and sets user_version = 3 in the
-- same transaction. SQLite has no ADD COLUMN IF NOT EXISTS: apply it by hand only to a version 2 file.
ALTER TABLE jobs ADD COLUMN failed_retention_us INTEGER;
ALTER TABLE jobs ADD COLUMN cancelled_retention_us INTEGER;
