-- Conveyor PostgreSQL store, migration 0023: the flagged jobs a statement finishes are counted and resolved once per
-- statement, not once per job.
--
-- Until now a row trigger ran flow_finished() for each flagged job that finished: an acknowledgement of 40 members of
-- one batch updated the batch's row 40 times in its transaction (each update walking the versions the ones before it
-- wrote) and looked for the dependants of each member, most of which have none. The AFTER trigger jobs_flow_finished
-- is now a statement trigger over the statement's old and new rows (the transition tables the queue counts of 0007
-- already capture, so no row is copied again). For the flagged jobs the statement moved from an unfinished state to a
-- finished one (OLD.flow, as the row trigger's WHEN read it; the BEFORE trigger of 0019 still clears the flag on the
-- row written) it
-- 1. updates each batch once, in batch-id order, adding the statement's members by outcome: the update is still
--    counts + n … RETURNING on one row, so concurrent statements serialise on that row and only the one whose update
--    reaches the total finishes the batch and resolves what waits for it (the argument of 0015, with n for 1); taking
--    the batch rows in id order means two acknowledgements that finish members of the same two batches never wait on
--    each other in a cycle;
-- 2. locks the jobs' dependants in id order, then resolves, in id order, the dependants of those of the jobs that
--    have any, as flow_resolve() did for each job; a job's links cannot be added meanwhile, since flow_link() locks
--    the job's row, which this transaction holds. Two acknowledgements finishing dependencies of the same two joins
--    took those rows in the orders their jobs came in, and could wait on each other until PostgreSQL's deadlock
--    detector cancelled one (its batch then retried); they now take them in one order.
-- A job's batch is counted before its own dependants are resolved, as before. What a resolution cancels is finished by
-- a nested UPDATE, whose own statement trigger counts and resolves it in turn. A deleted flagged job still goes
-- through jobs_flow_deleted and flow_finished(), one by one (deletes of unfinished flagged jobs are rare).
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0023_flow_finished_per_statement.sql

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finished() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
DECLARE
    v_ids text[];
    v_batches text[];
    v_states text[];
    v_ats timestamptz[];
    d record;
    b record;
BEGIN
    -- Most statements (dequeues, plain acknowledgements, lease extensions) hold no flagged unfinished job: one pass
    -- over the old rows ends them here.
    IF NOT EXISTS (SELECT 1 FROM flow_before o WHERE o.flow AND o.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')) THEN
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

    FOR d IN
        SELECT f.batch_id,
               count(*) FILTER (WHERE f.state IN ('succeeded', 'partial')) AS succeeded,
               count(*) FILTER (WHERE f.state = 'failed') AS failed,
               count(*) FILTER (WHERE f.state = 'cancelled') AS cancelled,
               max(f.at) AS at
        FROM unnest(v_batches, v_states, v_ats) AS f (batch_id, state, at)
        WHERE f.batch_id IS NOT NULL
        GROUP BY f.batch_id
        ORDER BY f.batch_id
    LOOP
        UPDATE batches SET succeeded = succeeded + d.succeeded, failed = failed + d.failed,
            cancelled = cancelled + d.cancelled, updated_at = d.at
        WHERE id = d.batch_id
        RETURNING * INTO b;
        IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
            UPDATE batches SET finished_at = d.at, expires_at = d.at + retention,
                state = CASE WHEN state <> 'running' THEN state WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
            WHERE id = d.batch_id;
            PERFORM flow_resolve(d.batch_id, true, b.succeeded = b.total, d.at);
        END IF;
    END LOOP;

    -- The dependants all of them will resolve, locked first and in id order: two statements that finish jobs with
    -- dependants in common take those rows in the same order, so neither waits for the other in a cycle.
    PERFORM 1 FROM jobs j
    WHERE j.id IN (SELECT l.dependant FROM job_dependencies l WHERE l.dependency = ANY (v_ids) AND NOT l.on_batch)
    ORDER BY j.id
    FOR UPDATE;

    FOR d IN
        SELECT f.id, f.state, f.at
        FROM unnest(v_ids, v_states, v_ats) AS f (id, state, at)
        WHERE EXISTS (SELECT 1 FROM job_dependencies l WHERE l.dependency = f.id AND NOT l.on_batch)
        ORDER BY f.id
    LOOP
        PERFORM flow_resolve(d.id, false, d.state IN ('succeeded', 'partial'), d.at);
    END LOOP;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_flow_finished ON :"schema".jobs;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE ON :"schema".jobs
    REFERENCING OLD TABLE AS flow_before NEW TABLE AS flow_after
    FOR EACH STATEMENT EXECUTE FUNCTION :"schema".jobs_flow_finished();

INSERT INTO :"schema".schema_migrations (version, name) VALUES (23, '0023_flow_finished_per_statement') ON CONFLICT (version) DO NOTHING;
