-- 0019_flow_end_once: the triggers that end the dependants of a deleted job (jobs_flow_deleted) and the callbacks of a
-- finished batch (batches_finished) leave alone a job that the same statement ended already. SQLite picks an UPDATE's
-- rows before any trigger fires and does not test them again, and ending one row runs its triggers, whose cascade
-- (0018) can end a later row of the same UPDATE: a batch's two callbacks, the second also waiting for the first, were
-- both picked; the first's end cancelled the second, and the batch's UPDATE then ended the second again, with a second
-- error line (`WorkflowTests.Cascade_FromABatchToTwoChainedCallbacks_EndsEachOnce`). Each column the ending sets now
-- keeps its value when the row is no longer waiting, as 0018's cascade does. The bodies are otherwise those of 0016.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 18 and sets user_version = 19 in the same
-- transaction.

DROP TRIGGER IF EXISTS jobs_flow_deleted;
CREATE TRIGGER jobs_flow_deleted AFTER DELETE ON jobs
WHEN old.flow = 1 AND old.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
BEGIN
    UPDATE batches SET cancelled = cancelled + 1, updated_at = old.updated_at WHERE id = old.batch_id;
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
    WHERE new.succeeded < new.total AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 0);
    UPDATE jobs
    SET state = CASE WHEN state <> 'waiting' THEN state ELSE 'failed' END,
        completed_at = CASE WHEN state <> 'waiting' THEN completed_at ELSE new.updated_at END,
        updated_at = CASE WHEN state <> 'waiting' THEN updated_at ELSE new.updated_at END,
        expires_at = CASE WHEN state <> 'waiting' THEN expires_at ELSE new.updated_at + COALESCE(failed_retention_us, retention_us) END,
        errors = CASE WHEN state <> 'waiting' THEN errors ELSE errors || json_object('attempt', attempts,
                'message', 'Failed without running: ''' || new.id || ''', which it waited for, did not succeed.',
                'exceptionType', NULL, 'item', NULL, 'occurredAt', new.updated_at) || char(10) END
    WHERE new.succeeded < new.total AND +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1 AND success_only = 1 AND fail_if_unmet = 1);
    UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = new.updated_at
    WHERE +state = 'waiting'
      AND seq IN (SELECT dependant_seq FROM job_dependencies WHERE dependency = new.id AND on_batch = 1);
    DELETE FROM job_dependencies WHERE dependency = new.id AND on_batch = 1;
END;
