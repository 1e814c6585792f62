-- Durable steps: the results a running handler stores under a name so that a later attempt of the same job skips
-- them. One row per (job, step); ord keeps the order the steps were first stored. The foreign key deletes a job's
-- steps with the job, whichever statement deletes it (delete, bulk delete, purge, count cap), at the cost of one
-- primary-key probe per deleted job.
CREATE TABLE IF NOT EXISTS :"schema".job_steps (
    job_id       text        COLLATE "C" NOT NULL REFERENCES :"schema".jobs (id) ON DELETE CASCADE,
    name         text        COLLATE "C" NOT NULL,
    ord          integer     NOT NULL,
    attempt      integer     NOT NULL,
    result       bytea       NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, name)
);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (13, '0013_job_steps') ON CONFLICT (version) DO NOTHING;
