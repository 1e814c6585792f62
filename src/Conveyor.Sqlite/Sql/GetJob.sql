-- GetJob: one job of one tenant (another tenant's job reads as missing).
-- Parameters: @tenant, @id.
-- Result: zero or one row in the JobInfo column order (see JobRecord):
--   id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at, unique_key, retention_us, progress, trace_parent, created_at, updated_at, started_at, completed_at, cancel_requested, result_url, payload, result, errors, snooze_reason, batch_id, depends_on
SELECT id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at, unique_key,
       retention_us, progress, trace_parent, created_at, updated_at, started_at, completed_at, cancel_requested,
       result_url, payload, result, errors, snooze_reason, batch_id, depends_on
FROM jobs
WHERE id = @id AND tenant = @tenant;
