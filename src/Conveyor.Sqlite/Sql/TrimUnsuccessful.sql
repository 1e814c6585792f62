-- TrimUnsuccessful: as TrimSucceeded, for the queue's failed, partially successful and cancelled jobs counted
-- together, through the partial index jobs_queue_unsuccessful.
-- Parameters: @queue, @keep, @limit. Result: the number of rows deleted.
DELETE FROM jobs
WHERE seq IN (
    SELECT j.seq FROM jobs AS j INDEXED BY jobs_queue_unsuccessful
    WHERE j.queue = @queue AND j.state IN ('partial', 'failed', 'cancelled')
      AND (j.completed_at, j.seq) <= (SELECT b.completed_at, b.seq FROM jobs AS b INDEXED BY jobs_queue_unsuccessful
                                      WHERE b.queue = @queue AND b.state IN ('partial', 'failed', 'cancelled')
                                      ORDER BY b.completed_at DESC, b.seq DESC
                                      LIMIT 1 OFFSET @keep + 0)
    ORDER BY j.completed_at, j.seq
    LIMIT @limit + 0);
