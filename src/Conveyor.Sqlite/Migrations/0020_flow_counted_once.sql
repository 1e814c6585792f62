-- 0020_flow_counted_once: a batch member's end is counted in its batch once, also when a continuation added after the
-- member was run again by hand flags it again.
-- The flow flag meant two things: something waits for the job, or its end is still to be counted in its batch. A
-- failed or cancelled member run again by hand rejoins its batch only while the batch runs (Sql/RejoinBatch.sql);
-- otherwise its end stays counted and it is not flagged. A continuation linked to it then flagged it for its
-- dependant, and jobs_flow_finished counted its next end in the batch a second time: past the total of a finished
-- batch, or, in a batch cancelled as a whole while another member still ran, reaching the total early, finishing the
-- batch and releasing its callbacks before that member ended. The new column batch_counted says that the job's end is
-- counted already: RejoinBatch.sql sets it for a member that does not rejoin and clears it for one that does, and the
-- two triggers that count a member (jobs_flow_finished, with the body of 0018, and jobs_flow_deleted, with the body
-- of 0019) count only members without it. A member that is unfinished and not flagged was counted and run again
-- without rejoining: the rows already in that state are marked; one that a continuation flagged since cannot be told
-- from a member not counted yet, and keeps 0. jobs_flow_finished is made last, so that it still fires before
-- jobs_flow_resolved (0017).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 19 and sets user_version = 20 in the same
-- transaction.

ALTER TABLE jobs ADD COLUMN batch_counted INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET batch_counted = 1
WHERE batch_id IS NOT NULL AND flow = 0 AND state NOT IN ('succeeded', 'partial', 'failed', 'cancelled');

DROP TRIGGER IF EXISTS jobs_flow_deleted;
CREATE TRIGGER jobs_flow_deleted AFTER DELETE ON jobs
WHEN old.flow = 1 AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE batches SET cancelled = cancelled + 1, updated_at = old.updated_at WHERE id = old.batch_id AND old.batch_counted = 0;
    UPDATE jobs
    SET state = CASE WHEN state <> 'waiting' THEN state ELSE 'cancelled' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE old.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE old.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at ELSE old.updated_at + COALESCE(cancelled_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors ELSE errors || json_object('attempt', attempts,
                'message', 'Cancelled without running: ''' || old.id || ''', which it waited for, did not succeed.',
                'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10) END
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = CASE WHEN state <> 'waiting' THEN state ELSE 'failed' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE old.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE old.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at ELSE old.updated_at + COALESCE(failed_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors ELSE errors || json_object('attempt', attempts,
                'message', 'Failed without running: ''' || old.id || ''', which it waited for, did not succeed.',
                'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10) END
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = old.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0);
    DELETE FROM job_dependencies WHERE dependency = old.id AND on_batch = 0;
END;

DROP TRIGGER IF EXISTS jobs_flow_finished;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE OF state ON jobs
WHEN new.flow = 1
     AND new.state IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE jobs SET flow = 0 WHERE seq = new.seq;
    UPDATE batches
    SET succeeded = succeeded + (new.state IN ('succeeded', 'partial')),
        failed = failed + (new.state = 'failed'),
        cancelled = cancelled + (new.state = 'cancelled'),
        updated_at = new.updated_at
    WHERE id = new.batch_id AND new.batch_counted = 0;
END;
