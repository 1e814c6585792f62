-- 0014_dependency_failure: a waiting job may ask to be failed, rather than cancelled, when a success-only dependency
-- does not succeed (ContinuationCondition.SucceededElseFail, JobDependency.FailIfUnmet): job_dependencies gains
-- fail_if_unmet, and the three triggers of 0011 that resolve links are made again with a second UPDATE that fails
-- those dependants (state 'failed', the failed retention, an error naming the dependency). A failed dependant's own
-- dependants follow through the same triggers, as a cancelled one's do.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 13 and sets user_version = 14 in the same
-- transaction.

ALTER TABLE job_dependencies ADD COLUMN fail_if_unmet INTEGER NOT NULL DEFAULT 0;

-- A job with flow = 1 finishes: counted once in its batch, then what waits for it is resolved (success-only
-- dependants of a job that did not succeed are cancelled, or failed when their link says fail_if_unmet, the others
-- count one dependency less).
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
    UPDATE jobs
    SET state = 'cancelled', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(cancelled_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.state NOT IN ('succeeded', 'partial') AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.state NOT IN ('succeeded', 'partial') AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE state = 'waiting'
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
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = old.updated_at, updated_at = old.updated_at,
        expires_at = old.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || old.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', old.updated_at) || char(10)
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = old.id AND on_batch = 0 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = old.updated_at
    WHERE state = 'waiting'
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
    WHERE new.succeeded < new.total AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = 'failed', completed_at = new.updated_at, updated_at = new.updated_at,
        expires_at = new.updated_at + COALESCE(failed_retention_us, retention_us),
        errors = errors || json_object('attempt', attempts,
            'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
            'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10)
    WHERE new.succeeded < new.total AND state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 1;
END;
