-- 0027_schedule_revision: a schedule's revision, advanced at every write to it (a replace, a tick recorded), so that a
-- replace applies only to the revision it was read at (ReplaceSchedule.sql): a pause, a change or a tick written
-- between a read and its replace is no longer overwritten with what was read before it.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 26 and sets user_version = 27 in the same
-- transaction.
ALTER TABLE schedules ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
