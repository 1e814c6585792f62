-- DeleteJob: deletes a job that is not active.
-- Parameters: @seq. Result: 1 row changed if deleted.
DELETE FROM jobs WHERE seq = @seq AND state <> 'active';
