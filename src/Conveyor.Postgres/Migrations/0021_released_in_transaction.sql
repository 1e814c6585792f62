-- Conveyor PostgreSQL store, migration 0021: a transaction that releases a waiting job says so, for the acknowledgement
-- that hands the released job to the server that released it.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0021_released_in_transaction.sql
--
-- flow_resolve() (0017) is unchanged but for one line: when it makes a dependant pending, it also sets the
-- transaction-local setting conveyor.flow_released to 'on' (set_config(…, true) ends with the transaction). The
-- acknowledgement of a server that asks for released jobs (PostgresJobStore.AcknowledgeAndTakeReleasedAsync) runs its
-- dequeue after the acknowledging statement, in the same transaction, only while that setting is 'on': an acknowledgement
-- that released nothing runs no dequeue. The NOTIFY is still sent, so every other server wakes as before, and the
-- atomicity argument of 0015 holds as it was (the dequeue is an ordinary dequeue, FOR UPDATE SKIP LOCKED, in the
-- transaction that released the job).

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
                    PERFORM set_config('conveyor.flow_released', 'on', true);
                END IF;
            END IF;
        END IF;
    END LOOP;
END
$$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (21, '0021_released_in_transaction') ON CONFLICT (version) DO NOTHING;
