-- Conveyor PostgreSQL store, migration 0027: an acknowledgement that hands off what it releases leases the released
-- job in the UPDATE that releases it, instead of releasing it to pending and dequeuing it after.
--
-- Until now the hand-off (PostgresJobStore.AcknowledgeAndTakeReleasedAsync) ran dequeue() after the acknowledging
-- statement whenever flow_resolve_links() had released a job (migrations 0021, 0026): a second UPDATE of the job's row,
-- with its own statement triggers, and the release's NOTIFY woke every fetcher for a job already taken. psql,
-- track_functions, one session: that dequeue() cost 0.3-0.45 ms of an acknowledgement that releases a continuation,
-- its UPDATE's triggers 0.15 ms more.
--
-- Now the acknowledging batch first names what it would take in the transaction-local setting conveyor.flow_take
-- (jsonb: queues, limit, owner, until). flow_resolve_links() reads it once per call and, for a dependant whose last
-- dependency this was, leases it in the count's UPDATE (state active, attempt counted, lease to that owner until then,
-- as dequeue() leases) when its queue is one of them, is not paused, has no pending job (a released job is not taken
-- ahead of older ones: it would be the next of its queue) and the limit is not reached; it adds the row version it
-- wrote to conveyor.flow_taken (a tid[]), which the batch reads after the acknowledging statement, a TID scan per
-- row (one page each). By id, `id = ANY (…)` was planned as a sequential scan while the table was new, and a prepared
-- statement keeps its plan until the table's statistics change. The row cannot change in between: this transaction
-- holds its lock, and nothing else in the transaction updates an active job. Any other released job is pending and
-- notified as before. Without conveyor.flow_take (every other caller) nothing changes.
-- Conveyor.Bench --scenario workflows --store postgres, binaries without and with this migration alternately, two runs
-- each, tables analyzed: the store alone, a continuation's acknowledgement with the next job leased 1.31-1.39 ->
-- 1.22-1.26 ms; in a server, a batch's callback from its last member's end 5.8-5.9 -> 4.9-5.2 ms, and from the
-- acknowledgement's return to the released job's start 0.12-0.20 -> 0.04-0.07 ms.
-- The decision stays on the row version the UPDATE writes (its count before the UPDATE, as in 0026), so two
-- transactions that finish a dependant's last two dependencies still release it once.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0027_flow_take_in_release.sql

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
            RETURNING j.ctid AS row_version, j.state, j.queue INTO v;
            IF FOUND AND v.state = 'pending' THEN
                PERFORM pg_notify(current_schema() || '_jobs', v.queue);
                PERFORM set_config('conveyor.flow_released', 'on', true);
            ELSIF FOUND AND v.state = 'active' THEN
                v_taken := v_taken || v.row_version;
                v_room := v_room - 1;
                PERFORM set_config('conveyor.flow_taken', v_taken::text, true);
            END IF;
        END IF;
    END LOOP;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (27, '0027_flow_take_in_release') ON CONFLICT (version) DO NOTHING;
