-- ListJobs: the columns of a listing page, newest first (created_at, then id, descending). The store appends the
-- index, the WHERE clause of the filters in use, ORDER BY created_at DESC, id DESC and LIMIT (ListingSql in
-- SqliteJobStore.Query.cs), so that each combination of filters is its own prepared statement read as a keyset on
-- one index: a deep page costs what the first one does.
-- Parameters (those the filters use): @tenant, @state, @type, @queue, @error (conveyor_last_error_contains),
--   @created_after, @created_before, @cursor_created_at and @cursor_id (the last job of the previous page;
--   long.MaxValue and '' for the first page), @limit (one more than the page size, to know whether another page
--   follows).
-- Result: up to @limit rows in the JobInfo column order (see JobRecord).
SELECT id, type, queue, tenant, state, attempts, max_retry, timeout_us, deadline, scheduled_at, unique_key,
       retention_us, progress, trace_parent, created_at, updated_at, started_at, completed_at, cancel_requested,
       result_url, payload, result, errors, snooze_reason, batch_id, depends_on
FROM jobs
