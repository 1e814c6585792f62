-- 0010_fair_queues: the index a fair queue's dequeue (DequeueRequest.FairQueues) walks: pending jobs by queue, tenant
-- and queue order. Finding the next tenant with a pending job is one probe of it (the smallest tenant after the last
-- one served), and a tenant's next jobs are the first entries under that tenant, so a fair dequeue never reads the
-- jobs of a tenant's backlog it does not take. Partial, like jobs_pending: it holds pending jobs only.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 9 and sets user_version = 10 in the
-- same transaction.
CREATE INDEX IF NOT EXISTS jobs_pending_tenant ON jobs (queue, tenant, pending_seq) WHERE state = 'pending';
