-- Conveyor PostgreSQL store, migration 0028: the statements of jobs_flow_finished() (0025) and of what it calls are
-- planned once per connection, not at every acknowledgement that finishes a flagged job.
--
-- Statements that take arrays (the lock of step 2 over `= ANY (v_ids)`, the filter of step 3 over `unnest(v_ids, …)`)
-- were given a custom plan at every execution once the tables held a few thousand links: the plan cache compares the
-- generic plan's estimate, made for arrays of unknown size, with the custom plans' for the one-element arrays of a
-- continuation, and keeps planning. Those two plans took 150 µs of a continuation's acknowledgement, 500 µs in all
-- against 55 µs for a plain one (psql, 3,000 waiting jobs and links, the mean of 300). The function now runs with
-- plan_cache_mode = force_generic_plan, which holds for the functions it calls (flow_resolve_links()), and the filter of
-- step 3 probes each job's links with a scalar subquery (as EXISTS, the generic plan hashed every link). The same
-- acknowledgement then takes 250-290 µs. A plan made once is kept until the table's next ANALYZE, so one made while
-- job_dependencies was empty (a new store, or one whose workflows drained) would scan it after a fan-out filled it, a
-- scan per link of every finished job until autovacuum came by (377 ms to acknowledge 500 jobs beside 20,000 links);
-- every statement here looks rows up by key, so the function also runs with enable_seqscan = off: an index is used
-- whatever the statistics said when it was planned (the transition tables, which have none, are still scanned), and
-- the lock of step 2 finds the jobs by their ids instead of joining. Hash and merge joins stay allowed here (the
-- acknowledgement that fires it runs without them, PostgresJobStore.AcknowledgementPlan): the finished rows of one
-- statement are matched between its transition tables with them. Nothing else changes.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0028_flow_finished_generic_plans.sql

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finished() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema"
    SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = on SET enable_mergejoin = on AS $$
DECLARE
    v_ids text[];
    v_batches text[];
    v_states text[];
    v_ats timestamptz[];
    v_next_ids text[];
    v_next_batches text[];
    v_next_states text[];
    v_next_ats timestamptz[];
    v_done text[];
    v_done_ok boolean[];
    v_done_at timestamptz[];
    v_done_last text[];
    d record;
    b record;
    k record;
    c record;
