-- FindSignalSteps: a job's signal step and wait step for one signal name, if stored.
-- Parameters: @id, @signal ('$signal:<name>'), @wait ('$wait:<name>'). Result: zero to two rows (name, result).
SELECT name, result FROM job_steps WHERE job_id = @id AND name IN (@signal, @wait);
