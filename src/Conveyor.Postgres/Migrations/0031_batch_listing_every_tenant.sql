-- An operator's listing of every tenant's batches and workflows (IWorkflowStore.ListBatchesAsync with no tenant,
-- GET /batches?tenant=*) stays a keyset read as a tenant's does (0030): a page reads batches_created_idx from the
-- cursor, or batches_state_created_idx for one state, both in page order, so a page reads its rows and one more, with
-- no sort. Neither key changes while a batch counts its members' ends (only its state, once, when it finishes), so
-- counting keeps its updates of the batch row heap-only. Built in the migration's transaction as 0030's are; a store
-- holding millions of batches can build them beforehand with CREATE INDEX CONCURRENTLY under the same names.
CREATE INDEX IF NOT EXISTS batches_created_idx ON :"schema".batches (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS batches_state_created_idx ON :"schema".batches (state, created_at DESC, id DESC);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (31, '0031_batch_listing_every_tenant') ON CONFLICT (version) DO NOTHING;
