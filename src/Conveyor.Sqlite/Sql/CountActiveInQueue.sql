-- CountActiveInQueue: the active jobs of a queue by type and tenant, for the queue's concurrency limits: the dequeue
-- counts them in the same write transaction as it leases, so no other writer can change them in between. Walks the
-- partial index jobs_lease (active jobs only), so its cost is the number of running jobs, never the backlog.
-- Parameters: @queue.
-- Result: type, tenant, count.
SELECT type, tenant, count(*) FROM jobs INDEXED BY jobs_lease
WHERE state = 'active' AND queue = @queue
GROUP BY type, tenant;
