-- 0012_job_steps: durable steps, the results a running handler stores under a name so that a later attempt of the
-- same job skips them. One row per (job, step); ord keeps the order the steps were first stored. A trigger deletes a
-- job's steps with the job, whichever statement deletes it (delete, bulk delete, purge, count cap), at the cost of
-- one primary-key probe per deleted job.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 11 and sets user_version = 12 in the
-- same transaction.
CREATE TABLE IF NOT EXISTS job_steps (
    job_id       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    ord          INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    result       BLOB    NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS jobs_delete_steps AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_steps WHERE job_id = old.id;
END;
