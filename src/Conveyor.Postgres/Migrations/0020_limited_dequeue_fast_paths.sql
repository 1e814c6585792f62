-- Conveyor PostgreSQL store, migration 0020: dequeue_limited() of 0009 made cheap when no limit is near, and when a
-- limit over a whole queue is full.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0020_limited_dequeue_fast_paths.sql
--
-- Same signature, locks and answers as 0009; two changes, each exact:
-- * Far from every limit: every limit counts a part of its queue's active jobs, and one call takes at most p_limit jobs
--   of a queue, so when a queue's active jobs plus p_limit stay within the smallest maximum of its limits, no limit of
--   it can be reached by this call, and the queue is taken as an unlimited one (one count under the lock, instead of the
--   count per limit and partition and the job-by-job choice).
-- * A limit over a whole queue (every type, not per tenant) that is full ends the look at that queue's candidates: no
--   job behind can fit, so a dequeue at a hit limit no longer reads p_depth jobs to take none.
-- A request naming one queue no longer comes here while its queue is far from its limits (PostgresJobStore: the lock,
-- then one statement that counts and takes, calling this function only when the count is near a limit).
SELECT set_config('conveyor.migration_schema', :'schema', false);

DO $do$
BEGIN
EXECUTE format($function$
CREATE OR REPLACE FUNCTION %1$I.dequeue_limited(
    p_queues           text[],
    p_quotas           integer[],
    p_limit            integer,
    p_owner            text,
    p_now              timestamptz,
    p_lease_expires_at timestamptz,
    l_queues           text[],
    l_types            text[],
    l_per_tenant       boolean[],
    l_max              integer[],
    p_depth            integer)
RETURNS SETOF %1$I.jobs
LANGUAGE plpgsql
AS $body$
DECLARE
    v_paused    text[];
    v_taken     integer := 0;
    v_want      integer;
    v_count     integer;
    v_done      boolean[];
    v_running   jsonb := '{}';
    v_ids       text[];
    v_fits      boolean;
    v_key       text;
    v_job       record;
    v_queue     text;
    v_far       text[];
    v_stop      boolean;
BEGIN
    FOR v_queue IN SELECT DISTINCT q FROM unnest(l_queues) q ORDER BY q LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('conveyor.limits:%1$s:' || v_queue, 0));
    END LOOP;

    -- The limited queues far from every limit of theirs: taken below as unlimited ones.
    SELECT coalesce(array_agg(m.queue), '{}') INTO v_far
    FROM (
        SELECT l_queues[l.i] AS queue, min(l_max[l.i]) AS smallest
        FROM generate_subscripts(l_queues, 1) AS l(i)
        GROUP BY 1
    ) m
    WHERE (SELECT count(*) FROM %1$I.jobs j WHERE j.state = 'active' AND j.queue = m.queue) + p_limit <= m.smallest;

    -- Running jobs per limit and partition: "limit index|tenant" (tenant empty for a limit not per tenant), for the
    -- queues near a limit only.
    IF coalesce(array_length(v_far, 1), 0) < (SELECT count(DISTINCT q) FROM unnest(l_queues) q) THEN
        SELECT coalesce(jsonb_object_agg(k, n), '{}') INTO v_running
        FROM (
            SELECT l.i || '|' || CASE WHEN l_per_tenant[l.i] THEN j.tenant ELSE '' END AS k, count(*) AS n
            FROM generate_subscripts(l_queues, 1) AS l(i)
            JOIN %1$I.jobs j ON j.state = 'active' AND j.queue = l_queues[l.i] AND (l_types[l.i] IS NULL OR j.type = l_types[l.i])
            WHERE NOT (l_queues[l.i] = ANY (v_far))
            GROUP BY 1
        ) counted;
    END IF;

    SELECT coalesce(array_agg(q.name), '{}') INTO v_paused FROM %1$I.queues q WHERE q.paused;
    v_done := array_fill(false, ARRAY[coalesce(array_length(p_queues, 1), 0)]);
    FOR v_pass IN 1..2 LOOP
        FOR v_i IN 1..coalesce(array_length(p_queues, 1), 0) LOOP
            v_want := p_limit - v_taken;
            IF v_pass = 1 THEN
                v_want := least(v_want, p_quotas[v_i]);
            END IF;
            CONTINUE WHEN v_want <= 0 OR v_done[v_i] OR p_queues[v_i] = ANY (v_paused);

            IF p_queues[v_i] = ANY (l_queues) AND NOT (p_queues[v_i] = ANY (v_far)) THEN
                -- Choose, in queue order, the jobs that fit every limit that matches them, counting each as it is chosen.
                v_ids := '{}';
                v_stop := false;
                FOR v_job IN
                    SELECT j.id, j.type, j.tenant FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT p_depth
                LOOP
                    EXIT WHEN coalesce(array_length(v_ids, 1), 0) >= v_want;
                    v_fits := true;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        IF coalesce((v_running ->> v_key)::integer, 0) >= l_max[v_l] THEN
                            v_fits := false;
                            -- A full limit over the whole queue: no job behind this one fits either.
                            v_stop := l_types[v_l] IS NULL AND NOT l_per_tenant[v_l];
                            EXIT;
                        END IF;
                    END LOOP;
                    EXIT WHEN v_stop;
                    CONTINUE WHEN NOT v_fits;
                    FOR v_l IN 1..array_length(l_queues, 1) LOOP
                        CONTINUE WHEN l_queues[v_l] <> p_queues[v_i] OR (l_types[v_l] IS NOT NULL AND l_types[v_l] <> v_job.type);
                        v_key := v_l || '|' || CASE WHEN l_per_tenant[v_l] THEN v_job.tenant ELSE '' END;
                        v_running := v_running || jsonb_build_object(v_key, coalesce((v_running ->> v_key)::integer, 0) + 1);
                    END LOOP;
                    v_ids := v_ids || v_job.id;
                END LOOP;

                -- A chosen job another (unlimited) dequeue took meanwhile is skipped: the counts only err on the safe side.
                RETURN QUERY
                WITH picked AS (
                    SELECT j.id FROM %1$I.jobs j
                    WHERE j.id = ANY (v_ids) AND j.state = 'pending'
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = p_now,
                        updated_at = p_now,
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
            ELSE
                RETURN QUERY
                WITH picked AS (
                    SELECT j.id
                    FROM %1$I.jobs j
                    WHERE j.state = 'pending' AND j.queue = p_queues[v_i]
                    ORDER BY j.enqueued_at, j.seq
                    LIMIT v_want
                    FOR UPDATE SKIP LOCKED
                ), leased AS (
                    UPDATE %1$I.jobs j
                    SET state = 'active',
                        attempts = j.attempts + 1,
                        started_at = p_now,
                        updated_at = p_now,
                        lease_token = nextval('%1$I.lease_tokens'),
                        lease_owner = p_owner,
                        lease_expires_at = p_lease_expires_at,
                        cancel_requested = false
                    FROM picked
                    WHERE j.id = picked.id
                    RETURNING j.*
                )
                SELECT * FROM leased ORDER BY leased.enqueued_at, leased.seq;
            END IF;

            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_taken := v_taken + v_count;
            -- A queue that gave fewer than asked has nothing more for this dequeue.
            v_done[v_i] := v_count < v_want;
        END LOOP;
        EXIT WHEN v_taken >= p_limit;
    END LOOP;
END
$body$
$function$, current_setting('conveyor.migration_schema'));
END
$do$;

INSERT INTO :"schema".schema_migrations (version, name) VALUES (20, '0020_limited_dequeue_fast_paths') ON CONFLICT (version) DO NOTHING;
