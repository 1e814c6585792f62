-- ReplaceSchedule: replaces the definition, paused flag and next tick of an existing schedule, only while it is still at
-- @revision (the one its caller read); advances the revision and keeps created_at, last_fire_at and last_job_id.
-- Parameters: as InsertSchedule, and @revision. Result: rows changed (1, or 0 if there is no such schedule or it was
-- written since).
UPDATE schedules
SET cron = @cron, time_zone = @time_zone, job_type = @job_type, queue = @queue, max_retry = @max_retry,
    timeout_us = @timeout_us, misfire = @misfire, overlap = @overlap, paused = @paused, origin = @origin,
    next_fire_at = @next_fire_at, updated_at = @now, payload = @payload, revision = revision + 1
WHERE tenant = @tenant AND name = @name AND revision = @revision;
