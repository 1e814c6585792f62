-- WriteLimit: creates or replaces a limit definition (the caller checked its source in the same transaction).
-- Parameters: @kind, @name, @queue, @job_type, @per_tenant, @lim, @period_us, @burst, @source, @now. Result: none.
INSERT INTO limit_definitions (kind, name, queue, job_type, per_tenant, lim, period_us, burst, source, updated_at)
VALUES (@kind, @name, @queue, @job_type, @per_tenant, @lim, @period_us, @burst, @source, @now)
ON CONFLICT (kind, name) DO UPDATE SET
    queue = excluded.queue, job_type = excluded.job_type, per_tenant = excluded.per_tenant, lim = excluded.lim,
    period_us = excluded.period_us, burst = excluded.burst, source = excluded.source, updated_at = excluded.updated_at;
