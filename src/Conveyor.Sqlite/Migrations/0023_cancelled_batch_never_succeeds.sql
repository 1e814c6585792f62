-- 0023_cancelled_batch_never_succeeds: a batch cancelled as a whole (IWorkflowStore.CancelBatchAsync) resolves its
-- success callbacks as not met when it finishes, even if every member still succeeded (a running member that finished
-- its work before it saw the cancel). The cancel is the caller's word that the batch's outcome is not wanted; its
-- complete callbacks still run once every member has finished. Only the two conditions of batches_finished change
-- (`new.succeeded < new.total` becomes `(new.succeeded < new.total OR new.state = 'cancelled')`); the body is 0019's.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 22 and sets user_version = 23 in the same
-- transaction.
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
    SET state = CASE WHEN state <> 'waiting' THEN state ELSE 'cancelled' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE new.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE new.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at ELSE new.updated_at + COALESCE(cancelled_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors ELSE errors || json_object('attempt', attempts,
                'message', 'Cancelled without running: ''' || new.id || ''', which it waited for, did not succeed.',
                'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10) END
    WHERE (new.succeeded < new.total OR new.state = 'cancelled') AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = CASE WHEN state <> 'waiting' THEN state ELSE 'failed' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE new.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE new.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at ELSE new.updated_at + COALESCE(failed_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors ELSE errors || json_object('attempt', attempts,
                'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
                'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10) END
    WHERE (new.succeeded < new.total OR new.state = 'cancelled') AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 1;
END;
