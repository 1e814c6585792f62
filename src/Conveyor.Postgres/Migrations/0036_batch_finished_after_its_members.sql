-- Conveyor PostgreSQL store, migration 0036: a batch finishes no earlier than its latest change: the end of any of its
-- members, an add, a cancel.
--
-- Every store call takes its time when it begins. Two servers' acknowledgements of a batch's members: X, at tX, ends
-- member A; Y, at tY < tX, ends the last member B and, committing after X (it waited for the lock X held on the batch's
-- row), finished the batch with finished_at = tY, before A's completed_at; its callbacks, released at the same time,
-- showed a start before A's end too (a black-box run: 3-46 ms, on 2 of 15 and 2 of 4 rounds). Now the count keeps the
-- batch's updated_at at the latest of the times it was given (its UPDATE re-reads the row X wrote), and the batch
-- finishes at that time, which its callbacks are released at. Only the two functions that count members change:
-- jobs_flow_finished() (the body of 0033) and flow_finished() (of 0032, for a member deleted before it finished).
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0036_batch_finished_after_its_members.sql

CREATE OR REPLACE FUNCTION :"schema".flow_finished(p_id text, p_batch text, p_state text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = :"schema" AS $$
DECLARE
    b record;
BEGIN
    IF p_batch IS NOT NULL THEN
        UPDATE batches SET
            succeeded = succeeded + (p_state IN ('succeeded', 'partial'))::int,
            failed = failed + (p_state = 'failed')::int,
            cancelled = cancelled + (p_state = 'cancelled')::int,
            updated_at = greatest(updated_at, p_now)
        WHERE id = p_batch
        RETURNING * INTO b;
        IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
            UPDATE batches SET finished_at = b.updated_at, expires_at = b.updated_at + retention,
                state = CASE WHEN state <> 'running' THEN state WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
            WHERE id = p_batch;
            PERFORM flow_resolve(p_batch, true, b.succeeded = b.total AND b.state = 'running', b.updated_at);
        END IF;
    END IF;
    PERFORM flow_resolve(p_id, false, p_state IN ('succeeded', 'partial'), p_now);
END
$$;

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

    -- Sorted once for the four arrays: the aggregates read the subquery's rows in its order.
    SELECT array_agg(f.id), array_agg(f.batch_id), array_agg(f.state), array_agg(f.at)
    INTO v_ids, v_batches, v_states, v_ats
    FROM (SELECT n.id, CASE WHEN NOT o.batch_counted THEN n.batch_id END AS batch_id, n.state, n.updated_at AS at
          FROM flow_before o JOIN flow_after n ON n.id = o.id
          WHERE o.flow AND o.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
            AND n.state IN ('succeeded', 'partial', 'failed', 'cancelled')
          ORDER BY n.id) f;
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
                cancelled = cancelled + d.cancelled, updated_at = greatest(updated_at, d.at)
            WHERE batches.id = d.batch_id
            RETURNING * INTO b;
            IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
                UPDATE batches SET finished_at = b.updated_at, expires_at = b.updated_at + retention,
                    state = CASE WHEN batches.state <> 'running' THEN batches.state
                                 WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
                WHERE batches.id = d.batch_id;
                v_done := v_done || d.batch_id;
                v_done_ok := v_done_ok || (b.succeeded = b.total AND b.state = 'running');
                v_done_at := v_done_at || b.updated_at;
                v_done_last := v_done_last || d.last;
            END IF;
        END LOOP;

        -- Nothing waits for the set's jobs nor for a batch it finished: nothing to lock, resolve or cancel.
        EXIT WHEN cardinality(v_done) = 0
             AND NOT EXISTS (SELECT 1 FROM job_dependencies l WHERE l.dependency = ANY (v_ids) AND NOT l.on_batch);

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

INSERT INTO :"schema".schema_migrations (version, name) VALUES (36, '0036_batch_finished_after_its_members') ON CONFLICT (version) DO NOTHING;
