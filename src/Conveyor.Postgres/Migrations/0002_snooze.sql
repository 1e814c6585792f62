-- Conveyor PostgreSQL store, migration 0002: why a job was last snoozed (handed back to wait until its
-- scheduled_at without counting an attempt), shown on the job. Null when it never was, cleared when a later
-- attempt ends. To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0002_snooze.sql

ALTER TABLE :"schema".jobs ADD COLUMN IF NOT EXISTS snooze_reason text;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (2, '0002_snooze') ON CONFLICT (version) DO NOTHING;
