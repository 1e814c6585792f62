-- The dashboard's listings stay a keyset read at millions of jobs: a listing by state (the failed jobs, the queued
-- ones) reads jobs_state_created_idx from the cursor instead of walking every job of the tenant to find the few in
-- that state, and an operator's listing of every tenant reads jobs_created_idx. Both are in page order (created_at,
-- then id, descending), so a page reads its rows and one more, with no sort. Built in the migration's transaction: on
-- a table with millions of jobs that blocks writes to it for the seconds the build takes (CREATE INDEX CONCURRENTLY
-- cannot run in a transaction; a DBA who applies migrations by hand may create these two indexes concurrently first).
CREATE INDEX IF NOT EXISTS jobs_state_created_idx ON :"schema".jobs (state, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_created_idx ON :"schema".jobs (created_at DESC, id DESC);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (10, '0010_listing_indexes') ON CONFLICT (version) DO NOTHING;
