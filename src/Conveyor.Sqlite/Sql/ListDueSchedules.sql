-- ListDueSchedules: unpaused schedules whose next tick is at or before @until, earliest first (index schedules_due).
-- Parameters: @until, @limit. Result: rows as GetSchedule.
SELECT tenant, name, cron, time_zone, job_type, queue, max_retry, timeout_us, misfire, overlap, paused, origin,
       next_fire_at, last_fire_at, last_job_id, created_at, updated_at, payload, revision
FROM schedules
WHERE paused = 0 AND next_fire_at IS NOT NULL AND next_fire_at <= @until
ORDER BY next_fire_at, tenant, name
LIMIT @limit + 0;
