-- AckRelease: hands back a job its server did not finish or did not start (at shutdown; refused by a rate limit that
-- paces its queue; fetched ahead): pending at once, progress 0, and the attempt does not count, nor its start: a job left
-- with no attempt has no started_at (after one that counted, the start stays this lease's: no earlier one is kept).
-- Its place is its lease token (the pending_seq it was leased with) less 2^40: ahead of every job never handed back,
-- whose places are counter values (positive, or negated for a recovered job) far below 2^40, and among the jobs handed
-- back in the order they had, however many acknowledgements handed them back. A job handed back again goes ahead by
-- 2^40 more; the place is its next lease token, which therefore never repeats one of its own. When its handler ran
-- (@attempt_ran 1) its enqueued_at becomes @now: the job could run again only from now, and the queue wait and latency
-- (read from enqueued_at) must not count the time it ran as waiting; its place is pending_seq, not enqueued_at. A job
-- that never started keeps its enqueued_at: it was waiting all along. No error is recorded. A
-- job whose cancellation was requested is cancelled instead (retention starts), so that the request is not lost; its
-- attempt does not count either, nor its start, whatever the job ends as.
-- Parameters: @id, @lease_token, @now, @attempt_ran. Result: 1 row changed if applied, 0 if the lease was lost.
UPDATE jobs
SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
    attempts = max(attempts - 1, 0),
    started_at = CASE WHEN attempts > 1 THEN started_at END,
    progress = CASE WHEN cancel_requested THEN progress ELSE 0 END,
    pending_seq = CASE WHEN cancel_requested THEN pending_seq ELSE lease_token - 1099511627776 END,
    enqueued_at = CASE WHEN cancel_requested OR NOT @attempt_ran THEN enqueued_at ELSE @now END,
    completed_at = CASE WHEN cancel_requested THEN @now END,
    expires_at = CASE WHEN cancel_requested THEN @now + COALESCE(cancelled_retention_us, retention_us) END,
    updated_at = @now,
    cancel_requested = 0,
    snooze_reason = NULL
WHERE id = @id AND state = 'active' AND lease_token = @lease_token;
