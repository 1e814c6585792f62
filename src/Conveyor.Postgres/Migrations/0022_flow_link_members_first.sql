-- Conveyor PostgreSQL store, migration 0022: flow_link() counts every batch member of the list it links in its
-- batch's total before it links the first.
--
-- 0019 added a run of members to the total when the run ended, or just before something read the totals or finished
-- a job, which kept the totals as they would be had the jobs been stored one by one. One by one is the wrong model for
-- a list: a member cancelled as it is stored (it waits for the success of a job that already failed) was counted as
-- finished against a total that lacked the members after it, so a batch whose first member was cancelled that way
-- finished there, before its other members ran, and released its complete callback early (and cancelled its success
-- callback). Now one UPDATE per batch counts all of the list's members of that batch first (of the member's tenant
-- only, so another tenant's batch is never touched), and a member refused later (a dependency or its batch missing
-- in its tenant) is taken out of the total again as it is deleted. The batches so counted are locked by that UPDATE
-- for the rest of the transaction, as the FOR UPDATE of each run locked them. Nothing else changes.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0022_flow_link_members_first.sql

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

INSERT INTO :"schema".schema_migrations (version, name) VALUES (22, '0022_flow_link_members_first') ON CONFLICT (version) DO NOTHING;
