-- ListSchedules: a tenant's schedules (every tenant's when @tenant is NULL), ordered by tenant then name.
-- Parameters: @tenant. Result: rows as GetSchedule.
SELECT tenant, name, cron, time_zone, job_type, queue, max_retry, timeout_us, misfire, overlap, paused, origin,
       next_fire_at, last_fire_at, last_job_id, created_at, updated_at, payload, revision
FROM schedules
WHERE @tenant IS NULL OR tenant = @tenant
ORDER BY tenant, name;
