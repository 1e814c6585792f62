-- GetSchedule: one schedule of a tenant.
-- Parameters: @tenant, @name. Result: zero or one row, columns in the order SqliteJobStore.ReadSchedule reads.
SELECT tenant, name, cron, time_zone, job_type, queue, max_retry, timeout_us, misfire, overlap, paused, origin,
       next_fire_at, last_fire_at, last_job_id, created_at, updated_at, payload, revision
FROM schedules
WHERE tenant = @tenant AND name = @name;
