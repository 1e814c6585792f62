-- Conveyor PostgreSQL store, migration 0034: a job keeps at most 20 errors (JobError.MaxKeptPerJob): its first, often
-- the root cause, and the 19 most recent.
--
-- Acknowledgements, lease recovery, and the ends of jobs that will not run (a dependency that did not succeed, a
-- cancelled batch) all append to errors with `errors || ...`, in this store's statements and in the flow functions. One
-- row trigger trims them all: when an update leaves more than 20 errors, the ones after the first that are not among
-- the last 19 are dropped. Its WHEN clause reads the array's length from the jsonb header, so a job with few errors
-- pays that check and no function call. Errors stored before it are trimmed when the job next gets one.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0034_errors_kept.sql

CREATE OR REPLACE FUNCTION :"schema".jobs_errors_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.errors := (SELECT jsonb_agg(e.error ORDER BY e.n)
                   FROM jsonb_array_elements(NEW.errors) WITH ORDINALITY AS e(error, n)
                   WHERE e.n = 1 OR e.n > jsonb_array_length(NEW.errors) - 19);
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS jobs_errors_kept ON :"schema".jobs;
CREATE TRIGGER jobs_errors_kept BEFORE UPDATE OF errors ON :"schema".jobs
    FOR EACH ROW WHEN (jsonb_array_length(NEW.errors) > 20) EXECUTE FUNCTION :"schema".jobs_errors_kept();

INSERT INTO :"schema".schema_migrations (version, name) VALUES (34, '0034_errors_kept') ON CONFLICT (version) DO NOTHING;
