-- 0015_workflow_steps: a batch may be a workflow (IWorkflowClient.StartWorkflowAsync): its name and steps (each a
-- member job with the names of the steps it runs after), as JSON {"name": …, "steps": [[name, job_id, [after, …]], …]}
-- written once with the batch and read with it; NULL for a plain batch. The dependencies themselves are the members'
-- depends_on and job_dependencies, as for any continuation.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 14 and sets user_version = 15 in the same
-- transaction.
ALTER TABLE batches ADD COLUMN workflow TEXT;
