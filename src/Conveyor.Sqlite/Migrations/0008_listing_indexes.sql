-- 0008_listing_indexes: the dashboard's listings stay a keyset read at millions of jobs. A listing by state (the
-- failed jobs, the queued ones) reads jobs_state_created from the cursor instead of walking every job of the
-- tenant to find the few in that state; an operator's listing of every tenant reads jobs_created. Both are in
-- (created_at, id) order, the order of a page, so a page reads its rows and one more.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 7 and sets user_version = 8 in the
-- same transaction. On a file with many jobs it reads them once to build the indexes.
CREATE INDEX IF NOT EXISTS jobs_state_created ON jobs (state, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at, id);
