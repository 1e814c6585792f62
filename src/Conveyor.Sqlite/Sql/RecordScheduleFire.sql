-- RecordScheduleFire: moves a schedule past the ticks handled, only while its next tick is still the one the
-- scheduler read (@expected, NULL for none): the compare-and-set that lets many schedulers share one schedule. The
-- revision advances, as at every write to a schedule.
-- Parameters: @tenant, @name, @expected, @next_fire_at, @last_fire_at, @last_job_id (NULL keeps the recorded one).
-- Result: rows changed (1 if it applied).
UPDATE schedules
SET next_fire_at = @next_fire_at, last_fire_at = @last_fire_at, last_job_id = coalesce(@last_job_id, last_job_id),
    revision = revision + 1
WHERE tenant = @tenant AND name = @name AND next_fire_at IS @expected;
