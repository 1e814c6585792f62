-- Conveyor PostgreSQL store, migration 0018: a batch may be a workflow (IWorkflowClient.StartWorkflowAsync): its name
-- and steps (each a member job with the names of the steps it runs after), as JSON
-- {"name": …, "steps": [[name, job_id, [after, …]], …]} written once with the batch and read with it; NULL for a
-- plain batch. The dependencies themselves are the members' depends_on and job_dependencies, as for any continuation.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0018_workflow_steps.sql
ALTER TABLE :"schema".batches ADD COLUMN IF NOT EXISTS workflow text;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (18, '0018_workflow_steps') ON CONFLICT (version) DO NOTHING;