BEGIN
    -- The rounds' own statements; and most statements (dequeues, lease extensions, plain acknowledgements) finish no
    -- flagged job: two passes over the transition tables end them here.
    IF current_setting('conveyor.flow_settling', true) = 'on'
       OR NOT EXISTS (SELECT 1 FROM flow_after n WHERE n.state IN ('succeeded', 'partial', 'failed', 'cancelled'))
       OR NOT EXISTS (SELECT 1 FROM flow_before o WHERE o.flow AND o.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')) THEN
        RETURN NULL;
    END IF;

    SELECT array_agg(n.id ORDER BY n.id), array_agg(n.batch_id ORDER BY n.id), array_agg(n.state ORDER BY n.id),
           array_agg(n.updated_at ORDER BY n.id)
    INTO v_ids, v_batches, v_states, v_ats
    FROM flow_before o JOIN flow_after n ON n.id = o.id
    WHERE o.flow AND o.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
      AND n.state IN ('succeeded', 'partial', 'failed', 'cancelled');
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;

    PERFORM set_config('conveyor.flow_settling', 'on', true);
    WHILE v_ids IS NOT NULL LOOP
        -- 1. The batches, once each, in id order.
        v_done := '{}'; v_done_ok := '{}'; v_done_at := '{}'; v_done_last := '{}';
        FOR d IN
            SELECT f.batch_id,
                   count(*) FILTER (WHERE f.state IN ('succeeded', 'partial')) AS succeeded,
                   count(*) FILTER (WHERE f.state = 'failed') AS failed,
                   count(*) FILTER (WHERE f.state = 'cancelled') AS cancelled,
                   max(f.at) AS at, max(f.id) AS last
            FROM unnest(v_ids, v_batches, v_states, v_ats) AS f (id, batch_id, state, at)
            WHERE f.batch_id IS NOT NULL
            GROUP BY f.batch_id
            ORDER BY f.batch_id
        LOOP
            UPDATE batches SET succeeded = succeeded + d.succeeded, failed = failed + d.failed,
                cancelled = cancelled + d.cancelled, updated_at = d.at
            WHERE batches.id = d.batch_id
            RETURNING * INTO b;
            IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
                UPDATE batches SET finished_at = d.at, expires_at = d.at + retention,
                    state = CASE WHEN batches.state <> 'running' THEN batches.state
                                 WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
                WHERE batches.id = d.batch_id;
                v_done := v_done || d.batch_id;
                v_done_ok := v_done_ok || (b.succeeded = b.total);
                v_done_at := v_done_at || d.at;
                v_done_last := v_done_last || d.last;
            END IF;
        END LOOP;

        -- 2. Everything this round resolves, locked in one pass and in id order. The ids are gathered first, so that the
        --    jobs are found by key: as a join, a plan made while jobs was small merged with a scan of all of it.
        PERFORM 1 FROM jobs j
        WHERE j.id = ANY (ARRAY(SELECT l.dependant FROM job_dependencies l WHERE l.dependency = ANY (v_ids) AND NOT l.on_batch
                                UNION
                                SELECT l.dependant FROM job_dependencies l WHERE l.dependency = ANY (v_done) AND l.on_batch))
        ORDER BY j.id
        FOR NO KEY UPDATE;

        -- 3. The jobs with something to resolve, in id order; a finished batch just before the dependants of its last
        --    member in the set. Found in one statement: most jobs of a set are batch members nothing waits for. The
        --    probe is a scalar subquery, an index probe per job: as EXISTS, a generic plan hashes every link.
        v_next_ids := NULL; v_next_batches := NULL; v_next_states := NULL; v_next_ats := NULL;
        FOR d IN
            SELECT f.id, f.state, f.at
            FROM unnest(v_ids, v_states, v_ats) AS f (id, state, at)
            WHERE f.id = ANY (v_done_last)
               OR (SELECT true FROM job_dependencies l WHERE l.dependency = f.id AND NOT l.on_batch LIMIT 1)
            ORDER BY f.id
        LOOP
            -- The job's batch (when the job is its last member in the set), then the job itself when anything
            -- waits for it.
            FOR k IN
                SELECT x.batch_id AS dependency, true AS on_batch, x.ok AS succeeded, x.at
                FROM unnest(v_done, v_done_ok, v_done_at, v_done_last) AS x (batch_id, ok, at, last)
                WHERE x.last = d.id
                UNION ALL
                SELECT d.id, false, d.state IN ('succeeded', 'partial'), d.at
                WHERE EXISTS (SELECT 1 FROM job_dependencies l WHERE l.dependency = d.id AND NOT l.on_batch)
                ORDER BY 2 DESC
            LOOP
                FOR c IN SELECT * FROM flow_resolve_links(k.dependency, k.on_batch, k.succeeded, k.at) LOOP
                    v_next_ids := v_next_ids || c.id; v_next_batches := v_next_batches || c.batch_id;
                    v_next_states := v_next_states || c.state; v_next_ats := v_next_ats || c.at;
                END LOOP;
            END LOOP;
        END LOOP;

        -- 4. What this round cancelled is the next round.
        v_ids := v_next_ids; v_batches := v_next_batches; v_states := v_next_states; v_ats := v_next_ats;
    END LOOP;
    PERFORM set_config('conveyor.flow_settling', 'off', true);
    RETURN NULL;
END
$$;

-- A workflow's fan-out gives job_dependencies a few dependencies with hundreds of links each, so its sampled statistics
-- say a dependency has hundreds of links; a generic plan then expects that many for any job and scans the whole table
-- (each probe of step 3 did: 4.7 ms to acknowledge 20 batch members beside 5,000 links). Most jobs have one dependant
-- or none: the planner is told so (two links per dependency), and the values it sampled as most common keep their own
-- counts. Analyzed here only when it holds links: analyzed empty, the planner would take its size as known to be nil
-- instead of assuming a few pages, until autovacuum analyzes it again.
ALTER TABLE :"schema".job_dependencies ALTER COLUMN dependency SET (n_distinct = -0.5);
SELECT set_config('conveyor.migration_schema', :'schema', false);
DO $analyze$
DECLARE
    v_links boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.job_dependencies)', current_setting('conveyor.migration_schema')) INTO v_links;
    IF v_links THEN
        EXECUTE format('ANALYZE %I.job_dependencies', current_setting('conveyor.migration_schema'));
    END IF;
END
$analyze$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (28, '0028_flow_finished_generic_plans') ON CONFLICT (version) DO NOTHING;
