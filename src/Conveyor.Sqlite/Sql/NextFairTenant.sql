-- NextFairTenant: the first tenant, in ordinal (binary) order, after @after that has a pending job in the queue; one
-- probe of the partial index jobs_pending_tenant, however many jobs each tenant has. Nothing when the queue is paused.
-- Parameters: @queue, @after ('' for the first tenant).
-- Result: one row (tenant), or none.
SELECT tenant FROM jobs INDEXED BY jobs_pending_tenant
WHERE state = 'pending' AND queue = @queue AND tenant > @after
  AND NOT EXISTS (SELECT 1 FROM queues WHERE name = @queue AND paused = 1)
ORDER BY tenant
LIMIT 1;
