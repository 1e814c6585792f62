-- DeleteJob: deletes a job that is not active.
-- A flagged job deleted before it finished ends what waits for it and its batch (the jobs_flow_deleted trigger), at
-- old.updated_at: stamped with now first, so that those ends, and the retention counted from them, are the delete's.
-- Parameters: @seq, @now. Result: 1 row changed if deleted.
UPDATE jobs SET updated_at = @now
WHERE seq = @seq AND flow = 1 AND state NOT IN ('active', 'succeeded', 'partial', 'failed', 'cancelled');
DELETE FROM jobs WHERE seq = @seq AND state <> 'active';
