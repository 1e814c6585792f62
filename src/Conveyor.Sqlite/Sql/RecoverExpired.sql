-- RecoverExpired: takes up to @limit active jobs whose lease expired before @now, oldest expiry first.
-- Each gets an error for the attempt that was lost and then:
--   cancelled  if its cancellation was requested (the operator asked for it never to run again);
--   failed     if its attempts are spent (attempts > max_retry) or its deadline has come (deadline <= @now);
--   pending    otherwise, with progress 0, at the head of its queue: it was there when it was leased, so it runs
--              next rather than after the backlog that arrived meanwhile. Its pending_seq is a fresh counter
--              value negated (-(@seq_base + rank)), below every pending_seq in use and still unique, as the lease
--              token it becomes must be. Jobs recovered together keep the order the queue gave them out in
--              (their lease tokens): the first leased gets the lowest. Its enqueued_at becomes @now: it could run
--              again only from now, and the queue wait and latency (read from enqueued_at) must not count the time
--              its dead attempt held the lease; its place is pending_seq, not enqueued_at. A failed or cancelled
--              job keeps its enqueued_at.
-- Finished jobs start their retention.
-- Parameters: @now, @limit, @seq_base, @message.
-- Result: one row per job (id, type, queue, tenant, state, pending_seq); the caller advances the counter to
--   the largest -pending_seq returned.
UPDATE jobs
SET state = CASE WHEN cancel_requested THEN 'cancelled'
                 WHEN attempts > max_retry OR (deadline IS NOT NULL AND deadline <= @now) THEN 'failed'
                 ELSE 'pending' END,
    pending_seq = -(@seq_base + expired.rank),
    enqueued_at = CASE WHEN cancel_requested OR attempts > max_retry OR (deadline IS NOT NULL AND deadline <= @now)
                       THEN enqueued_at ELSE @now END,
    progress = CASE WHEN cancel_requested OR attempts > max_retry OR (deadline IS NOT NULL AND deadline <= @now)
                    THEN progress ELSE 0 END,
    completed_at = CASE WHEN cancel_requested OR attempts > max_retry OR (deadline IS NOT NULL AND deadline <= @now)
                        THEN @now END,
    expires_at = CASE WHEN cancel_requested OR attempts > max_retry OR (deadline IS NOT NULL AND deadline <= @now)
                      THEN @now + CASE WHEN cancel_requested THEN COALESCE(cancelled_retention_us, retention_us) ELSE COALESCE(failed_retention_us, retention_us) END END,
    errors = errors || json_object('attempt', attempts, 'message', @message, 'exceptionType', NULL,
                                   'item', NULL, 'occurredAt', @now) || char(10),
    updated_at = @now,
    cancel_requested = 0
FROM (SELECT seq, row_number() OVER (ORDER BY lease_token DESC) AS rank
      FROM (SELECT seq, lease_token FROM jobs INDEXED BY jobs_lease
            WHERE state = 'active' AND lease_expires_at < @now
            ORDER BY lease_expires_at, seq
            LIMIT @limit + 0)) AS expired
WHERE jobs.seq = expired.seq
RETURNING id, type, queue, tenant, state, pending_seq;
