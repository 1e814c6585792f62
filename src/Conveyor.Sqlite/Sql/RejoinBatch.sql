-- RejoinBatch: a failed or cancelled batch member about to run again by hand, before RequeueJob. While its batch runs
-- (unfinished, and not cancelled as a whole), the job is flagged again (flow = 1) so that jobs_flow_finished counts its next end as any member's, and
-- its end leaves the batch's counts; a finished batch keeps the ends it was decided by (nothing changes). A finished
-- job's flag was cleared when it was counted, so a finished job with the flag is the one the first statement flagged.
-- The decrement cannot finish the batch: batches_finished fires only when the counts reach the total. The last
-- statement marks whether the member's end stays counted (batch_counted, migration 0020): a member that did not rejoin
-- keeps it counted, so that a continuation added later, which flags it again, does not count its next end twice.
-- Parameters: @seq, @now. Result: none.
UPDATE jobs SET flow = 1
WHERE seq = @seq AND state IN ('failed', 'cancelled') AND flow = 0
  AND batch_id IN (SELECT id FROM batches WHERE finished_at IS NULL AND state = 'running');
UPDATE batches
SET failed = failed - (SELECT state = 'failed' FROM jobs WHERE seq = @seq),
    cancelled = cancelled - (SELECT state = 'cancelled' FROM jobs WHERE seq = @seq),
    updated_at = @now
WHERE id = (SELECT batch_id FROM jobs WHERE seq = @seq AND state IN ('failed', 'cancelled') AND flow = 1);
UPDATE jobs SET batch_counted = (flow = 0)
WHERE seq = @seq AND state IN ('failed', 'cancelled') AND batch_id IS NOT NULL;
