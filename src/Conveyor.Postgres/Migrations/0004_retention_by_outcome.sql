-- Retention by outcome: how long a job is kept after it fails (or partly succeeds) and after it is cancelled,
-- next to retention (kept after it succeeds). NULL (rows from before this migration) means retention.
ALTER TABLE :"schema".jobs ADD COLUMN IF NOT EXISTS failed_retention interval;
ALTER TABLE :"schema".jobs ADD COLUMN IF NOT EXISTS cancelled_retention interval;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (4, '0004_retention_by_outcome') ON CONFLICT (version) DO NOTHING;
