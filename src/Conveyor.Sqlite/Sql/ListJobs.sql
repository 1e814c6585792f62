-- ListJobs: a page of a tenant's jobs, newest first (created_at, then id, descending), read as a keyset on
-- the index jobs_tenant_created so that a deep page costs what the first one does.
-- Parameters: @tenant, @state, @type, @queue (null for any), @cursor_created_at and @cursor_id (the last job
--   of the previous page; long.MaxValue and '' for the first page), @limit (one more than the page size, to
--   know whether another page follows).
-- Result: up to @limit rows in the JobInfo column order (see JobRecord).
SELECT id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at, unique_key,
       retention_us, progress, trace_parent, created_at, updated_at, started_at, completed_at, cancel_requested,
       result_url, payload, result, errors, snooze_reason
FROM jobs
WHERE tenant = @tenant
  AND (created_at, id) < (@cursor_created_at, @cursor_id)
  AND (@state IS NULL OR state = @state)
  AND (@type IS NULL OR type = @type)
  AND (@queue IS NULL OR queue = @queue)
ORDER BY created_at DESC, id DESC
LIMIT @limit;
