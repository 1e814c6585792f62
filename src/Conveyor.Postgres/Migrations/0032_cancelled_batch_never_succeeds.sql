-- Conveyor PostgreSQL store, migration 0032: a batch cancelled as a whole never succeeds.
--
-- IWorkflowStore.CancelBatchAsync leaves a batch 'cancelled', and it finishes once its members have. A running member
-- can still succeed after the cancel (it finished its work before it saw the request), and when every member had, the
-- batch's success callbacks ran: the caller had said the batch's outcome was not wanted and was answered that it was
-- cancelled. Now a batch's success is "it ended 'succeeded'": a cancelled batch resolves its success callbacks as not
-- met (cancelled, or failed for SucceededElseFail) when it finishes, and its complete callbacks still run. The three
-- functions that decide it change only there: jobs_flow_finished() (the body of 0029) and flow_finished() (of 0015,
-- for a member deleted before it finished) when the batch finishes, and flow_link() (of 0022) for a continuation added
-- to a batch that had finished.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0032_cancelled_batch_never_succeeds.sql

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
            updated_at = p_now
        WHERE id = p_batch
        RETURNING * INTO b;
        IF FOUND AND b.finished_at IS NULL AND b.succeeded + b.failed + b.cancelled >= b.total THEN
            UPDATE batches SET finished_at = p_now, expires_at = p_now + retention,
                state = CASE WHEN state <> 'running' THEN state WHEN b.succeeded = b.total THEN 'succeeded' ELSE 'completed' END
            WHERE id = p_batch;
            PERFORM flow_resolve(p_batch, true, b.succeeded = b.total AND b.state = 'running', p_now);
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
                v_done_ok := v_done_ok || (b.succeeded = b.total AND b.state = 'running');
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
    -- still to come. A batch of another tenant is not counted (its member is refused below).
    UPDATE batches b SET total = b.total + m.members, updated_at = p_now
    FROM (SELECT x.batch, j.tenant, count(*)::int AS members
          FROM unnest(p_ids, p_batches) AS x (id, batch) JOIN jobs j ON j.id = x.id
          WHERE x.batch IS NOT NULL
          GROUP BY x.batch, j.tenant) m
    WHERE b.id = m.batch AND b.tenant = m.tenant;

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
            PERFORM 1 FROM batches b WHERE b.id = p_batches[i] AND b.tenant = v_tenant FOR UPDATE;
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
            -- Counted in its batch above (when the batch is the tenant's): refused, it is not a member.
            IF p_batches[i] IS NOT NULL THEN
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

INSERT INTO :"schema".schema_migrations (version, name) VALUES (32, '0032_cancelled_batch_never_succeeds') ON CONFLICT (version) DO NOTHING;
