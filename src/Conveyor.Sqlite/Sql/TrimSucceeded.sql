-- TrimSucceeded: deletes up to @limit of the queue's oldest succeeded jobs beyond its newest @keep (by completed_at,
-- then seq). Through the partial index jobs_queue_succeeded it walks @keep entries to find the newest job that goes,
-- then the @limit oldest: the cost does not grow with the number of jobs beyond the cap.
-- Parameters: @queue, @keep, @limit. Result: the number of rows deleted.
DELETE FROM jobs
WHERE seq IN (
    SELECT j.seq FROM jobs AS j INDEXED BY jobs_queue_succeeded
    WHERE j.queue = @queue AND j.state = 'succeeded'
      AND (j.completed_at, j.seq) <= (SELECT b.completed_at, b.seq FROM jobs AS b INDEXED BY jobs_queue_succeeded
                                      WHERE b.queue = @queue AND b.state = 'succeeded'
                                      ORDER BY b.completed_at DESC, b.seq DESC
                                      LIMIT 1 OFFSET @keep + 0)
    ORDER BY j.completed_at, j.seq
    LIMIT @limit + 0);
