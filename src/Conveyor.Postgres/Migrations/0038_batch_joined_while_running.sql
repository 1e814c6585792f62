-- Conveyor PostgreSQL store, migration 0038: a job that names its batch joins it only while the batch runs.
--
-- The plain enqueue (EnqueueAsync, EnqueueManyAsync, the enqueue on the caller's connection) of a job with a batch id
-- checked only that the batch was its tenant's: a batch that had finished took the job into its total after its
-- outcome was decided (its callbacks already released), and one cancelled as a whole took a job that then ran. Such a
-- job is now refused as a missing batch (DependencyNotFound naming it), as AddToBatchAsync refuses the add, and as the
-- other stores do. flow_link() (of 0032) locks the batch only while it runs, and neither counts the member in one
-- that does not nor takes it out again; flow_link_in_order() (of 0024) sends a list naming such a batch to
-- flow_link(). Their bodies are otherwise those of 0032 and 0024.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0038_batch_joined_while_running.sql

CREATE OR REPLACE FUNCTION :"schema".flow_link(p_ids text[], p_depends jsonb[], p_batches text[], p_now timestamptz)
RETURNS TABLE (ord integer, state text, missing text) LANGUAGE plpgsql SET search_path = :"schema" AS $$
#variable_conflict use_column
DECLARE
    v_tenant text;
    v_missing text;
    v_failed text;
    v_fails boolean;
    v_unfinished integer;
    v_found boolean;
    v_finished boolean;
    v_succeeded boolean;
    v_state text;
    v_scheduled timestamptz;
    v_queue text;
    v_locked_batch text;
    v_locked_tenant text;
    v_marked text;
    v_link_ids text[];
    v_link_batch boolean[];
    v_link_success boolean[];
    v_link_fail boolean[];
    v_mark text[];
    d jsonb;
BEGIN
    -- Every member of the list counts in its batch's total before the first is linked: a member that finishes here
    -- (a dependency that already failed cancels it) must not finish its batch while members later in the list are
    -- still to come. A batch of another tenant, or one no longer running, is not counted (its member is refused
    -- below); the update locks the batches it counts in, so that none stops running before the loop checks it.
    UPDATE batches b SET total = b.total + m.members, updated_at = p_now
    FROM (SELECT x.batch, j.tenant, count(*)::int AS members
          FROM unnest(p_ids, p_batches) AS x (id, batch) JOIN jobs j ON j.id = x.id
          WHERE x.batch IS NOT NULL
          GROUP BY x.batch, j.tenant) m
    WHERE b.id = m.batch AND b.tenant = m.tenant AND b.state = 'running';

    FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        SELECT j.tenant, j.queue, j.scheduled_at INTO v_tenant, v_queue, v_scheduled FROM jobs j WHERE j.id = p_ids[i];
        v_missing := NULL;
        v_failed := NULL;
        v_fails := false;
        v_unfinished := 0;
        v_link_ids := '{}';
        v_link_batch := '{}';
        v_link_success := '{}';
        v_link_fail := '{}';
        v_mark := '{}';
        IF p_batches[i] IS NOT NULL
           AND (p_batches[i] IS DISTINCT FROM v_locked_batch OR v_tenant IS DISTINCT FROM v_locked_tenant) THEN
            PERFORM 1 FROM batches b WHERE b.id = p_batches[i] AND b.tenant = v_tenant AND b.state = 'running' FOR UPDATE;
            IF FOUND THEN
                v_locked_batch := p_batches[i];
                v_locked_tenant := v_tenant;
            ELSE
                v_missing := p_batches[i];
            END IF;
        END IF;
        IF v_missing IS NULL AND p_depends[i] IS NOT NULL THEN
            FOR d IN SELECT e FROM jsonb_array_elements(p_depends[i]) AS e LOOP
                IF (d ->> 2)::int = 1 THEN
                    SELECT true, b.finished_at IS NOT NULL, b.state = 'succeeded' INTO v_found, v_finished, v_succeeded
                    FROM batches b WHERE b.id = d ->> 0 AND b.tenant = v_tenant FOR UPDATE;
                ELSE
                    SELECT true, j.state IN ('succeeded', 'partial', 'failed', 'cancelled'), j.state IN ('succeeded', 'partial')
                    INTO v_found, v_finished, v_succeeded
                    FROM jobs j WHERE j.id = d ->> 0 AND j.tenant = v_tenant FOR UPDATE;
                END IF;
                IF NOT FOUND THEN
                    v_missing := d ->> 0;
                    EXIT;
                END IF;
                IF NOT v_finished THEN
                    v_link_ids := v_link_ids || (d ->> 0);
                    v_link_batch := v_link_batch || ((d ->> 2)::int = 1);
                    v_link_success := v_link_success || ((d ->> 1)::int >= 1);
                    v_link_fail := v_link_fail || ((d ->> 1)::int = 2);
                    IF (d ->> 2)::int = 0 THEN
                        v_mark := v_mark || (d ->> 0);
                    END IF;
                    v_unfinished := v_unfinished + 1;
                ELSIF (d ->> 1)::int >= 1 AND NOT v_succeeded AND v_failed IS NULL THEN
                    v_failed := d ->> 0;
                    v_fails := (d ->> 1)::int = 2;
                END IF;
            END LOOP;
        END IF;

        IF v_missing IS NOT NULL THEN
            -- Counted in its batch above (when the batch is the tenant's and runs, so found here): refused, it is not a
            -- member.
            IF p_batches[i] IS NOT NULL AND v_locked_batch IS NOT DISTINCT FROM p_batches[i] AND v_locked_tenant IS NOT DISTINCT FROM v_tenant THEN
                UPDATE batches SET total = total - 1, updated_at = p_now WHERE id = p_batches[i] AND tenant = v_tenant;
            END IF;
            DELETE FROM job_dependencies WHERE dependant = p_ids[i];
            DELETE FROM jobs WHERE id = p_ids[i];
            ord := i; state := NULL; missing := v_missing;
            RETURN NEXT;
            CONTINUE;
        END IF;

        IF v_failed IS NULL AND cardinality(v_link_ids) > 0 THEN
            INSERT INTO job_dependencies (dependency, on_batch, dependant, success_only, fail_if_unmet)
            SELECT l.dependency, l.on_batch, p_ids[i], l.success_only, l.fail_if_unmet
            FROM unnest(v_link_ids, v_link_batch, v_link_success, v_link_fail) AS l (dependency, on_batch, success_only, fail_if_unmet)
            ON CONFLICT DO NOTHING;
            IF cardinality(v_mark) > 1 OR (cardinality(v_mark) = 1 AND v_mark[1] IS DISTINCT FROM v_marked) THEN
                UPDATE jobs SET flow = true WHERE id = ANY (v_mark) AND NOT flow;
                v_marked := v_mark[cardinality(v_mark)];
            END IF;
        END IF;

        UPDATE jobs SET batch_id = p_batches[i], depends_on = p_depends[i], flow = flow OR p_batches[i] IS NOT NULL,
            waiting_for = CASE WHEN v_failed IS NULL THEN v_unfinished ELSE 0 END
        WHERE id = p_ids[i]
        RETURNING jobs.state INTO v_state;
        IF v_failed IS NOT NULL THEN
            UPDATE jobs SET state = CASE WHEN v_fails THEN 'failed' ELSE 'cancelled' END,
                completed_at = p_now, updated_at = p_now, unique_held = false,
                expires_at = p_now + CASE WHEN v_fails THEN coalesce(failed_retention, retention)
                                          ELSE coalesce(cancelled_retention, retention) END,
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', 0,
                    'message', CASE WHEN v_fails THEN 'Failed' ELSE 'Cancelled' END
                        || ' without running: ''' || v_failed || ''', which it waited for, did not succeed.',
                    'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
            WHERE id = p_ids[i];
            v_state := CASE WHEN v_fails THEN 'failed' ELSE 'cancelled' END;
        ELSIF v_state = 'waiting' AND v_unfinished = 0 THEN
            IF v_scheduled IS NOT NULL AND v_scheduled > p_now THEN
                UPDATE jobs SET state = 'scheduled' WHERE id = p_ids[i];
                v_state := 'scheduled';
            ELSE
                UPDATE jobs SET state = 'pending', enqueued_at = p_now WHERE id = p_ids[i];
                PERFORM pg_notify(current_schema() || '_jobs', v_queue);
                v_state := 'pending';
            END IF;
        END IF;
        ord := i; state := v_state; missing := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION :"schema".flow_link_in_order(p_ids text[], p_depends jsonb[], p_batches text[], p_now timestamptz)
RETURNS TABLE (ord integer, state text, missing text) LANGUAGE plpgsql SET search_path = :"schema" AS $$
#variable_conflict use_column
DECLARE
    v_jobs text[];
    v_batches text[];
BEGIN
    -- The jobs of the list are this transaction's own rows, which no other transaction sees: only the dependencies
    -- outside the list are locked. What was locked is kept: a dependency committed after these statements took their
    -- snapshot is seen by the later ones but not locked, so it could finish before its link exists; such a list goes
    -- to flow_link(), which locks each dependency as it reads it.
    SELECT coalesce(array_agg(l.id), '{}') INTO v_jobs
    FROM (SELECT j.id FROM jobs j
          WHERE j.id IN (SELECT e ->> 0 FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 0
                         EXCEPT SELECT unnest(p_ids))
          ORDER BY j.id
          FOR UPDATE) l;
    SELECT coalesce(array_agg(l.id), '{}') INTO v_batches
    FROM (SELECT b.id FROM batches b
          WHERE b.id IN (SELECT e ->> 0 FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 1
                         UNION
                         SELECT x FROM unnest(p_batches) AS x WHERE x IS NOT NULL)
          ORDER BY b.id
          FOR UPDATE) l;

    -- A job of the list ends or is refused as it is linked: its batch is not its tenant's or no longer runs, or one of
    -- its dependencies is missing in its tenant or finished; or something it names was not locked above.
    -- Each dependency is looked up by a scalar subquery, which runs as one index probe: as a NOT EXISTS or an outer
    -- join, PostgreSQL read every job of the tenant once per dependency (a hashed subplan, or a hash join over a scan).
    IF EXISTS (SELECT 1
               FROM unnest(p_ids, p_batches) AS x (id, batch)
               LEFT JOIN jobs j ON j.id = x.id
               LEFT JOIN batches b ON b.id = x.batch AND b.tenant = j.tenant
               WHERE j.id IS NULL OR (x.batch IS NOT NULL AND (b.id IS NULL OR b.state <> 'running' OR x.batch <> ALL (v_batches))))
       OR EXISTS (SELECT 1
                  FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e
                  WHERE CASE WHEN (e ->> 2)::int = 1 THEN e ->> 0 <> ALL (v_batches)
                             ELSE NOT EXISTS (SELECT 1 FROM unnest(p_ids || v_jobs) AS k (id) WHERE k.id = e ->> 0) END)
       OR EXISTS (SELECT 1
                  FROM unnest(p_ids, p_depends) AS x (id, deps)
                  JOIN jobs j ON j.id = x.id
                  CROSS JOIN LATERAL jsonb_array_elements(x.deps) AS e
                  WHERE NOT coalesce(CASE WHEN (e ->> 2)::int = 1
                      THEN (SELECT w.finished_at IS NULL FROM batches w WHERE w.id = e ->> 0 AND w.tenant = j.tenant)
                      ELSE (SELECT d.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled')
                            FROM jobs d WHERE d.id = e ->> 0 AND d.tenant = j.tenant) END, false)) THEN
        RETURN QUERY SELECT * FROM flow_link(p_ids, p_depends, p_batches, p_now);
        RETURN;
    END IF;

    UPDATE batches b SET total = b.total + m.members, updated_at = p_now
    FROM (SELECT x.batch, count(*)::int AS members FROM unnest(p_batches) AS x (batch) WHERE x.batch IS NOT NULL GROUP BY x.batch) m
    WHERE b.id = m.batch;
    INSERT INTO job_dependencies (dependency, on_batch, dependant, success_only, fail_if_unmet)
    SELECT e ->> 0, (e ->> 2)::int = 1, x.id, (e ->> 1)::int >= 1, (e ->> 1)::int = 2
    FROM unnest(p_ids, p_depends) AS x (id, deps), jsonb_array_elements(x.deps) AS e
    ON CONFLICT DO NOTHING;
    UPDATE jobs d SET flow = true
    WHERE d.id IN (SELECT e ->> 0 FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 0
                   EXCEPT SELECT unnest(p_ids))
      AND NOT d.flow;
    -- Every dependency is unfinished, so a job with dependencies stays waiting for all of them (counted as flow_link()
    -- counts them, one per element) and one without keeps the state it was inserted in. A job of the list that another
    -- one waits for is flagged here, in the same row version.
    RETURN QUERY
    UPDATE jobs j SET batch_id = x.batch, depends_on = x.deps, flow = j.flow OR x.batch IS NOT NULL OR m.id IS NOT NULL,
        waiting_for = coalesce(jsonb_array_length(x.deps), 0)
    FROM unnest(p_ids, p_depends, p_batches) WITH ORDINALITY AS x (id, deps, batch, o)
    LEFT JOIN (SELECT DISTINCT e ->> 0 AS id
               FROM unnest(p_depends) AS w (deps), jsonb_array_elements(w.deps) AS e WHERE (e ->> 2)::int = 0) m ON m.id = x.id
    WHERE j.id = x.id
    RETURNING x.o::int, j.state, NULL::text;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (38, '0038_batch_joined_while_running') ON CONFLICT (version) DO NOTHING;
