-- Conveyor PostgreSQL store, migration 0019: what a workflow costs per job, with the atomicity argument of 0015 kept.
--
-- 1. A finishing flagged job's flag is cleared by a BEFORE trigger on the row being written (NEW.flow := false)
--    instead of a second UPDATE of that row from the AFTER trigger. That UPDATE wrote a second version of the job's
--    row and ran the queue counts' statement trigger (0007) once more for every batch member or dependency that
--    finished: an acknowledgement of 80 batch members ran 80 more statements and their triggers. The AFTER trigger
--    now fires on OLD.flow (the flag as it was before the statement), so it fires exactly when it did: a flagged job
--    moving from an unfinished state to a finished one, once (its flag is false afterwards, so a manual retry of a
--    finished member is not counted again). Nothing else about the finishing step changes: the batch's counts are
--    one row updated with counts + 1 … RETURNING, so concurrent finishes serialise on that row and only the last sees
--    the total; a waiting job's counter is decremented the same way.
-- 2. flow_link() stores a list of workflow jobs with fewer statements: the batch is locked and checked once for the
--    run of jobs that belong to it, the batch's total grows by one UPDATE per run of members rather than one per job
--    (made before anything reads the batch's totals or finishes a job, so every count and finish sees the same totals
--    as one by one), each job's links are one INSERT and its unfinished dependencies one UPDATE of their flag (the
--    flag set just before is not set again), rather than one of each per dependency. A job's own link step keeps a
--    flag an earlier job of the same list set on it (flow = flow OR …).
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0019_flow_costs.sql

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finishing() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    -- Counted once: the AFTER trigger below sees OLD.flow; the row is written with the flag cleared.
    NEW.flow := false;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION :"schema".jobs_flow_finished() RETURNS trigger LANGUAGE plpgsql SET search_path = :"schema" AS $$
BEGIN
    PERFORM flow_finished(NEW.id, NEW.batch_id, NEW.state, NEW.updated_at);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_flow_finishing ON :"schema".jobs;
CREATE TRIGGER jobs_flow_finishing BEFORE UPDATE OF state ON :"schema".jobs
FOR EACH ROW
WHEN (NEW.flow AND NEW.state IN ('succeeded', 'partial', 'failed', 'cancelled')
      AND OLD.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled'))
EXECUTE FUNCTION :"schema".jobs_flow_finishing();

DROP TRIGGER IF EXISTS jobs_flow_finished ON :"schema".jobs;
CREATE TRIGGER jobs_flow_finished AFTER UPDATE OF state ON :"schema".jobs
FOR EACH ROW
WHEN (OLD.flow AND NEW.state IN ('succeeded', 'partial', 'failed', 'cancelled')
      AND OLD.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled'))
EXECUTE FUNCTION :"schema".jobs_flow_finished();

-- Links jobs an enqueue has just inserted to what they wait for, inside the enqueue's transaction, as 0017 did;
-- p_depends[i] is [[id, success_only, on_batch], …] with success_only 0 (any outcome), 1 (else cancelled) or 2 (else
-- failed).
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
    v_count_batch text;
    v_count integer := 0;
    v_marked text;
    v_link_ids text[];
    v_link_batch boolean[];
    v_link_success boolean[];
    v_link_fail boolean[];
    v_mark text[];
    d jsonb;
BEGIN
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
                    -- The batch's totals are read: the members of this list counted so far must be in them.
                    IF v_count > 0 THEN
                        UPDATE batches SET total = total + v_count, updated_at = p_now WHERE id = v_count_batch;
                        v_count := 0;
                    END IF;
                    SELECT true, b.finished_at IS NOT NULL, b.succeeded = b.total INTO v_found, v_finished, v_succeeded
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

        IF v_count > 0 AND (v_missing IS NOT NULL OR v_failed IS NOT NULL OR p_batches[i] IS DISTINCT FROM v_count_batch) THEN
            -- Before a delete or a cancel below finishes anything, and when the run of members of one batch ends.
            UPDATE batches SET total = total + v_count, updated_at = p_now WHERE id = v_count_batch;
            v_count := 0;
        END IF;

        IF v_missing IS NOT NULL THEN
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
        IF p_batches[i] IS NOT NULL THEN
            v_count_batch := p_batches[i];
            v_count := v_count + 1;
        END IF;
        IF v_failed IS NOT NULL THEN
            -- The batch counts this job before the cancel below counts it as finished, as it would one by one.
            IF v_count > 0 THEN
                UPDATE batches SET total = total + v_count, updated_at = p_now WHERE id = v_count_batch;
                v_count := 0;
            END IF;
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

    IF v_count > 0 THEN
        UPDATE batches SET total = total + v_count, updated_at = p_now WHERE id = v_count_batch;
    END IF;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (19, '0019_flow_costs') ON CONFLICT (version) DO NOTHING;
