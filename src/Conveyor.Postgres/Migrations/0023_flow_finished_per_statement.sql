-- Conveyor PostgreSQL store, migration 0023: the flagged jobs a statement finishes are counted and resolved once per
-- statement, not once per job, in a fixed order, and a cascade of cancellations is a loop, not a recursion.
--
-- Until now a row trigger ran flow_finished() for each flagged job that finished:
-- * an acknowledgement of 40 members of one batch updated the batch's row 40 times in its transaction (each update
--   walking the row versions the ones before it wrote) and looked for the dependants of each member, most of which
--   have none;
-- * it took the rows it resolved in the order the statement met its jobs, so two acknowledgements finishing
--   dependencies of the same two joins could each hold one join and wait for the other (40P01);
-- * a cancelled dependant's own dependants were resolved by the trigger of the UPDATE that cancelled it, nested one
--   level deeper each time: a chain of ~200 success-only steps whose first failed exceeded max_stack_depth, and the
--   acknowledgement failed at every retry.
--
-- The AFTER trigger jobs_flow_finished is now a statement trigger over the statement's old and new rows (the
-- transition tables the queue counts of 0007 already capture). For the flagged jobs the statement moved from an
-- unfinished state to a finished one (OLD.flow, as the row trigger's WHEN read it; the BEFORE trigger of 0019 still
-- clears the flag on the row written) it works in rounds, each on a set of finished jobs:
-- 1. each batch of the set is updated once, in batch-id order, with the set's members by outcome: still counts + n …
--    RETURNING on one row, so concurrent statements serialise on that row and only the one whose update reaches the
--    total finishes the batch (the argument of 0015, with n for 1);
-- 2. everything the round will resolve (the dependants of the set's jobs and of the batches it finished) is locked in
--    one pass, in id order, so two statements with dependants in common take them in the same order;
-- 3. the set's jobs are resolved in id order, as the row trigger resolved each job: a batch the round finished is
--    resolved just before the dependants of its last member in the set (the batch count first, as every store
--    orders them). Success-only dependants of what did not succeed are cancelled (or failed) by flow_resolve_links(),
--    which returns them instead of leaving them to a nested trigger;
-- 4. those form the next round's set, until a round cancels nothing.
-- While the rounds run, conveyor.flow_settling is 'on' for the transaction, so the statements they make (cancels,
-- releases, counters) do not start a round of their own; the trigger depth stays two whatever the length of the
-- chain. A job's links cannot be added meanwhile: flow_link() locks the job's row, which this transaction holds.
-- Outside the rounds (a deleted flagged job, through jobs_flow_deleted and flow_finished(), row by row), a cancel is
-- resolved by the trigger of the UPDATE that makes it, which runs the rounds, also two levels deep.
-- An enqueue that links jobs (flow_link_in_order(), below) takes what they wait for in the same order: jobs by id,
-- then batches by id. Cascades across rounds are not ordered against every other statement; a cycle there is broken
-- by PostgreSQL's deadlock detector and the acknowledgement is retried.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0023_flow_finished_per_statement.sql

-- Resolves the links of a finished job or batch as flow_resolve() of 0021 did, and returns the dependants it
-- cancelled (or failed) because what they waited for did not succeed, for the caller to resolve in turn.
CREATE OR REPLACE FUNCTION :"schema".flow_resolve_links(p_dependency text, p_on_batch boolean, p_succeeded boolean, p_now timestamptz)
RETURNS TABLE (id text, batch_id text, state text, at timestamptz) LANGUAGE plpgsql SET search_path = :"schema" AS $$
#variable_conflict use_column
DECLARE
    r record;
    v record;
BEGIN
    FOR r IN
        DELETE FROM job_dependencies l WHERE l.dependency = p_dependency AND l.on_batch = p_on_batch
        RETURNING l.dependant, l.success_only, l.fail_if_unmet
    LOOP
        IF r.success_only AND NOT p_succeeded THEN
            UPDATE jobs j SET state = CASE WHEN r.fail_if_unmet THEN 'failed' ELSE 'cancelled' END,
                completed_at = p_now, updated_at = p_now, unique_held = false,
                expires_at = p_now + CASE WHEN r.fail_if_unmet THEN coalesce(j.failed_retention, j.retention)
                                          ELSE coalesce(j.cancelled_retention, j.retention) END,
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempts,
                    'message', CASE WHEN r.fail_if_unmet THEN 'Failed' ELSE 'Cancelled' END
                        || ' without running: ''' || p_dependency || ''', which it waited for, did not succeed.',
                    'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
            WHERE j.id = r.dependant AND j.state = 'waiting'
            RETURNING j.id, j.batch_id, j.state, j.updated_at INTO v;
            IF FOUND THEN
                id := v.id; batch_id := v.batch_id; state := v.state; at := v.updated_at;
                RETURN NEXT;
            END IF;
        ELSE
            UPDATE jobs j SET waiting_for = j.waiting_for - 1, updated_at = p_now
            WHERE j.id = r.dependant AND j.state = 'waiting'
            RETURNING j.waiting_for, j.queue, j.scheduled_at INTO v;
            IF FOUND AND v.waiting_for <= 0 THEN
                IF v.scheduled_at IS NOT NULL AND v.scheduled_at > p_now THEN
                    UPDATE jobs j SET state = 'scheduled' WHERE j.id = r.dependant;
                ELSE
                    UPDATE jobs j SET state = 'pending', enqueued_at = p_now WHERE j.id = r.dependant;
                    PERFORM pg_notify(current_schema() || '_jobs', v.queue);
                    PERFORM set_config('conveyor.flow_released', 'on', true);
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$$;

-- flow_finished() (the delete path) still calls this: what it cancels is resolved by the cancelling UPDATE's trigger.
CREATE OR REPLACE FUNCTION :"schema".flow_resolve(p_dependency text, p_on_batch boolean, p_succeeded boolean, p_now timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    PERFORM flow_resolve_links(p_dependency, p_on_batch, p_succeeded, p_now);
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finished() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
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

        -- 2. Everything this round resolves, locked in one pass and in id order.
        PERFORM 1 FROM jobs j
        WHERE j.id IN (SELECT l.dependant FROM job_dependencies l WHERE l.dependency = ANY (v_ids) AND NOT l.on_batch
                       UNION
                       SELECT l.dependant FROM job_dependencies l WHERE l.dependency = ANY (v_done) AND l.on_batch)
        ORDER BY j.id
        FOR NO KEY UPDATE;

        -- 3. The jobs in id order; a finished batch just before the dependants of its last member in the set.
        v_next_ids := NULL; v_next_batches := NULL; v_next_states := NULL; v_next_ats := NULL;
        FOR d IN
            SELECT f.id, f.state, f.at
            FROM unnest(v_ids, v_states, v_ats) AS f (id, state, at)
            ORDER BY f.id
        LOOP
            -- The job's batch (when the job is its last member in the set), then the job itself when anything
            -- waits for it (most batch members have no dependants: one probe instead of a call).
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

-- flow_link() with what the jobs wait for locked first, in one order: the dependency jobs by id, then the batches (the
-- jobs' own and those waited for) by id, as an acknowledgement takes jobs before batches. flow_link() locked each
-- job's dependencies in the order the job named them, so two enqueues naming the same parents in opposite orders
-- could each hold one and wait for the other (40P01). The store calls this one.
CREATE OR REPLACE FUNCTION :"schema".flow_link_in_order(p_ids text[], p_depends jsonb[], p_batches text[], p_now timestamptz)
RETURNS TABLE (ord integer, state text, missing text) LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    PERFORM 1 FROM jobs j
    WHERE j.id IN (SELECT e ->> 0 FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 0)
    ORDER BY j.id
    FOR UPDATE;
    PERFORM 1 FROM batches b
    WHERE b.id IN (SELECT e ->> 0 FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 1
                   UNION
                   SELECT x FROM unnest(p_batches) AS x WHERE x IS NOT NULL)
    ORDER BY b.id
    FOR UPDATE;
    RETURN QUERY SELECT * FROM flow_link(p_ids, p_depends, p_batches, p_now);
END
$$;

DROP TRIGGER IF EXISTS jobs_flow_finished ON :"schema".jobs;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE ON :"schema".jobs
    REFERENCING OLD TABLE AS flow_before NEW TABLE AS flow_after
    FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_flow_finished();

INSERT INTO :"schema".schema_migrations (version, name) VALUES (23, '0023_flow_finished_per_statement') ON CONFLICT (version) DO NOTHING;
