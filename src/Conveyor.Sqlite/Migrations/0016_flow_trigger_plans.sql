-- 0016_flow_trigger_plans: the three triggers of 0014 that resolve what waits for a finished job or batch, made again
-- with `+state = 'waiting'` where they had `state = 'waiting'`, and jobs_flow_finished split in two (the batch count,
-- and the resolution of dependants only when there are some). Without statistics SQLite chose the index on (state,
-- created_at, id) for those UPDATEs and read every waiting job in the file for each finished job that had dependants
-- or a batch (a 1,000-step workflow read its 999 waiting steps for each of its steps); the unary + keeps the term out of
-- index selection, so each UPDATE looks up the dependants by rowid from job_dependencies' primary key, whatever the
-- number of waiting jobs. Both halves of the split run in the statement that finished the job, as the one trigger did;
-- neither reads what the other writes (a batch's count and its callbacks, a job's own dependants), so their order does
-- not matter. Nothing else changes.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 15 and sets user_version = 16 in the same
-- transaction.

-- A job with flow = 1 finishes: counted once in its batch (the batch's last member finishes the batch through
-- batches_finished).
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
    WHERE id = new.batch_id;
END;

-- A job with flow = 1 finishes and something waits for it: what waits for it is resolved (success-only dependants of
-- a job that did not succeed are cancelled, or failed when their link says fail_if_unmet, the others count one
-- dependency less). A separate trigger so that a batch member nothing waits for pays one probe of job_dependencies
-- here, not four statements.
DROP TRIGGER IF EXISTS jobs_flow_resolved;
CREATE TRIGGER jobs_flow_resolved AFTER UPDATE OF state ON jobs
WHEN new.flow = 1
     AND new.state IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
     AND EXISTS (SELECT 1 FROM job_dependencies WHERE dependency = new.id AND on_batch = 0)
BEGIN
    UPDATE jobs
    SET state = 'cancelled', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.state NOT IN ('succeeded', 'partial') AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.state NOT IN ('succeeded', 'partial') AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 0;
END;

-- A deleted job that had not finished resolves what waits for it as if it had been cancelled.
DROP TRIGGER IF EXISTS jobs_flow_deleted;
CREATE TRIGGER jobs_flow_deleted AFTER DELETE ON jobs
WHEN old.flow = 1 AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE batches SET cancelled = cancelled + 1, updated_at = old.updated_at WHERE id = old.batch_id;
    UPDATE jobs
    SET state = 'cancelled', completed_at = old.updated_at, updated_at = old.updated_at,
        expires_at = old.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || old.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10)
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = old.updated_at, updated_at = old.updated_at,
        expires_at = old.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || old.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10)
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = old.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0);
    DELETE FROM job_dependencies WHERE dependency = old.id AND on_batch = 0;
END;

-- A batch's last member finished: the batch finishes and its callbacks are resolved.
DROP TRIGGER IF EXISTS batches_finished;
CREATE TRIGGER batches_finished AFTER UPDATE OF succeeded, failed, cancelled ON batches
WHEN new.finished_at IS NULL AND new.succeeded + new.failed + new.cancelled >= new.total
BEGIN
    UPDATE batches
    SET finished_at = new.updated_at,
        expires_at = new.updated_at + new.retention_us,
        state = CASE WHEN new.state <> 'running' THEN new.state
                     WHEN new.succeeded = new.total THEN 'succeeded' ELSE 'completed' END
    WHERE id = new.id;
    UPDATE jobs
    SET state = 'cancelled', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.succeeded < new.total AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.succeeded < new.total AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 1;
END;
