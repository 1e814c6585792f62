-- HasPendingJobs: whether any job waits, in any queue (an index probe on jobs_pending). Used after another
-- process changed the file, to decide whether an idle worker should wake.
-- Parameters: none. Result: one row (0 or 1).
SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_pending WHERE state = 'pending');
