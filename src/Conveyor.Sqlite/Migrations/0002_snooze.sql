-- 0002_snooze: why a job was last snoozed (handed back to wait without counting an attempt), shown on the job.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 1 and sets user_version = 2 in the
-- same transaction. SQLite has no ADD COLUMN IF NOT EXISTS: apply it by hand only to a version 1 file.
ALTER TABLE jobs ADD COLUMN snooze_reason TEXT;
