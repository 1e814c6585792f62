-- An operator's listing of every tenant's batches and workflows (IWorkflowStore.ListBatchesAsync with no tenant,
-- GET /batches?tenant=*) stays a keyset read as a tenant's does (0030): a page reads batches_every_tenant_created_idx
-- from the cursor, or batches_every_tenant_state_created_idx for one state, both in page order, so a page reads its rows
-- and one more, with no sort. Both are partial on "total >= 0", which every batch meets and which only the every-tenant
-- statement states (PostgresJobStore.ListBatchesSql): a one-tenant page cannot use them, so the planner keeps to 0030's
-- tenant indexes. Without that, it took the cheaper-looking walk of every tenant's batches for one tenant's page,
-- filtering out the others, which costs every newer batch of other tenants when this tenant's newest is old.
-- Neither key changes while a batch counts its members' ends (only its state, once, when it finishes), so counting keeps
-- its updates of the batch row heap-only. Built in the migration's transaction as 0030's are; a store holding millions
-- of batches can build them beforehand with CREATE INDEX CONCURRENTLY under the same names.
-- A development build of this migration made them whole, under other names: not kept.
DROP INDEX IF EXISTS :"schema".batches_created_idx;
DROP INDEX IF EXISTS :"schema".batches_state_created_idx;
CREATE INDEX IF NOT EXISTS batches_every_tenant_created_idx ON :"schema".batches (created_at DESC, id DESC) WHERE total >= 0;
CREATE INDEX IF NOT EXISTS batches_every_tenant_state_created_idx ON :"schema".batches (state, created_at DESC, id DESC) WHERE total >= 0;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (31, '0031_batch_listing_every_tenant') ON CONFLICT (version) DO NOTHING;
