-- GetSteps: the steps of one job of one tenant in the order they were first stored.
-- Parameters: @tenant, @id. Result: no row when there is no such job; one row of NULLs for a job without steps;
-- otherwise one row per step (name, attempt, result, completed_at).
SELECT s.name, s.attempt, s.result, s.completed_at
FROM jobs j LEFT JOIN job_steps s ON s.job_id = j.id
WHERE j.id = @id AND j.tenant = @tenant
ORDER BY s.ord;
