-- ReplaceSchedule: replaces the definition, paused flag and next tick of an existing schedule; keeps created_at,
-- last_fire_at and last_job_id.
-- Parameters: as InsertSchedule. Result: rows changed (1, or 0 if there is no such schedule).
UPDATE schedules
SET cron = @cron, time_zone = @time_zone, job_type = @job_type, queue = @queue, max_retry = @max_retry,
    timeout_us = @timeout_us, misfire = @misfire, overlap = @overlap, paused = @paused, origin = @origin,
    next_fire_at = @next_fire_at, updated_at = @now, payload = @payload
WHERE tenant = @tenant AND name = @name;
