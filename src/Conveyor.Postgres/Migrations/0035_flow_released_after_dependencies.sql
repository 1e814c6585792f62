-- Conveyor PostgreSQL store, migration 0035: a job released by an acknowledgement is stamped released, and leased in
-- the hand-off, no earlier than the latest end of what it waited for.
--
-- Every store call takes its time when it begins. Two acknowledgements in flight at once (two servers, or one server's
-- calls after a recovery): X, at tX, finishes dependency A; Y, at tY < tX, finishes dependency B and, committing after
-- X (it waited for the lock X held on the dependant's row), releases the dependant with enqueued_at = tY and, in the
-- hand-off (0027), leases it with started_at = tY: before A's completed_at. The job did run after its dependencies;
-- only the stored times disagreed, which the Jobs API and the dashboard show.
-- Now flow_resolve_links(), when its UPDATE released a job (pending, or active when taken), reads the latest
-- completed_at of the jobs and finished_at of the batches in its depends_on, in a statement of its own: the UPDATE's
-- snapshot predates X's commit, its EvalPlanQual recheck sees only the row it waits for, a later statement sees X. When
-- that time is after p_now (rare: the clocks or the commits disagree) the job's enqueued_at, updated_at and, when
-- taken, started_at become it, in an UPDATE by the row version just written (whose new version goes to
-- conveyor.flow_taken instead). A dependency that still counts down, a cancelled dependant and every plain job's
-- acknowledgement are unchanged; a release pays one SELECT of its dependencies' rows by primary key.
-- Only the function changes; the body is 0027's otherwise.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0035_flow_released_after_dependencies.sql

CREATE OR REPLACE FUNCTION :"schema".flow_resolve_links(p_dependency text, p_on_batch boolean, p_succeeded boolean, p_now timestamptz)
RETURNS TABLE (id text, batch_id text, state text, at timestamptz) LANGUAGE plpgsql SET search_path = :"schema" AS $$
#variable_conflict use_column
DECLARE
    r record;
    v record;
    v_take jsonb;
    v_taken tid[];
    v_room integer;
    v_open text[];
    v_at timestamptz;
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
            -- The queues that may take a released job now, found once per call and only when a server asked.
            IF v_open IS NULL THEN
                v_take := nullif(current_setting('conveyor.flow_take', true), '')::jsonb;
                v_taken := coalesce(nullif(current_setting('conveyor.flow_taken', true), '')::tid[], '{}');
                v_room := coalesce((v_take ->> 'limit')::integer, 0) - cardinality(v_taken);
                v_open := '{}';
                IF v_room > 0 THEN
                    -- The pending probe is a scalar subquery, one index probe per queue: as NOT EXISTS it may be
                    -- planned as an anti-join hashing every pending job of the store.
                    v_open := ARRAY(
                        SELECT q FROM jsonb_array_elements_text(v_take -> 'queues') AS q
                        WHERE NOT EXISTS (SELECT 1 FROM queues p WHERE p.name = q AND p.paused)
                          AND (SELECT 1 FROM jobs p WHERE p.state = 'pending' AND p.queue = q LIMIT 1) IS NULL);
                END IF;
            END IF;

            -- The count before this UPDATE decides: at 1 (or less) this was the last dependency.
            UPDATE jobs j SET (waiting_for, updated_at, state, enqueued_at, attempts, started_at, lease_token,
                               lease_owner, lease_expires_at, cancel_requested) = (
                SELECT j.waiting_for - 1, p_now,
                       CASE WHEN NOT x.last THEN j.state WHEN x.later THEN 'scheduled' WHEN x.take THEN 'active' ELSE 'pending' END,
                       CASE WHEN x.last AND NOT x.later THEN p_now ELSE j.enqueued_at END,
                       CASE WHEN x.take THEN j.attempts + 1 ELSE j.attempts END,
                       CASE WHEN x.take THEN p_now ELSE j.started_at END,
                       CASE WHEN x.take THEN nextval('lease_tokens') ELSE j.lease_token END,
                       CASE WHEN x.take THEN v_take ->> 'owner' ELSE j.lease_owner END,
                       CASE WHEN x.take THEN (v_take ->> 'until')::timestamptz ELSE j.lease_expires_at END,
                       CASE WHEN x.take THEN false ELSE j.cancel_requested END
                FROM (SELECT c.last, c.later, c.last AND NOT c.later AND v_room > 0 AND j.queue = ANY (v_open) AS take
                      FROM (SELECT j.waiting_for <= 1 AS last, coalesce(j.scheduled_at > p_now, false) AS later) c) x)
            WHERE j.id = r.dependant AND j.state = 'waiting'
            RETURNING j.ctid AS row_version, j.state, j.queue, j.depends_on INTO v;
            IF FOUND AND v.state IN ('pending', 'active') THEN
                -- A statement of its own, so that it sees what committed while the UPDATE waited for the row's lock.
                SELECT max(e.at) INTO v_at FROM (
                    SELECT d.completed_at AS at FROM jsonb_array_elements(v.depends_on) l
                    JOIN jobs d ON d.id = l ->> 0 WHERE (l ->> 2)::integer = 0
                    UNION ALL
                    SELECT b.finished_at FROM jsonb_array_elements(v.depends_on) l
                    JOIN batches b ON b.id = l ->> 0 WHERE (l ->> 2)::integer = 1) e;
                IF v_at > p_now THEN
                    UPDATE jobs j SET enqueued_at = v_at, updated_at = v_at,
                                      started_at = CASE WHEN j.state = 'active' THEN v_at ELSE j.started_at END
                    WHERE j.ctid = v.row_version
                    RETURNING j.ctid INTO v.row_version;
                END IF;
                IF v.state = 'pending' THEN
                    PERFORM pg_notify(current_schema() || '_jobs', v.queue);
                    PERFORM set_config('conveyor.flow_released', 'on', true);
                ELSE
                    v_taken := v_taken || v.row_version;
                    v_room := v_room - 1;
                    PERFORM set_config('conveyor.flow_taken', v_taken::text, true);
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (35, '0035_flow_released_after_dependencies') ON CONFLICT (version) DO NOTHING;
