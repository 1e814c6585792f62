-- Conveyor PostgreSQL store, migration 0017: a waiting job may ask to be failed, rather than cancelled, when a
-- success-only dependency does not succeed (ContinuationCondition.SucceededElseFail, JobDependency.FailIfUnmet).
-- job_dependencies gains fail_if_unmet; flow_resolve() (run by the finishing trigger of 0015) fails those dependants
-- (state 'failed', the failed retention, an error naming the dependency) in the same transaction, and their own
-- dependants follow through the same trigger, as a cancelled one's do. flow_link() reads the policy from the
-- enqueue's dependency list, where success_only is 2 for it, and applies it at once to a dependency already finished.
-- Nothing else changes: the atomicity argument of 0015 holds as it was.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0017_dependency_failure.sql

ALTER TABLE :"schema".job_dependencies ADD COLUMN IF NOT EXISTS fail_if_unmet boolean NOT NULL DEFAULT false;

-- Resolves the links of a finished job or batch: success-only dependants of something that did not succeed are
-- cancelled, or failed when their link says fail_if_unmet (their own dependants follow through the trigger); the
-- others count one dependency less and are released (pending, or scheduled while their process-at is ahead) at 0.
CREATE OR REPLACE FUNCTION :"schema".flow_resolve(p_dependency text, p_on_batch boolean, p_succeeded boolean, p_now timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = :"schema" AS $$
DECLARE
    r record;
    v record;
BEGIN
    FOR r IN
        DELETE FROM job_dependencies WHERE dependency = p_dependency AND on_batch = p_on_batch
        RETURNING dependant, success_only, fail_if_unmet
    LOOP
        IF r.success_only AND NOT p_succeeded THEN
            UPDATE jobs SET state = CASE WHEN r.fail_if_unmet THEN 'failed' ELSE 'cancelled' END,
                completed_at = p_now, updated_at = p_now, unique_held = false,
                expires_at = p_now + CASE WHEN r.fail_if_unmet THEN coalesce(failed_retention, retention)
                                          ELSE coalesce(cancelled_retention, retention) END,
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempts,
                    'message', CASE WHEN r.fail_if_unmet THEN 'Failed' ELSE 'Cancelled' END
                        || ' without running: ''' || p_dependency || ''', which it waited for, did not succeed.',
                    'exception_type', NULL, 'item', NULL,
                    'occurred_at', to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
            WHERE id = r.dependant AND state = 'waiting';
        ELSE
            UPDATE jobs SET waiting_for = waiting_for - 1, updated_at = p_now
            WHERE id = r.dependant AND state = 'waiting'
            RETURNING waiting_for, queue, scheduled_at INTO v;
            IF FOUND AND v.waiting_for <= 0 THEN
                IF v.scheduled_at IS NOT NULL AND v.scheduled_at > p_now THEN
                    UPDATE jobs SET state = 'scheduled' WHERE id = r.dependant;
                ELSE
                    UPDATE jobs SET state = 'pending', enqueued_at = p_now WHERE id = r.dependant;
                    PERFORM pg_notify(current_schema() || '_jobs', v.queue);
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$$;

-- Links jobs an enqueue has just inserted to what they wait for, inside the enqueue's transaction, as 0015 did;
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
    d jsonb;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        SELECT j.tenant, j.queue, j.scheduled_at INTO v_tenant, v_queue, v_scheduled FROM jobs j WHERE j.id = p_ids[i];
        v_missing := NULL;
        v_failed := NULL;
        v_fails := false;
        v_unfinished := 0;
        IF p_batches[i] IS NOT NULL THEN
            PERFORM 1 FROM batches b WHERE b.id = p_batches[i] AND b.tenant = v_tenant FOR UPDATE;
            IF NOT FOUND THEN
                v_missing := p_batches[i];
            END IF;
        END IF;
        IF v_missing IS NULL AND p_depends[i] IS NOT NULL THEN
            FOR d IN SELECT e FROM jsonb_array_elements(p_depends[i]) AS e LOOP
                IF (d ->> 2)::int = 1 THEN
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
                    INSERT INTO job_dependencies (dependency, on_batch, dependant, success_only, fail_if_unmet)
                    VALUES (d ->> 0, (d ->> 2)::int = 1, p_ids[i], (d ->> 1)::int >= 1, (d ->> 1)::int = 2)
                    ON CONFLICT DO NOTHING;
                    IF (d ->> 2)::int = 0 THEN
                        UPDATE jobs SET flow = true WHERE id = d ->> 0 AND NOT flow;
                    END IF;
                    v_unfinished := v_unfinished + 1;
                ELSIF (d ->> 1)::int >= 1 AND NOT v_succeeded AND v_failed IS NULL THEN
                    v_failed := d ->> 0;
                    v_fails := (d ->> 1)::int = 2;
                END IF;
            END LOOP;
        END IF;

        IF v_missing IS NOT NULL THEN
            DELETE FROM job_dependencies WHERE dependant = p_ids[i];
            DELETE FROM jobs WHERE id = p_ids[i];
            ord := i; state := NULL; missing := v_missing;
            RETURN NEXT;
            CONTINUE;
        END IF;

        UPDATE jobs SET batch_id = p_batches[i], depends_on = p_depends[i], flow = p_batches[i] IS NOT NULL,
            waiting_for = v_unfinished
        WHERE id = p_ids[i]
        RETURNING jobs.state INTO v_state;
        IF p_batches[i] IS NOT NULL THEN
            UPDATE batches SET total = total + 1, updated_at = p_now WHERE id = p_batches[i];
        END IF;
        IF v_failed IS NOT NULL THEN
            DELETE FROM job_dependencies WHERE dependant = p_ids[i];
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

INSERT INTO :"schema".schema_migrations (version, name) VALUES (17, '0017_dependency_failure') ON CONFLICT (version) DO NOTHING;
