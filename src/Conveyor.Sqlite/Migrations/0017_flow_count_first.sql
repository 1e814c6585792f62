-- 0017_flow_count_first: the finishing step counts a batch member in its batch before it resolves what waits for the
-- member, as the other stores do (in-memory, PostgreSQL's flow_finished(), Redis's flow_finished). 0016 split the step
-- into two AFTER triggers on the same event, and SQLite fires such triggers newest first (not documented, but how it
-- has always kept them), so jobs_flow_resolved, created after jobs_flow_finished, ran first. The order is visible to
-- one job only: one that waits both for a batch and for that batch's last member. When the member does not succeed,
-- whichever resolves that job first decides its end (cancelled or failed, by that link's policy, with the error naming
-- that dependency); the second finds it no longer waiting. Counting first resolves it by the batch, as every other
-- store does. Nothing else depends on the order: the count touches the batch row and the batch's callbacks, the
-- resolution the member's own dependants; counts are additions, and a batch finishes once, in the same statement,
-- either way. Both triggers are made again with the same bodies, the resolution first, so that the count, created
-- last, fires first; a NEW row is the one the statement wrote whatever an earlier trigger changed, so the count's
-- flow = 0 does not stop the resolution. Nothing else changes.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 16 and sets user_version = 17 in the same
-- transaction.

-- Created first, so that it fires second (after jobs_flow_finished, below). A job with flow = 1 finishes and something
-- waits for it: what waits for it is resolved (success-only dependants of a job that did not succeed are cancelled, or
-- failed when their link says fail_if_unmet, the others count one dependency less). A separate trigger so that a
-- batch member nothing waits for pays one probe of job_dependencies here, not four statements.
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

-- Created last, so that it fires first. A job with flow = 1 finishes: counted once in its batch (the batch's last
-- member finishes the batch through batches_finished).
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
