-- TenantCandidates: the first pending jobs of one tenant in a queue, in the order they became pending, for a fair
-- dequeue to take in turns. Walks the partial index jobs_pending_tenant.
-- Parameters: @queue, @tenant, @limit.
-- Result: seq, type, tenant.
SELECT seq, type, tenant FROM jobs INDEXED BY jobs_pending_tenant
WHERE state = 'pending' AND queue = @queue AND tenant = @tenant
ORDER BY pending_seq
LIMIT @limit + 0;
