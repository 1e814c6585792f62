-- ListDueTimes: the times, earliest first and each once, at which scheduled and retrying jobs become due after @now
-- and no later than @until, at most @limit of them (the promoter's alarms between its ticks). jobs_due holds exactly
-- these jobs, in this order.
-- Parameters: @now, @until, @limit.
-- Result: one column, scheduled_at (unix microseconds).
SELECT DISTINCT scheduled_at FROM jobs INDEXED BY jobs_due
WHERE state IN ('scheduled', 'retrying') AND scheduled_at > @now AND scheduled_at <= @until
ORDER BY scheduled_at
LIMIT @limit;
