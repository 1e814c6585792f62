-- The count cap (Conveyor:Retention:MaxSucceededPerQueue / MaxFailedPerQueue): each queue's finished jobs by
-- completion time, so that trimming a queue to its newest jobs walks the kept jobs and the batch it deletes, never
-- the queue's whole history. Succeeded jobs and the others (failed, partial, cancelled) are capped apart, so each
-- class has its own partial index; seq breaks ties. Built in the migration's transaction: on a table with millions
-- of finished jobs that blocks writes to it for the seconds the build takes (CREATE INDEX CONCURRENTLY cannot run
-- in a transaction; a DBA who applies migrations by hand may create these two indexes concurrently first).
CREATE INDEX IF NOT EXISTS jobs_queue_succeeded_idx ON :"schema".jobs (queue, completed_at, seq)
    WHERE state = 'succeeded';
CREATE INDEX IF NOT EXISTS jobs_queue_unsuccessful_idx ON :"schema".jobs (queue, completed_at, seq)
    WHERE state IN ('partial', 'failed', 'cancelled');

INSERT INTO :"schema".schema_migrations (version, name) VALUES (6, '0006_finished_by_queue') ON CONFLICT (version) DO NOTHING;
