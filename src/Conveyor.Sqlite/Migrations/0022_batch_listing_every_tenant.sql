-- 0022_batch_listing_every_tenant: an operator's listing of every tenant's batches and workflows
-- (IWorkflowStore.ListBatchesAsync with no tenant, GET /batches?tenant=*) stays a keyset read as a tenant's does (0021):
-- a page reads batches_created from the cursor in (created_at, id) order, or batches_state_created for one state.
-- Neither column changes while a batch counts its members, so counting a member's end maintains neither index.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 21 and sets user_version = 22 in the same
-- transaction. On a file with many batches it reads them once to build the indexes.
CREATE INDEX IF NOT EXISTS batches_created ON batches (created_at, id);
CREATE INDEX IF NOT EXISTS batches_state_created ON batches (state, created_at, id);
