-- SaveStep: stores (or replaces, keeping its place) a step of a job that is active under the lease token.
-- Parameters: @id, @lease_token, @name, @attempt, @result, @completed_at. Result: 1 row changed if stored, 0 otherwise.
INSERT INTO job_steps (job_id, name, ord, attempt, result, completed_at)
SELECT id, @name, (SELECT COALESCE(MAX(ord), 0) + 1 FROM job_steps WHERE job_id = @id), @attempt, @result, @completed_at
FROM jobs
WHERE id = @id AND state = 'active' AND lease_token = @lease_token
ON CONFLICT (job_id, name) DO UPDATE SET attempt = excluded.attempt, result = excluded.result, completed_at = excluded.completed_at;
