-- Conveyor PostgreSQL store, migration 0029: a batch member's end is counted in its batch once, also when a
-- continuation added after the member was run again by hand flags it again.
--
-- The flow flag meant two things: something waits for the job, or its end is still to be counted in its batch. A
-- failed or cancelled member run again by hand rejoins its batch only while the batch runs (0015's requeue, with the
-- rejoined CTE); otherwise its end stays counted and it is not flagged. A continuation linked to it then (flow_link(),
-- flow_link_in_order()) flagged it for its dependant, and jobs_flow_finished() counted its next end in the batch a
-- second time: past the total of a finished batch, or, in a batch cancelled as a whole while another member still
-- ran, reaching the total early, finishing the batch and releasing its callbacks before that member ended. The new
-- column batch_counted says that the job's end is counted already: the requeue sets it for a member that does not
-- rejoin and clears it for one that does (PostgresJobStore.Commands.cs, RejoinedFlags), and the finishing paths count
-- only members without it (jobs_flow_finished() below, with the body of 0028 otherwise, and jobs_flow_deleted()).
-- A member that is unfinished and not flagged was counted and run again without rejoining: the rows already in that
-- state are marked. One that a continuation flagged since cannot be told from a member not counted yet; it keeps false.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0029_flow_counted_once.sql

ALTER TABLE :"schema".jobs ADD COLUMN IF NOT EXISTS batch_counted boolean NOT NULL DEFAULT false;
UPDATE :"schema".jobs SET batch_counted = true
WHERE batch_id IS NOT NULL AND NOT flow AND state NOT IN ('succeeded', 'partial', 'failed', 'cancelled');

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

    SELECT array_agg(n.id ORDER BY n.id), array_agg(CASE WHEN NOT o.batch_counted THEN n.batch_id END ORDER BY n.id),
           array_agg(n.state ORDER BY n.id),
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

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    -- A job deleted before it finished will never finish: what waits for it is resolved as if it had been cancelled,
    -- and its batch counts it, unless its end is counted there already.
    PERFORM flow_finished(OLD.id, CASE WHEN NOT OLD.batch_counted THEN OLD.batch_id END, 'cancelled', OLD.updated_at);
    RETURN NULL;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (29, '0029_flow_counted_once') ON CONFLICT (version) DO NOTHING;
