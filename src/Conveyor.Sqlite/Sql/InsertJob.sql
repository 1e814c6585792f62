-- InsertJob: stores one new job unless its id exists.
-- Parameters: @id, @type, @queue, @tenant, @state ('pending' or 'scheduled'), @payload, @max_retry,
--   @timeout_us, @deadline, @scheduled_at, @unique_key, @unique_until, @retention_us, @failed_retention_us, @cancelled_retention_us,
--   @trace_parent, @now,
--   @enqueued_at and @pending_seq (null for a scheduled job).
-- Result: 1 row changed when stored, 0 when a job with that id exists (nothing is written then).
INSERT INTO jobs (id, type, queue, tenant, state, max_retry, timeout_us, deadline, scheduled_at, unique_key,
                  unique_until, retention_us, failed_retention_us, cancelled_retention_us, trace_parent, created_at, updated_at, enqueued_at, pending_seq, payload)
VALUES (@id, @type, @queue, @tenant, @state, @max_retry, @timeout_us, @deadline, @scheduled_at, @unique_key,
        @unique_until, @retention_us, @failed_retention_us, @cancelled_retention_us, @trace_parent, @now, @now, @enqueued_at, @pending_seq, @payload)
ON CONFLICT (id) DO NOTHING;
