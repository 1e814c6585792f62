-- 0006_finished_by_queue: each queue's finished jobs by completion time, for the count cap
-- (Conveyor:Retention:MaxSucceededPerQueue / MaxFailedPerQueue): trimming a queue to its newest jobs walks only the
-- kept jobs and the batch it deletes, never the queue's whole history. Succeeded jobs and the others (failed,
-- partial, cancelled) are capped apart, so each class has its own partial index; rowid (seq) breaks ties.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 5 and sets user_version = 6 in the
-- same transaction. On a file with many finished jobs it reads them once to build the indexes.
CREATE INDEX IF NOT EXISTS jobs_queue_succeeded ON jobs (queue, completed_at) WHERE state = 'succeeded';
CREATE INDEX IF NOT EXISTS jobs_queue_unsuccessful ON jobs (queue, completed_at) WHERE state IN ('partial', 'failed', 'cancelled');
