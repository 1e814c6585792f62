-- Conveyor PostgreSQL store, migration 0040: a schedule's revision.
--
-- Advanced at every write to a schedule (a replace, a tick recorded), so that a replace applies only to the revision
-- its caller read: a pause, a change or a tick written between a read and its replace is no longer overwritten with
-- what was read before it. A constant default: the column is added without a table rewrite.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0040_schedule_revision.sql

ALTER TABLE :"schema".schedules ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 0;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (40, '0040_schedule_revision') ON CONFLICT (version) DO NOTHING;
