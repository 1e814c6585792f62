-- 0021_batch_listing: the listing of a tenant's batches and workflows (IWorkflowStore.ListBatchesAsync, GET /batches,
-- GET /workflows) stays a keyset read however many batches are kept for their retention. A page reads
-- batches_tenant_created from the cursor, in (created_at, id) order, the order of a page; a page of one state reads
-- batches_tenant_state_created instead, so that the few running batches are not found by walking every finished one.
-- Only workflows are checked on the rows read: a tenant's batches are mostly of one kind or the other.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 20 and sets user_version = 21 in the same
-- transaction. On a file with many batches it reads them once to build the indexes.
CREATE INDEX IF NOT EXISTS batches_tenant_created ON batches (tenant, created_at, id);
CREATE INDEX IF NOT EXISTS batches_tenant_state_created ON batches (tenant, state, created_at, id);
