-- AckSucceededMembers: AckSucceededMany for batch members whose end nothing but their batch waits for (the bulk of a
-- batch's ends): each still active under its lease token, flagged (flow = 1), not counted in its batch yet
-- (batch_counted = 0) and with no job linked after it. Their flag is cleared in the same write, so the workflow
-- triggers (jobs_flow_finished, jobs_flow_resolved) do not fire for them; the store counts them in their batches with
-- CountBatchSuccesses.sql, once per batch, in the same transaction. A member that does not qualify is left active and
-- ends through AckSucceededMany or AckComplete and the triggers, as any flagged job. ReadSuccessRun.sql tells these
-- members apart by the same conditions (kept alike), so that the store ends a run's jobs in the order one
-- AckSucceededMany over the run would.
-- Parameters: @acks (a JSON array of [job id, lease token] pairs), @now.
-- Result: one row (id, batch_id) per member ended.
UPDATE jobs
SET state = 'succeeded',
    progress = 100,
    result = NULL,
    result_url = NULL,
    updated_at = @now,
    completed_at = @now,
    expires_at = @now + retention_us,
    cancel_requested = 0,
    snooze_reason = NULL,
    flow = 0
FROM (SELECT value ->> 0 AS id, value ->> 1 AS lease_token FROM json_each(@acks)) AS ack
WHERE jobs.id = ack.id AND +jobs.state = 'active' AND jobs.lease_token = ack.lease_token
  AND jobs.flow = 1 AND jobs.batch_id IS NOT NULL AND jobs.batch_counted = 0
  AND NOT EXISTS (SELECT 1 FROM job_dependencies l WHERE l.dependency = jobs.id AND l.on_batch = 0)
RETURNING jobs.id, jobs.batch_id;
