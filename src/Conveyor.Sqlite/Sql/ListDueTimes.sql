-- ListDueTimes: the times at which scheduled and retrying jobs become due after @after and before @before, each
-- rounded up to a whole multiple of @step, earliest first and each once, at most @limit of them (the promoter's alarms
-- between its ticks). jobs_due holds exactly these jobs, in this order. The limit is an expression, as in PromoteDue.sql,
-- so that binding it again does not make SQLite compile the statement again.
-- Parameters: @after, @before (unix microseconds), @step (microseconds, at least 1), @limit.
-- Result: one column, the rounded time (unix microseconds).
SELECT DISTINCT (scheduled_at + @step - 1) / @step * @step AS due FROM jobs INDEXED BY jobs_due
WHERE state IN ('scheduled', 'retrying') AND scheduled_at > @after AND scheduled_at < @before
ORDER BY due
LIMIT @limit + 0;
