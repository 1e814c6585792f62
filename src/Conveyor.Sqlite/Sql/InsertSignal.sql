-- InsertSignal: stores a signal step (a delivered payload, or the empty result of a wait that timed out) after the
-- job's other steps. The caller checked, in the same write transaction, that the job exists and has no such step.
-- Parameters: @id, @name, @attempt, @result, @completed_at. Result: 1 row inserted.
INSERT INTO job_steps (job_id, name, ord, attempt, result, completed_at)
VALUES (@id, @name, (SELECT COALESCE(MAX(ord), 0) + 1 FROM job_steps WHERE job_id = @id), @attempt, @result, @completed_at);
