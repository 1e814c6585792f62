-- PurgeJobs: deletes up to @limit finished jobs whose retention has passed (expires_at <= @now), oldest
-- first, through the partial index jobs_expires.
-- Parameters: @now, @limit. Result: the number of rows deleted.
DELETE FROM jobs
WHERE seq IN (SELECT seq FROM jobs INDEXED BY jobs_expires
              WHERE expires_at IS NOT NULL AND expires_at <= @now
              ORDER BY expires_at
              LIMIT @limit + 0);
