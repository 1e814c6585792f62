-- Conveyor PostgreSQL store, migration 0039: a job handed back to pending waits from the moment it went back.
--
-- A job released at shutdown or recovered after its lease expired goes back to pending at the head of its queue: it
-- keeps its enqueued_at, since the dequeues order the pending jobs by (enqueued_at, seq) (jobs_pending_idx,
-- jobs_pending_tenant_idx and the dequeue functions). Counted from that enqueued_at, its queue wait and its queue's
-- latency took in the time it had been leased, and a deploy read as a backlog. returned_at is when it last went back
-- (the store's time of the release or recovery), null for a job never handed back; the time a job could run from,
-- reported as its enqueued_at (LeasedJob.EnqueuedAt, the queue statistics' oldest pending), is
-- greatest(enqueued_at, returned_at). Whatever else makes a job pending writes enqueued_at as its own, later, time, which
-- then wins, so returned_at is never cleared. Nullable without a default: the column is added without a table rewrite.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0039_returned_at.sql

ALTER TABLE :"schema".jobs ADD COLUMN IF NOT EXISTS returned_at timestamptz;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (39, '0039_returned_at') ON CONFLICT (version) DO NOTHING;
