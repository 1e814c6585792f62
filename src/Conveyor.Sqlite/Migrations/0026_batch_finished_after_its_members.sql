-- 0026_batch_finished_after_its_members: a batch finishes no earlier than its latest change (the end of any of its
-- members, an add, a cancel).
-- Every store call takes its time when it begins, then waits for the write lock: a call that began before, but wrote
-- after, another call's end of a member (two processes on one file) counted the batch's last member with its earlier
-- time, and batches_finished (0023) finished the batch, and released its callbacks, at that time: before the other
-- member's completed_at. The two triggers that count a member keep the batch's updated_at at the latest of the times
-- they are given, which batches_finished reads; jobs_flow_deleted and jobs_flow_finished have the bodies of 0020
-- otherwise, made in the same order (jobs_flow_finished last, so that it still fires before jobs_flow_resolved).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 25 and sets user_version = 26 in the same
-- transaction.

DROP TRIGGER IF EXISTS jobs_flow_deleted;
CREATE TRIGGER jobs_flow_deleted AFTER DELETE ON jobs
WHEN old.flow = 1 AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE batches SET cancelled = cancelled + 1, updated_at = max(updated_at, old.updated_at) WHERE id = old.batch_id AND old.batch_counted = 0;
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
        updated_at = max(updated_at, new.updated_at)
    WHERE id = new.batch_id AND new.batch_counted = 0;
END;
