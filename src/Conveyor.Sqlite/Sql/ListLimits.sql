-- ListLimits: every limit definition, ordered by kind then name.
-- Parameters: none. Result: kind, name, queue, job_type, per_tenant, lim, period_us, burst, source, updated_at.
SELECT kind, name, queue, job_type, per_tenant, lim, period_us, burst, source, updated_at
FROM limit_definitions
ORDER BY kind, name;
