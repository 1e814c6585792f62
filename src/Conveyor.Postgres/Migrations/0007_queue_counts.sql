-- The number of jobs per queue and state, kept by statement-level triggers on every insert, update and delete of
-- jobs, so that the queue statistics (the store gauges, GET /queues) add up a few rows per queue and state instead
-- of counting the jobs table: one read costs the same with a million jobs as with ten.
--
-- No row lock on the hot path: the triggers only append to queue_count_deltas (one row per statement and changed
-- queue and state), so concurrent dequeues and acknowledgements, and an application's transaction that enqueues
-- and commits later, never wait for each other on a counter. The store folds the committed deltas into
-- queue_counts (DELETE ... RETURNING then upsert) at most once a second, from the janitor's purge and from the
-- statistics read; the read adds queue_counts and the deltas not folded yet. A delta of a transaction that has not
-- committed is invisible to the fold and to the read alike, as its jobs are.
--
-- The trigger functions name their tables without the schema and run with search_path set to it: psql does not
-- substitute :"schema" inside a function's $$ body.
--
-- The backfill counts the jobs once, under a SHARE lock that holds writes to jobs off for the seconds it takes on a
-- table with millions of jobs, so that no job is counted twice or missed.
LOCK TABLE :"schema".jobs IN SHARE MODE;

CREATE TABLE IF NOT EXISTS :"schema".queue_counts (
    queue text   COLLATE "C" NOT NULL,
    state text   NOT NULL,
    jobs  bigint NOT NULL,
    PRIMARY KEY (queue, state)
);

CREATE TABLE IF NOT EXISTS :"schema".queue_count_deltas (
    queue text   COLLATE "C" NOT NULL,
    state text   NOT NULL,
    jobs  bigint NOT NULL
);

CREATE OR REPLACE FUNCTION :"schema".jobs_counted_on_insert() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    INSERT INTO queue_count_deltas (queue, state, jobs)
    SELECT queue, state, count(*) FROM inserted GROUP BY queue, state;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_counted_on_update() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    INSERT INTO queue_count_deltas (queue, state, jobs)
    SELECT queue, state, sum(delta) FROM (
        SELECT queue, state, -1 AS delta FROM before_update
        UNION ALL
        SELECT queue, state, 1 FROM after_update
    ) changed
    GROUP BY queue, state
    HAVING sum(delta) <> 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_counted_on_delete() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    INSERT INTO queue_count_deltas (queue, state, jobs)
    SELECT queue, state, -count(*) FROM deleted GROUP BY queue, state;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_counted_on_insert ON :"schema".jobs;
CREATE TRIGGER jobs_counted_on_insert AFTER INSERT ON :"schema".jobs
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_counted_on_insert();

DROP TRIGGER IF EXISTS jobs_counted_on_update ON :"schema".jobs;
CREATE TRIGGER jobs_counted_on_update AFTER UPDATE ON :"schema".jobs
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_counted_on_update();

DROP TRIGGER IF EXISTS jobs_counted_on_delete ON :"schema".jobs;
CREATE TRIGGER jobs_counted_on_delete AFTER DELETE ON :"schema".jobs
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_counted_on_delete();

-- A TRUNCATE (by hand, or a test's reset) empties the counts with the jobs.
CREATE OR REPLACE FUNCTION :"schema".jobs_counted_on_truncate() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    DELETE FROM queue_count_deltas;
    DELETE FROM queue_counts;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_counted_on_truncate ON :"schema".jobs;
CREATE TRIGGER jobs_counted_on_truncate AFTER TRUNCATE ON :"schema".jobs
    FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_counted_on_truncate();

DELETE FROM :"schema".queue_count_deltas;
DELETE FROM :"schema".queue_counts;
INSERT INTO :"schema".queue_counts (queue, state, jobs)
SELECT queue, state, count(*) FROM :"schema".jobs GROUP BY queue, state;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (7, '0007_queue_counts') ON CONFLICT (version) DO NOTHING;
