-- The listing of a tenant's batches and workflows (IWorkflowStore.ListBatchesAsync, GET /batches, GET /workflows)
-- stays a keyset read however many batches are kept for their retention: a page reads batches_tenant_created_idx from
-- the cursor, or batches_tenant_state_created_idx for one state (so that the few running batches are not found by
-- walking every finished one), both in page order (created_at, then id, descending), so a page reads its rows and one
-- more, with no sort. Only workflows are checked on the rows read: a tenant's batches are mostly of one kind or the
-- other. The indexes are built in the migration's transaction (not CONCURRENTLY, which a transaction cannot run), so
-- writes to batches (an acknowledgement counting a member) wait while they build: a moment for the batches a retention
-- keeps; a store holding millions can build them beforehand with CREATE INDEX CONCURRENTLY under the same names.
CREATE INDEX IF NOT EXISTS batches_tenant_created_idx ON :"schema".batches (tenant, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS batches_tenant_state_created_idx ON :"schema".batches (tenant, state, created_at DESC, id DESC);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (30, '0030_batch_listing') ON CONFLICT (version) DO NOTHING;
