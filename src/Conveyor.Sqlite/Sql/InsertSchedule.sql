-- InsertSchedule: stores a new schedule unless the tenant has one of that name; last fire and last job start empty.
-- Parameters: every column but last_fire_at and last_job_id; @now for created_at and updated_at; @revision, the first
-- revision (drawn at random, ScheduleRecord.Revision).
-- Result: one row (1) if stored, no row if the name is taken.
INSERT INTO schedules (tenant, name, cron, time_zone, job_type, queue, max_retry, timeout_us, misfire, overlap, paused,
                       origin, next_fire_at, last_fire_at, last_job_id, created_at, updated_at, payload, revision)
VALUES (@tenant, @name, @cron, @time_zone, @job_type, @queue, @max_retry, @timeout_us, @misfire, @overlap, @paused,
        @origin, @next_fire_at, NULL, NULL, @now, @now, @payload, @revision)
ON CONFLICT (tenant, name) DO NOTHING
RETURNING 1;
